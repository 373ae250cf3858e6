package githubfake

import (
	"crypto/rand"
	"fmt"
	"strings"
	"time"

	"golang.org/x/crypto/nacl/box"
)

// PullRequest is a snapshot of one pull request, for assertions.
type PullRequest struct {
	Number  int
	Title   string
	Body    string
	State   string // "open" or "closed"
	Head    string // branch name
	Base    string
	HeadSHA string
	User    string
	Draft   bool
	Labels  []string
	// ChangedFiles are the paths the pull request adds, changes or removes
	// against the merge base of its branches.
	ChangedFiles []string
}

// Comment is a snapshot of one issue comment.
type Comment struct {
	ID        int64
	Body      string
	User      string
	CreatedAt time.Time
	UpdatedAt time.Time
}

// scopeOf finds the Actions scope of repo, or of its environment env when
// env is not empty. The caller must hold s.mu.
func (s *Server) scopeOf(repo, env string) (*scope, error) {
	r, err := s.lookup(repo)
	if err != nil {
		return nil, err
	}
	if env == "" {
		return r.actions, nil
	}
	e, ok := r.envs[strings.ToLower(env)]
	if !ok {
		return nil, fmt.Errorf("find environment %q of %q: no such environment", env, repo)
	}
	return e.actions, nil
}

// SecretPlaintext opens the stored secret name of repo (or of environment
// env) with the scope's private key. It reports false when the secret does
// not exist or does not open.
func (s *Server) SecretPlaintext(repo, env, name string) (string, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	sc, err := s.scopeOf(repo, env)
	if err != nil {
		return "", false
	}
	sec, ok := sc.secrets[strings.ToUpper(name)]
	if !ok {
		return "", false
	}
	plain, ok := sc.open(sec.sealed)
	return string(plain), ok
}

// SecretNames lists the secrets of repo (or of environment env), sorted.
func (s *Server) SecretNames(repo, env string) []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	sc, err := s.scopeOf(repo, env)
	if err != nil {
		return nil
	}
	return sortedKeys(sc.secrets)
}

// SetSecret stores value as secret name, sealed with the current key, as
// if someone had set it before the test.
func (s *Server) SetSecret(repo, env, name, value string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	sc, err := s.scopeOf(repo, env)
	if err != nil {
		return fmt.Errorf("set secret %q: %w", name, err)
	}
	sealed, err := box.SealAnonymous(nil, []byte(value), sc.public, rand.Reader)
	if err != nil {
		return fmt.Errorf("seal secret %q: %w", name, err)
	}
	now := s.opts.Now().UTC()
	key := strings.ToUpper(name)
	sc.secrets[key] = &secret{name: key, sealed: sealed, created: now, updated: now}
	return nil
}

// DeleteSecret removes a secret behind the product's back and reports
// whether it existed.
func (s *Server) DeleteSecret(repo, env, name string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	sc, err := s.scopeOf(repo, env)
	if err != nil {
		return false
	}
	key := strings.ToUpper(name)
	_, ok := sc.secrets[key]
	delete(sc.secrets, key)
	return ok
}

// RotatePublicKey gives repo (or environment env) a new key pair and key
// ID. Stored secrets keep their values.
func (s *Server) RotatePublicKey(repo, env string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	sc, err := s.scopeOf(repo, env)
	if err != nil {
		return fmt.Errorf("rotate public key: %w", err)
	}
	fresh, err := s.newScope()
	if err != nil {
		return fmt.Errorf("rotate public key: %w", err)
	}
	for _, sec := range sc.secrets {
		plain, ok := sc.open(sec.sealed)
		if !ok {
			continue
		}
		if sec.sealed, err = box.SealAnonymous(nil, plain, fresh.public, rand.Reader); err != nil {
			return fmt.Errorf("rotate public key: reseal %q: %w", sec.name, err)
		}
	}
	sc.keyID, sc.public, sc.private = fresh.keyID, fresh.public, fresh.private
	return nil
}

// Variable reads an Actions variable of repo (or of environment env).
func (s *Server) Variable(repo, env, name string) (string, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	sc, err := s.scopeOf(repo, env)
	if err != nil {
		return "", false
	}
	v, ok := sc.variables[strings.ToUpper(name)]
	if !ok {
		return "", false
	}
	return v.value, true
}

// SetVariable creates or replaces an Actions variable.
func (s *Server) SetVariable(repo, env, name, value string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	sc, err := s.scopeOf(repo, env)
	if err != nil {
		return fmt.Errorf("set variable %q: %w", name, err)
	}
	now := s.opts.Now().UTC()
	key := strings.ToUpper(name)
	sc.variables[key] = &variable{name: key, value: value, created: now, updated: now}
	return nil
}

// File reads path at the tip of branch.
func (s *Server) File(repo, branch, path string) ([]byte, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	r, err := s.lookup(repo)
	if err != nil {
		return nil, false
	}
	sha, ok := r.git.refs["refs/heads/"+branch]
	if !ok {
		return nil, false
	}
	f, ok := r.git.filesAt(sha)[path]
	if !ok {
		return nil, false
	}
	return append([]byte(nil), r.git.blobs[f.sha]...), true
}

// BranchHead is the commit SHA at the tip of branch.
func (s *Server) BranchHead(repo, branch string) (string, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	r, err := s.lookup(repo)
	if err != nil {
		return "", false
	}
	sha, ok := r.git.refs["refs/heads/"+branch]
	return sha, ok
}

