package githubfake

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"time"
	"unicode/utf8"
)

func (c *call) refJSON(r *repository, ref, sha string) map[string]any {
	return map[string]any{
		"ref":     ref,
		"node_id": "REF_" + sha[:12],
		"url":     c.repoURL(r) + "/git/" + ref,
		"object": map[string]any{
			"type": "commit",
			"sha":  sha,
			"url":  c.repoURL(r) + "/git/commits/" + sha,
		},
	}
}

func sigJSON(s signature) map[string]any {
	return map[string]any{"name": s.name, "email": s.email, "date": s.date.Format(time.RFC3339)}
}

func (c *call) commitJSON(r *repository, commit *commitObject) map[string]any {
	parents := []map[string]any{}
	for _, p := range commit.parents {
		parents = append(parents, map[string]any{"sha": p, "url": c.repoURL(r) + "/git/commits/" + p})
	}
	return map[string]any{
		"sha":          commit.sha,
		"node_id":      "C_" + commit.sha[:12],
		"url":          c.repoURL(r) + "/git/commits/" + commit.sha,
		"html_url":     "https://github.com/" + r.fullName() + "/commit/" + commit.sha,
		"author":       sigJSON(commit.author),
		"committer":    sigJSON(commit.committer),
		"message":      commit.message,
		"tree":         map[string]any{"sha": commit.tree, "url": c.repoURL(r) + "/git/trees/" + commit.tree},
		"parents":      parents,
		"verification": map[string]any{"verified": false, "reason": "unsigned", "signature": nil, "payload": nil},
	}
}

// getRef serves GET git/ref/{ref} and git/refs/{ref} for an exact ref.
func (s *Server) getRef(c *call) {
	r, ok := c.repo()
	if !ok || !c.need("contents", Read) {
		return
	}
	ref := "refs/" + c.r.PathValue("ref")
	sha, ok := r.git.refs[ref]
	if !ok {
		c.notFound()
		return
	}
	c.json(http.StatusOK, c.refJSON(r, ref, sha))
}

type createRefRequest struct {
	Ref *string `json:"ref"`
	SHA *string `json:"sha"`
}

func (s *Server) createRef(c *call) {
	r, ok := c.repo()
	if !ok || !c.need("contents", Write) {
		return
	}
	var req createRefRequest
	if !c.decode(&req) {
		return
	}
	switch {
	case req.Ref == nil:
		c.missing("ref")
		return
	case req.SHA == nil:
		c.missing("sha")
		return
	case !strings.HasPrefix(*req.Ref, "refs/") || strings.Count(*req.Ref, "/") < 2 || !validPath(*req.Ref):
		c.invalid("%q is not a fully qualified reference name (refs/heads/<branch>).", *req.Ref)
		return
	}
	if _, exists := r.git.refs[*req.Ref]; exists {
		c.fail(http.StatusUnprocessableEntity, "Reference already exists")
		return
	}
	if _, known := r.git.commits[*req.SHA]; !known {
		c.fail(http.StatusUnprocessableEntity, "Object does not exist")
		return
	}
	r.git.refs[*req.Ref] = *req.SHA
	c.json(http.StatusCreated, c.refJSON(r, *req.Ref, *req.SHA))
}

type updateRefRequest struct {
	SHA   *string `json:"sha"`
	Force *bool   `json:"force"`
}

// updateRef moves a ref. Without force, the new commit must descend from
// the old one.
func (s *Server) updateRef(c *call) {
	r, ok := c.repo()
	if !ok || !c.need("contents", Write) {
		return
	}
	var req updateRefRequest
	if !c.decode(&req) {
		return
	}
	if req.SHA == nil {
		c.missing("sha")
		return
	}
	ref := "refs/" + c.r.PathValue("ref")
	old, exists := r.git.refs[ref]
	if !exists {
		c.fail(http.StatusUnprocessableEntity, "Reference does not exist")
		return
	}
	if _, known := r.git.commits[*req.SHA]; !known {
		c.fail(http.StatusUnprocessableEntity, "Object does not exist")
		return
	}
	force := req.Force != nil && *req.Force
	if !force && !r.git.ancestors(*req.SHA)[old] {
		c.fail(http.StatusUnprocessableEntity, "Update is not a fast forward")
		return
	}
	r.git.refs[ref] = *req.SHA
	c.json(http.StatusOK, c.refJSON(r, ref, *req.SHA))
}

func (s *Server) deleteRef(c *call) {
	r, ok := c.repo()
	if !ok || !c.need("contents", Write) {
		return
	}
	ref := "refs/" + c.r.PathValue("ref")
	if _, exists := r.git.refs[ref]; !exists {
		c.fail(http.StatusUnprocessableEntity, "Reference does not exist")
		return
	}
	delete(r.git.refs, ref)
	c.noContent()
}

