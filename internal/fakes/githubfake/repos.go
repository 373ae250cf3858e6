package githubfake

import (
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"path"
	"sort"
	"strconv"
	"strings"
	"time"
)

type repository struct {
	id            int64
	owner, name   string
	defaultBranch string
	created       time.Time
	git           gitStore
	actions       *scope
	envs          map[string]*environment // by lower-case name
	pulls         []*pullRequest          // number i+1 at index i
	comments      []*comment
}

type environment struct {
	id      int64
	name    string
	created time.Time
	actions *scope
}

func (r *repository) fullName() string { return r.owner + "/" + r.name }

// AddRepository creates owner/name with one commit on defaultBranch holding
// files (slash paths to contents).
func (s *Server) AddRepository(owner, name, defaultBranch string, files map[string][]byte) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	key := strings.ToLower(owner + "/" + name)
	if _, ok := s.repos[key]; ok {
		return fmt.Errorf("add repository %q: already exists", owner+"/"+name)
	}
	for p := range files {
		if !validPath(p) {
			return fmt.Errorf("add repository %q: invalid file path %q", owner+"/"+name, p)
		}
	}
	sc, err := s.newScope()
	if err != nil {
		return fmt.Errorf("add repository %q: %w", owner+"/"+name, err)
	}

	s.nextID++
	r := &repository{
		id: s.nextID, owner: owner, name: name, defaultBranch: defaultBranch,
		created: s.opts.Now().UTC(), git: newGitStore(), actions: sc,
		envs: map[string]*environment{},
	}
	flat := map[string]fileEntry{}
	for p, data := range files {
		flat[p] = fileEntry{mode: "100644", sha: r.git.putBlob(data)}
	}
	sig := signature{name: owner, email: owner + "@users.noreply.github.com", date: r.created}
	c := r.git.putCommit(commitObject{tree: r.git.buildTree(flat), message: "Initial commit", author: sig, committer: sig})
	r.git.refs["refs/heads/"+defaultBranch] = c.sha

	s.repos[key] = r
	s.reposByID[r.id] = r
	return nil
}

// AddEnvironment creates a deployment environment with its own secrets,
// variables and public key.
func (s *Server) AddEnvironment(repo, name string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	r, err := s.lookup(repo)
	if err != nil {
		return fmt.Errorf("add environment %q: %w", name, err)
	}
	if _, ok := r.envs[strings.ToLower(name)]; ok {
		return fmt.Errorf("add environment %q: already exists", name)
	}
	sc, err := s.newScope()
	if err != nil {
		return fmt.Errorf("add environment %q: %w", name, err)
	}
	s.nextID++
	r.envs[strings.ToLower(name)] = &environment{id: s.nextID, name: name, created: s.opts.Now().UTC(), actions: sc}
	return nil
}

var errNoRepo = errors.New("no such repository")

// lookup finds "owner/name". The caller must hold s.mu.
func (s *Server) lookup(repo string) (*repository, error) {
	r, ok := s.repos[strings.ToLower(repo)]
	if !ok {
		return nil, fmt.Errorf("find repository %q: %w", repo, errNoRepo)
	}
	return r, nil
}

// repo resolves the request's repository from {owner}/{repo} or {id},
// responding with 404 when there is none.
func (c *call) repo() (*repository, bool) {
	if id := c.r.PathValue("id"); id != "" {
		n, err := strconv.ParseInt(id, 10, 64)
		if r, ok := c.s.reposByID[n]; ok && err == nil {
			return r, true
		}
		c.notFound()
		return nil, false
	}
	r, ok := c.s.repos[strings.ToLower(c.r.PathValue("owner")+"/"+c.r.PathValue("repo"))]
	if !ok {
		c.notFound()
		return nil, false
	}
	return r, true
}

func (c *call) repoURL(r *repository) string {
	return c.base() + "/repos/" + r.fullName()
}

func (c *call) repoJSON(r *repository) map[string]any {
	return map[string]any{
		"id":             r.id,
		"node_id":        fmt.Sprintf("R_%d", r.id),
		"name":           r.name,
		"full_name":      r.fullName(),
		"owner":          map[string]any{"login": r.owner, "id": 1, "type": "Organization"},
		"private":        true,
		"default_branch": r.defaultBranch,
		"html_url":       "https://github.com/" + r.fullName(),
		"url":            c.repoURL(r),
		"created_at":     r.created.Format(time.RFC3339),
		"permissions": map[string]bool{
			"admin":    false,
			"maintain": false,
			"push":     c.perms.Contents >= Write,
			"triage":   c.perms.PullRequests >= Write,
			"pull":     c.perms.Contents >= Read,
		},
	}
}