// Branches lists the branch names of repo.
func (s *Server) Branches(repo string) []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	r, err := s.lookup(repo)
	if err != nil {
		return nil
	}
	var out []string
	for _, ref := range sortedKeys(r.git.refs) {
		if name, ok := strings.CutPrefix(ref, "refs/heads/"); ok {
			out = append(out, name)
		}
	}
	return out
}

// CreateBranch points a new branch at the tip of from.
func (s *Server) CreateBranch(repo, name, from string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	r, err := s.lookup(repo)
	if err != nil {
		return fmt.Errorf("create branch %q: %w", name, err)
	}
	sha, ok := r.git.refs["refs/heads/"+from]
	if !ok {
		return fmt.Errorf("create branch %q: no branch %q", name, from)
	}
	if _, exists := r.git.refs["refs/heads/"+name]; exists {
		return fmt.Errorf("create branch %q: already exists", name)
	}
	r.git.refs["refs/heads/"+name] = sha
	return nil
}

// CommitFile commits content at path on top of branch, as another person
// pushing would, and returns the new commit's SHA. A nil content deletes
// the path.
func (s *Server) CommitFile(repo, branch, path string, content []byte, message string) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	r, err := s.lookup(repo)
	if err != nil {
		return "", fmt.Errorf("commit %q: %w", path, err)
	}
	head, ok := r.git.refs["refs/heads/"+branch]
	if !ok {
		return "", fmt.Errorf("commit %q: no branch %q", path, branch)
	}
	if !validPath(path) {
		return "", fmt.Errorf("commit %q: invalid path", path)
	}
	files := r.git.filesAt(head)
	removeUnder(files, path)
	if content != nil {
		files[path] = fileEntry{mode: "100644", sha: r.git.putBlob(content)}
	}
	sig := signature{name: "someone-else", email: "someone-else@users.noreply.github.com", date: s.opts.Now().UTC()}
	c := r.git.putCommit(commitObject{
		tree: r.git.buildTree(files), parents: []string{head}, message: message, author: sig, committer: sig,
	})
	r.git.refs["refs/heads/"+branch] = c.sha
	return c.sha, nil
}

// OpenPullRequest opens a pull request as another account would, with
// GitHub's checks: both branches exist, head is ahead of base, and no open
// pull request has the same head and base.
func (s *Server) OpenPullRequest(repo, head, base, title, body string) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	r, err := s.lookup(repo)
	if err != nil {
		return 0, fmt.Errorf("open pull request: %w", err)
	}
	pr := &pullRequest{title: title, body: body, head: head, base: base, user: "someone-else", modify: true}
	if _, perr := s.checkOpen(r, pr, 0); perr != nil {
		return 0, fmt.Errorf("open pull request from %q to %q: %s %s %s", head, base, perr.field, perr.code, perr.message)
	}
	s.storePull(r, pr)
	return pr.number, nil
}

// PullRequests lists the pull requests of repo by number.
func (s *Server) PullRequests(repo string) []PullRequest {
	s.mu.Lock()
	defer s.mu.Unlock()
	r, err := s.lookup(repo)
	if err != nil {
		return nil
	}
	out := make([]PullRequest, 0, len(r.pulls))
	for _, pr := range r.pulls {
		var changed []string
		for _, f := range pullChanges(r, pr) {
			changed = append(changed, f.path)
		}
		out = append(out, PullRequest{
			Number: pr.number, Title: pr.title, Body: pr.body, State: pr.state,
			Head: pr.head, Base: pr.base, HeadSHA: pr.headSHA, User: pr.user, Draft: pr.draft,
			Labels: append([]string(nil), pr.labels...), ChangedFiles: changed,
		})
	}
	return out
}

// PullRequestFile reads path at the head of pull request number, or nil
// when the head has no such file.
func (s *Server) PullRequestFile(repo string, number int, path string) []byte {
	s.mu.Lock()
	defer s.mu.Unlock()
	r, err := s.lookup(repo)
	if err != nil || number < 1 || number > len(r.pulls) {
		return nil
	}
	pr := r.pulls[number-1]
	pr.refreshHead(r)
	f, ok := r.git.filesAt(pr.headSHA)[path]
	if !ok {
		return nil
	}
	return append([]byte(nil), r.git.blobs[f.sha]...)
}

// PullRequestPatch is the unified diff of path in pull request number, as
// GitHub's files endpoint shows it, or "" when the file is unchanged.
func (s *Server) PullRequestPatch(repo string, number int, path string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	r, err := s.lookup(repo)
	if err != nil || number < 1 || number > len(r.pulls) {
		return ""
	}
	for _, f := range pullChanges(r, r.pulls[number-1]) {
		if f.path == path {
			return f.patch
		}
	}
	return ""
}

// Comments lists the comments on issue or pull request number, oldest
// first.
func (s *Server) Comments(repo string, number int) []Comment {
	s.mu.Lock()
	defer s.mu.Unlock()
	r, err := s.lookup(repo)
	if err != nil {
		return nil
	}
	var out []Comment
	for _, cm := range r.comments {
		if cm.issue == number {
			out = append(out, Comment{ID: cm.id, Body: cm.body, User: cm.user, CreatedAt: cm.created, UpdatedAt: cm.updated})
		}
	}
	return out
}

// AddComment posts a comment as user on pull request number, as another
// account would, and returns its ID.
func (s *Server) AddComment(repo string, number int, user, body string) (int64, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	r, err := s.lookup(repo)
	if err != nil {
		return 0, fmt.Errorf("add comment: %w", err)
	}
	if number < 1 || number > len(r.pulls) {
		return 0, fmt.Errorf("add comment: no pull request %d", number)
	}
	return s.addComment(r, number, body, user).id, nil
}