func (s *Server) getCommit(c *call) {
	r, ok := c.repo()
	if !ok || !c.need("contents", Read) {
		return
	}
	commit, ok := r.git.commits[c.r.PathValue("sha")]
	if !ok {
		c.notFound()
		return
	}
	c.json(http.StatusOK, c.commitJSON(r, commit))
}

type createCommitRequest struct {
	Message   *string       `json:"message"`
	Tree      *string       `json:"tree"`
	Parents   []string      `json:"parents"`
	Author    *identityJSON `json:"author"`
	Committer *identityJSON `json:"committer"`
	Signature *string       `json:"signature"`
}

func (s *Server) createCommit(c *call) {
	r, ok := c.repo()
	if !ok || !c.need("contents", Write) {
		return
	}

	var req createCommitRequest
	if !c.decode(&req) {
		return
	}
	switch {
	case req.Message == nil:
		c.missing("message")
		return
	case req.Tree == nil:
		c.missing("tree")
		return
	}

	for _, id := range []*identityJSON{req.Author, req.Committer} {
		if id != nil && (id.Name == nil || id.Email == nil) {
			c.invalid("author and committer need both name and email.")
			return
		}
	}
	if _, known := r.git.trees[*req.Tree]; !known {
		c.fail(http.StatusUnprocessableEntity, "Tree SHA does not exist")
		return
	}
	for _, p := range req.Parents {
		if _, known := r.git.commits[p]; !known {
			c.fail(http.StatusUnprocessableEntity, "Parent SHA does not exist or is not a commit object")
			return
		}
	}

	author := c.signature(req.Author)
	committer := author
	if req.Committer != nil {
		committer = c.signature(req.Committer)
	}
	commit := r.git.putCommit(commitObject{
		tree: *req.Tree, parents: append([]string(nil), req.Parents...), message: *req.Message,
		author: author, committer: committer,
	})
	c.json(http.StatusCreated, c.commitJSON(r, commit))
}

type createBlobRequest struct {
	Content  *string `json:"content"`
	Encoding *string `json:"encoding"`
}

func (s *Server) createBlob(c *call) {
	r, ok := c.repo()
	if !ok || !c.need("contents", Write) {
		return
	}
	var req createBlobRequest
	if !c.decode(&req) {
		return
	}
	if req.Content == nil {
		c.missing("content")
		return
	}
	data := []byte(*req.Content)
	switch enc := deref(req.Encoding); enc {
	case "", "utf-8":
	case "base64":
		decoded, err := base64.StdEncoding.DecodeString(*req.Content)
		if err != nil {
			c.invalid("content is not valid Base64.")
			return
		}
		data = decoded
	default:
		c.invalid("encoding %q is not one of utf-8, base64.", enc)
		return
	}
	sha := r.git.putBlob(data)
	c.json(http.StatusCreated, map[string]any{"sha": sha, "url": c.repoURL(r) + "/git/blobs/" + sha})
}

// getBlob serves a blob as base64, or raw for the raw media type.
func (s *Server) getBlob(c *call) {
	r, ok := c.repo()
	if !ok || !c.need("contents", Read) {
		return
	}
	sha := c.r.PathValue("sha")
	data, ok := r.git.blobs[sha]
	if !ok {
		c.notFound()
		return
	}
	if strings.Contains(c.r.Header.Get("Accept"), ".raw") {
		c.w.Header().Set("Content-Type", "application/vnd.github.raw")
		c.w.WriteHeader(http.StatusOK)
		_, _ = c.w.Write(data)
		return
	}
	c.json(http.StatusOK, map[string]any{
		"sha": sha, "node_id": "B_" + sha[:12], "size": len(data),
		"url": c.repoURL(r) + "/git/blobs/" + sha, "content": wrapBase64(data), "encoding": "base64",
	})
}

func (c *call) treeJSON(r *repository, sha string, entries []treeEntry, prefix string) []map[string]any {
	out := []map[string]any{}
	for _, e := range entries {
		item := map[string]any{"path": prefix + e.name, "mode": e.mode, "type": e.typ, "sha": e.sha}
		switch e.typ {
		case "blob":
			item["size"] = len(r.git.blobs[e.sha])
			item["url"] = c.repoURL(r) + "/git/blobs/" + e.sha
		case "tree":
			item["url"] = c.repoURL(r) + "/git/trees/" + e.sha
		}
		out = append(out, item)
	}
	return out
}

// getTree serves a tree, with every descendant when ?recursive is set.
func (s *Server) getTree(c *call) {
	r, ok := c.repo()
	if !ok || !c.need("contents", Read) {
		return
	}
	sha := c.r.PathValue("sha")
	if commitSHA, ok := r.git.resolve(sha); ok {
		sha = r.git.commits[commitSHA].tree
	}
	entries, ok := r.git.trees[sha]
	if !ok {
		c.notFound()
		return
	}
	list := c.treeJSON(r, sha, entries, "")
	if c.r.URL.Query().Get("recursive") != "" {
		list = nil
		var walk func(string, string)
		walk = func(treeSHA, prefix string) {
			for _, e := range r.git.trees[treeSHA] {
				list = append(list, c.treeJSON(r, treeSHA, []treeEntry{e}, prefix)...)
				if e.typ == "tree" {
					walk(e.sha, prefix+e.name+"/")
				}
			}
		}
		walk(sha, "")
	}
	c.json(http.StatusOK, map[string]any{"sha": sha, "url": c.repoURL(r) + "/git/trees/" + sha, "tree": list, "truncated": false})
}