func (s *Server) getRepo(c *call) {
	if r, ok := c.repo(); ok {
		c.json(http.StatusOK, c.repoJSON(r))
	}
}

// getContents serves a file (base64, with its blob SHA) or a directory
// listing at ?ref=, which defaults to the default branch.
func (s *Server) getContents(c *call) {
	r, ok := c.repo()
	if !ok || !c.need("contents", Read) {
		return
	}
	ref := c.r.URL.Query().Get("ref")
	if ref == "" {
		ref = r.defaultBranch
	}
	sha, ok := r.git.resolve(ref)
	if !ok {
		c.fail(http.StatusNotFound, fmt.Sprintf("No commit found for the ref %s", ref))
		return
	}
	files := r.git.filesAt(sha)
	p := strings.Trim(c.r.PathValue("path"), "/")
	if f, ok := files[p]; ok && p != "" {
		c.json(http.StatusOK, c.contentJSON(r, p, f, true))
		return
	}

	var listing []map[string]any
	seen := map[string]bool{}
	prefix := ""
	if p != "" {
		prefix = p + "/"
	}
	for fp, f := range files {
		if !strings.HasPrefix(fp, prefix) {
			continue
		}
		rest := strings.TrimPrefix(fp, prefix)
		if dir, _, nested := strings.Cut(rest, "/"); nested {
			if !seen[dir] {
				seen[dir] = true
				listing = append(listing, map[string]any{"type": "dir", "name": dir, "path": prefix + dir})
			}
			continue
		}
		listing = append(listing, c.contentJSON(r, fp, f, false))
	}
	if len(listing) == 0 && p != "" {
		c.notFound()
		return
	}
	sort.Slice(listing, func(i, j int) bool { return listing[i]["path"].(string) < listing[j]["path"].(string) })
	c.json(http.StatusOK, listing)
}

func (c *call) contentJSON(r *repository, p string, f fileEntry, withContent bool) map[string]any {
	data := r.git.blobs[f.sha]
	out := map[string]any{
		"type":     "file",
		"name":     path.Base(p),
		"path":     p,
		"sha":      f.sha,
		"size":     len(data),
		"url":      c.repoURL(r) + "/contents/" + p,
		"git_url":  c.repoURL(r) + "/git/blobs/" + f.sha,
		"html_url": "https://github.com/" + r.fullName() + "/blob/" + r.defaultBranch + "/" + p,
	}
	if withContent {
		out["encoding"] = "base64"
		out["content"] = wrapBase64(data)
	}
	return out
}

// wrapBase64 encodes data in lines of 60 characters, as GitHub does.
func wrapBase64(data []byte) string {
	enc := base64.StdEncoding.EncodeToString(data)
	var b strings.Builder
	for len(enc) > 60 {
		b.WriteString(enc[:60])
		b.WriteByte('\n')
		enc = enc[60:]
	}
	b.WriteString(enc)
	b.WriteByte('\n')
	return b.String()
}

type putContentsRequest struct {
	Message   *string       `json:"message"`
	Content   *string       `json:"content"`
	SHA       *string       `json:"sha"`
	Branch    *string       `json:"branch"`
	Committer *identityJSON `json:"committer"`
	Author    *identityJSON `json:"author"`
}

type identityJSON struct {
	Name  *string `json:"name"`
	Email *string `json:"email"`
	Date  *string `json:"date"`
}

