package githubfake

import (
	"bytes"
	"crypto/sha1"
	"encoding/hex"
	"fmt"
	"sort"
	"strings"
	"time"
)

// fileEntry is one non-tree entry of a flattened tree.
type fileEntry struct {
	mode string // "100644", "100755", "120000" or "160000"
	sha  string
}

func (f fileEntry) typ() string {
	if f.mode == "160000" {
		return "commit"
	}
	return "blob"
}

// treeEntry is one entry of a git tree object.
type treeEntry struct {
	name string
	mode string // as the API shows it: "040000" for trees
	typ  string // "blob", "tree" or "commit"
	sha  string
}

type signature struct {
	name  string
	email string
	date  time.Time
}

type commitObject struct {
	sha       string
	tree      string
	parents   []string
	message   string
	author    signature
	committer signature
}

// gitStore contains one repository's objects and refs.
type gitStore struct {
	blobs   map[string][]byte
	trees   map[string][]treeEntry
	commits map[string]*commitObject
	refs    map[string]string // full ref name, such as "refs/heads/main", to commit SHA
}

func newGitStore() gitStore {
	return gitStore{
		blobs:   map[string][]byte{},
		trees:   map[string][]treeEntry{},
		commits: map[string]*commitObject{},
		refs:    map[string]string{},
	}
}

// hashObject computes git's object ID for data of kind.
func hashObject(kind string, data []byte) string {
	h := sha1.New()
	fmt.Fprintf(h, "%s %d\x00", kind, len(data))
	h.Write(data)
	return hex.EncodeToString(h.Sum(nil))
}

func (g *gitStore) putBlob(data []byte) string {
	sha := hashObject("blob", data)
	g.blobs[sha] = append([]byte(nil), data...)
	return sha
}

// putTree stores a tree, ordering its entries as git does.
func (g *gitStore) putTree(entries []treeEntry) string {
	sorted := append([]treeEntry(nil), entries...)
	sortKey := func(e treeEntry) string {
		if e.typ == "tree" {
			return e.name + "/"
		}
		return e.name
	}
	sort.Slice(sorted, func(i, j int) bool { return sortKey(sorted[i]) < sortKey(sorted[j]) })

	var buf bytes.Buffer
	for _, e := range sorted {
		raw, _ := hex.DecodeString(e.sha)
		fmt.Fprintf(&buf, "%s %s\x00", strings.TrimPrefix(e.mode, "0"), e.name)
		buf.Write(raw)
	}
	sha := hashObject("tree", buf.Bytes())
	g.trees[sha] = sorted
	return sha
}

func formatSignature(sig signature) string {
	return fmt.Sprintf("%s <%s> %d +0000", sig.name, sig.email, sig.date.Unix())
}

func (g *gitStore) putCommit(c commitObject) *commitObject {
	var buf bytes.Buffer
	fmt.Fprintf(&buf, "tree %s\n", c.tree)
	for _, p := range c.parents {
		fmt.Fprintf(&buf, "parent %s\n", p)
	}
	fmt.Fprintf(&buf, "author %s\ncommitter %s\n\n%s", formatSignature(c.author), formatSignature(c.committer), c.message)
	c.sha = hashObject("commit", buf.Bytes())
	stored := c
	g.commits[c.sha] = &stored
	return &stored
}

// flatten lists every non-tree entry under the tree, by slash-joined path.
func (g *gitStore) flatten(treeSHA string) (map[string]fileEntry, bool) {
	out := map[string]fileEntry{}
	var walk func(sha, prefix string) bool
	walk = func(sha, prefix string) bool {
		entries, ok := g.trees[sha]
		if !ok {
			return false
		}
		for _, e := range entries {
			if e.typ == "tree" {
				if !walk(e.sha, prefix+e.name+"/") {
					return false
				}
				continue
			}
			out[prefix+e.name] = fileEntry{mode: e.mode, sha: e.sha}
		}
		return true
	}
	return out, walk(treeSHA, "")
}

// buildTree stores the trees for a flattened file set and returns the root.
func (g *gitStore) buildTree(files map[string]fileEntry) string {
	var entries []treeEntry
	dirs := map[string]map[string]fileEntry{}
	for path, f := range files {
		dir, rest, nested := strings.Cut(path, "/")
		if !nested {
			entries = append(entries, treeEntry{name: path, mode: f.mode, typ: f.typ(), sha: f.sha})
			continue
		}
		if dirs[dir] == nil {
			dirs[dir] = map[string]fileEntry{}
		}
		dirs[dir][rest] = f
	}
	for name, sub := range dirs {
		entries = append(entries, treeEntry{name: name, mode: "040000", typ: "tree", sha: g.buildTree(sub)})
	}
	return g.putTree(entries)
}

// removeUnder deletes path and everything below it from files.
func removeUnder(files map[string]fileEntry, path string) {
	delete(files, path)
	for p := range files {
		if strings.HasPrefix(p, path+"/") {
			delete(files, p)
		}
	}
}

// filesAt flattens the tree of a commit.
func (g *gitStore) filesAt(commitSHA string) map[string]fileEntry {
	c, ok := g.commits[commitSHA]
	if !ok {
		return nil
	}
	files, _ := g.flatten(c.tree)
	return files
}

// ancestors lists sha and every commit reachable from it.
func (g *gitStore) ancestors(sha string) map[string]bool {
	seen := map[string]bool{}
	stack := []string{sha}
	for len(stack) > 0 {
		cur := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		if seen[cur] {
			continue
		}
		seen[cur] = true
		if c, ok := g.commits[cur]; ok {
			stack = append(stack, c.parents...)
		}
	}
	return seen
}

// mergeBase finds a nearest common ancestor of a and b, breadth first from b.
func (g *gitStore) mergeBase(a, b string) string {
	inA := g.ancestors(a)
	queue := []string{b}
	seen := map[string]bool{}
	for len(queue) > 0 {
		cur := queue[0]
		queue = queue[1:]
		if seen[cur] {
			continue
		}
		seen[cur] = true
		if inA[cur] {
			return cur
		}
		if c, ok := g.commits[cur]; ok {
			queue = append(queue, c.parents...)
		}
	}
	return ""
}

// resolve turns a branch name, "heads/<b>", "refs/heads/<b>" or a commit
// SHA into a commit SHA.
func (g *gitStore) resolve(ref string) (string, bool) {
	for _, full := range []string{"refs/heads/" + ref, "refs/" + ref, ref} {
		if sha, ok := g.refs[full]; ok {
			return sha, true
		}
	}
	if _, ok := g.commits[ref]; ok {
		return ref, true
	}
	return "", false
}

// validPath reports whether p is a relative slash path without empty, "."
// or ".." segments.
func validPath(p string) bool {
	if p == "" {
		return false
	}
	for _, seg := range strings.Split(p, "/") {
		if seg == "" || seg == "." || seg == ".." {
			return false
		}
	}
	return true
}