type createTreeRequest struct {
	BaseTree *string           `json:"base_tree"`
	Tree     []createTreeEntry `json:"tree"`
}

type createTreeEntry struct {
	Path    *string         `json:"path"`
	Mode    *string         `json:"mode"`
	Type    *string         `json:"type"`
	SHA     json.RawMessage `json:"sha"`
	Content *string         `json:"content"`
}

var modeTypes = map[string]string{
	"100644": "blob", "100755": "blob", "120000": "blob", "040000": "tree", "160000": "commit",
}

// createTree builds a tree from entries over base_tree: an entry with
// content adds a blob, one with a SHA places an existing object, and one
// with "sha": null deletes the path.
func (s *Server) createTree(c *call) {
	r, ok := c.repo()
	if !ok || !c.need("contents", Write) {
		return
	}
	var req createTreeRequest
	if !c.decode(&req) {
		return
	}
	if req.Tree == nil {
		c.missing("tree")
		return
	}
	files := map[string]fileEntry{}
	if req.BaseTree != nil && *req.BaseTree != "" {
		base, ok := r.git.flatten(*req.BaseTree)
		if !ok {
			c.fail(http.StatusUnprocessableEntity, "Invalid tree info: base_tree "+*req.BaseTree+" does not exist")
			return
		}
		files = base
	}
	for i, e := range req.Tree {
		if !c.applyTreeEntry(r, files, i, e) {
			return
		}
	}
	sha := r.git.buildTree(files)
	c.json(http.StatusCreated, map[string]any{
		"sha": sha, "url": c.repoURL(r) + "/git/trees/" + sha,
		"tree": c.treeJSON(r, sha, r.git.trees[sha], ""), "truncated": false,
	})
}

// applyTreeEntry checks entry i of a create-tree request and applies it to
// files, responding with the error when it fails.
func (c *call) applyTreeEntry(r *repository, files map[string]fileEntry, i int, e createTreeEntry) bool {
	switch {
	case e.Path == nil:
		c.missing(fmt.Sprintf("tree[%d].path", i))
		return false
	case e.Mode == nil:
		c.missing(fmt.Sprintf("tree[%d].mode", i))
		return false
	case e.Type == nil:
		c.missing(fmt.Sprintf("tree[%d].type", i))
		return false
	case e.SHA == nil && e.Content == nil:
		c.invalid("tree[%d] needs either \"sha\" or \"content\".", i)
		return false
	case e.SHA != nil && e.Content != nil && string(e.SHA) != "null":
		c.invalid("tree[%d] has both \"sha\" and \"content\"; supply one.", i)
		return false
	case !validPath(*e.Path):
		c.invalid("tree[%d].path %q is not a valid path.", i, *e.Path)
		return false
	}
	want, known := modeTypes[*e.Mode]
	if !known || want != *e.Type {
		c.invalid("tree[%d] has mode %q and type %q, which do not go together.", i, *e.Mode, *e.Type)
		return false
	}
	path := *e.Path

	if e.Content != nil {
		if *e.Type != "blob" || !utf8.ValidString(*e.Content) {
			c.invalid("tree[%d].content needs type blob and UTF-8 text.", i)
			return false
		}
		removeUnder(files, path)
		files[path] = fileEntry{mode: *e.Mode, sha: r.git.putBlob([]byte(*e.Content))}
		return true
	}
	var sha *string
	if err := json.Unmarshal(e.SHA, &sha); err != nil {
		c.invalid("tree[%d].sha is not a string or null.", i)
		return false
	}
	if sha == nil {
		removeUnder(files, path)
		return true
	}

	switch *e.Type {
	case "blob":
		if _, ok := r.git.blobs[*sha]; !ok {
			c.fail(http.StatusUnprocessableEntity, "Invalid tree info: tree.sha "+*sha+" is not a valid blob")
			return false
		}
		removeUnder(files, path)
		files[path] = fileEntry{mode: *e.Mode, sha: *sha}
	case "tree":
		sub, ok := r.git.flatten(*sha)
		if !ok {
			c.fail(http.StatusUnprocessableEntity, "Invalid tree info: tree.sha "+*sha+" is not a valid tree")
			return false
		}
		removeUnder(files, path)
		for p, f := range sub {
			files[path+"/"+p] = f
		}
	case "commit":
		removeUnder(files, path)
		files[path] = fileEntry{mode: *e.Mode, sha: *sha}
	}
	return true
}