// putContents creates or updates one file with a commit on a branch.
func (s *Server) putContents(c *call) {
	r, ok := c.repo()
	if !ok || !c.need("contents", Write) {
		return
	}
	var req putContentsRequest
	if !c.decode(&req) {
		return
	}
	switch {
	case req.Message == nil:
		c.missing("message")
		return
	case req.Content == nil:
		c.missing("content")
		return
	}
	data, err := base64.StdEncoding.DecodeString(*req.Content)
	if err != nil {
		c.invalid("content is not valid Base64")
		return
	}
	p := strings.Trim(c.r.PathValue("path"), "/")
	if !validPath(p) {
		c.invalid("path %q is not a valid file path", p)
		return
	}
	branch := r.defaultBranch
	if req.Branch != nil {
		branch = *req.Branch
	}
	head, ok := r.git.refs["refs/heads/"+branch]
	if !ok {
		c.fail(http.StatusNotFound, "Branch "+branch+" not found")
		return
	}

	files := r.git.filesAt(head)
	old, exists := files[p]
	switch {
	case exists && req.SHA == nil:
		c.fail(http.StatusUnprocessableEntity, `Invalid request.

"sha" wasn't supplied.`)
		return
	case exists && *req.SHA != old.sha, !exists && req.SHA != nil:
		c.fail(http.StatusConflict, fmt.Sprintf("%s does not match %s", p, deref(req.SHA)))
		return
	}
	removeUnder(files, p)
	files[p] = fileEntry{mode: "100644", sha: r.git.putBlob(data)}
	sig := c.signature(req.Author)
	committer := c.signature(req.Committer)
	if req.Committer == nil {
		committer = sig
	}
	commit := r.git.putCommit(commitObject{
		tree: r.git.buildTree(files), parents: []string{head}, message: *req.Message,
		author: sig, committer: committer,
	})
	r.git.refs["refs/heads/"+branch] = commit.sha

	status := http.StatusCreated
	if exists {
		status = http.StatusOK
	}
	c.json(status, map[string]any{
		"content": c.contentJSON(r, p, files[p], false),
		"commit":  c.commitJSON(r, commit),
	})
}

// signature turns an optional identity into a commit signature, defaulting
// to the token's account and the current time.
func (c *call) signature(id *identityJSON) signature {
	sig := signature{name: c.login(), email: c.login() + "@users.noreply.github.com", date: c.s.opts.Now().UTC()}
	if id == nil {
		return sig
	}
	if id.Name != nil {
		sig.name = *id.Name
	}
	if id.Email != nil {
		sig.email = *id.Email
	}
	if id.Date != nil {
		if t, err := time.Parse(time.RFC3339, *id.Date); err == nil {
			sig.date = t.UTC()
		}
	}
	return sig
}

func deref(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}

// getBranch serves a branch with its head commit.
func (s *Server) getBranch(c *call) {
	r, ok := c.repo()
	if !ok || !c.need("contents", Read) {
		return
	}
	name := c.r.PathValue("branch")
	sha, ok := r.git.refs["refs/heads/"+name]
	if !ok {
		c.fail(http.StatusNotFound, "Branch not found")
		return
	}
	commit := r.git.commits[sha]
	c.json(http.StatusOK, map[string]any{
		"name": name,
		"commit": map[string]any{
			"sha":    sha,
			"url":    c.repoURL(r) + "/commits/" + sha,
			"commit": c.commitJSON(r, commit),
		},
		"protected": false,
	})
}

func (c *call) environmentJSON(r *repository, e *environment) map[string]any {
	return map[string]any{
		"id":                       e.id,
		"node_id":                  fmt.Sprintf("EN_%d", e.id),
		"name":                     e.name,
		"url":                      c.repoURL(r) + "/environments/" + e.name,
		"html_url":                 "https://github.com/" + r.fullName() + "/deployments/activity_log?environments_filter=" + e.name,
		"created_at":               e.created.Format(time.RFC3339),
		"updated_at":               e.created.Format(time.RFC3339),
		"protection_rules":         []any{},
		"deployment_branch_policy": nil,
	}
}

func (s *Server) getEnvironment(c *call) {
	r, ok := c.repo()
	if !ok {
		return
	}
	e, ok := r.envs[strings.ToLower(c.r.PathValue("env"))]
	if !ok {
		c.notFound()
		return
	}
	c.json(http.StatusOK, c.environmentJSON(r, e))
}

func (s *Server) listEnvironments(c *call) {
	r, ok := c.repo()
	if !ok {
		return
	}
	names := make([]string, 0, len(r.envs))
	for k := range r.envs {
		names = append(names, k)
	}
	sort.Strings(names)
	start, end := c.page(len(names))
	out := []map[string]any{}
	for _, k := range names[start:end] {
		out = append(out, c.environmentJSON(r, r.envs[k]))
	}
	c.json(http.StatusOK, map[string]any{"total_count": len(names), "environments": out})
}
