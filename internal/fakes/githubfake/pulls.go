package githubfake

import (
	"fmt"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"time"
)

type pullRequest struct {
	id      int64
	number  int
	title   string
	body    string
	state   string // "open" or "closed"
	head    string // branch name in the same repository
	base    string
	headSHA string // last known tip of head
	user    string
	draft   bool
	modify  bool
	labels  []string
	created time.Time
	updated time.Time
	closed  *time.Time
}

// refreshHead follows the head branch while it exists.
func (pr *pullRequest) refreshHead(r *repository) {
	if sha, ok := r.git.refs["refs/heads/"+pr.head]; ok && pr.state == "open" {
		pr.headSHA = sha
	}
}

func (c *call) miniRepoJSON(r *repository) map[string]any {
	return map[string]any{
		"id": r.id, "name": r.name, "full_name": r.fullName(),
		"owner": map[string]any{"login": r.owner}, "url": c.repoURL(r),
	}
}

func (c *call) pullJSON(r *repository, pr *pullRequest) map[string]any {
	pr.refreshHead(r)
	baseSHA := r.git.refs["refs/heads/"+pr.base]
	labels := []map[string]any{}
	for _, l := range pr.labels {
		labels = append(labels, map[string]any{"name": l, "color": "ededed", "default": false})
	}
	var closedAt any
	if pr.closed != nil {
		closedAt = pr.closed.Format(time.RFC3339)
	}
	return map[string]any{
		"id":                    pr.id,
		"node_id":               fmt.Sprintf("PR_%d", pr.id),
		"number":                pr.number,
		"state":                 pr.state,
		"title":                 pr.title,
		"body":                  pr.body,
		"draft":                 pr.draft,
		"merged":                false,
		"maintainer_can_modify": pr.modify,
		"url":                   fmt.Sprintf("%s/pulls/%d", c.repoURL(r), pr.number),
		"html_url":              fmt.Sprintf("https://github.com/%s/pull/%d", r.fullName(), pr.number),
		"issue_url":             fmt.Sprintf("%s/issues/%d", c.repoURL(r), pr.number),
		"user":                  map[string]any{"login": pr.user, "type": "User"},
		"labels":                labels,
		"created_at":            pr.created.Format(time.RFC3339),
		"updated_at":            pr.updated.Format(time.RFC3339),
		"closed_at":             closedAt,
		"head": map[string]any{
			"label": r.owner + ":" + pr.head, "ref": pr.head, "sha": pr.headSHA,
			"repo": c.miniRepoJSON(r), "user": map[string]any{"login": r.owner},
		},
		"base": map[string]any{
			"label": r.owner + ":" + pr.base, "ref": pr.base, "sha": baseSHA,
			"repo": c.miniRepoJSON(r), "user": map[string]any{"login": r.owner},
		},
	}
}

// pull finds the pull request numbered in the path.
func (c *call) pull(r *repository, number string) (*pullRequest, bool) {
	n, err := strconv.Atoi(number)
	if err != nil || n < 1 || n > len(r.pulls) {
		c.notFound()
		return nil, false
	}
	return r.pulls[n-1], true
}

// listPulls filters by state, head and base, newest first.
func (s *Server) listPulls(c *call) {
	r, ok := c.repo()
	if !ok || !c.need("pull_requests", Read) {
		return
	}
	q := c.r.URL.Query()
	state := q.Get("state")
	if state == "" {
		state = "open"
	}
	if state != "open" && state != "closed" && state != "all" {
		c.invalid("state %q is not one of open, closed, all.", state)
		return
	}
	// NOTE: like GitHub, a head filter without "owner:" is ignored rather
	// than rejected, so a client that forgets the owner sees every PR.
	headOwner, headBranch, headFiltered := strings.Cut(q.Get("head"), ":")
	base := q.Get("base")

	var matched []*pullRequest
	for i := len(r.pulls) - 1; i >= 0; i-- {
		pr := r.pulls[i]
		switch {
		case state != "all" && pr.state != state:
		case headFiltered && (!strings.EqualFold(headOwner, r.owner) || pr.head != headBranch):
		case base != "" && pr.base != base:
		default:
			matched = append(matched, pr)
		}
	}
	start, end := c.page(len(matched))
	out := []map[string]any{}
	for _, pr := range matched[start:end] {
		out = append(out, c.pullJSON(r, pr))
	}
	c.json(http.StatusOK, out)
}

func (s *Server) getPull(c *call) {
	r, ok := c.repo()
	if !ok || !c.need("pull_requests", Read) {
		return
	}
	if pr, ok := c.pull(r, c.r.PathValue("number")); ok {
		c.json(http.StatusOK, c.pullJSON(r, pr))
	}
}

type createPullRequest struct {
	Title               *string `json:"title"`
	Head                *string `json:"head"`
	HeadRepo            *string `json:"head_repo"`
	Base                *string `json:"base"`
	Body                *string `json:"body"`
	Issue               *int    `json:"issue"`
	MaintainerCanModify *bool   `json:"maintainer_can_modify"`
	Draft               *bool   `json:"draft"`
}

func (s *Server) createPull(c *call) {
	r, ok := c.repo()
	if !ok || !c.need("pull_requests", Write) {
		return
	}
	if c.s.actionsNoPRs {
		c.fail(http.StatusForbidden, "GitHub Actions is not permitted to create or approve pull requests.")
		return
	}

	var req createPullRequest
	if !c.decode(&req) {
		return
	}
	switch {
	case req.Head == nil:
		c.missing("head")
		return
	case req.Base == nil:
		c.missing("base")
		return
	case req.Title == nil:
		c.missing("title")
		return
	case req.Issue != nil:
		c.invalid("converting issues to pull requests is not supported by the fake.")
		return
	}

	head := *req.Head
	if owner, branch, ok := strings.Cut(head, ":"); ok {
		if !strings.EqualFold(owner, r.owner) {
			c.validation("PullRequest", "invalid", "head", "")
			return
		}
		head = branch
	}

	pr := &pullRequest{
		title: *req.Title, body: deref(req.Body), head: head, base: *req.Base,
		user: c.login(), draft: req.Draft != nil && *req.Draft,
		modify: req.MaintainerCanModify == nil || *req.MaintainerCanModify,
	}
	if _, err := c.s.checkOpen(r, pr, 0); err != nil {
		err.respond(c)
		return
	}
	c.s.storePull(r, pr)
	c.json(http.StatusCreated, c.pullJSON(r, pr))
}

// storePull numbers pr and adds it to r as open.
func (s *Server) storePull(r *repository, pr *pullRequest) {
	s.nextID++
	now := s.opts.Now().UTC()
	pr.id, pr.number, pr.state, pr.created, pr.updated = s.nextID, len(r.pulls)+1, "open", now, now
	pr.headSHA = r.git.refs["refs/heads/"+pr.head]
	r.pulls = append(r.pulls, pr)
}

// pullError is a 422 about a pull request's branches.
type pullError struct {
	code, field, message string
}

func (e *pullError) Error() string { return e.field + " " + e.code + " " + e.message }

func (e *pullError) respond(c *call) { c.validation("PullRequest", e.code, e.field, e.message) }

// checkOpen checks that pr may be open: both branches exist, head has
// commits that base lacks, and no other open PR (other than number skip)
// has the same head and base.
func (s *Server) checkOpen(r *repository, pr *pullRequest, skip int) (string, *pullError) {
	baseSHA, ok := r.git.refs["refs/heads/"+pr.base]
	if !ok {
		return "", &pullError{code: "invalid", field: "base"}
	}
	headSHA, ok := r.git.refs["refs/heads/"+pr.head]
	if !ok {
		return "", &pullError{code: "invalid", field: "head"}
	}
	for _, other := range r.pulls {
		if other.number != skip && other.state == "open" && other.head == pr.head && other.base == pr.base {
			return "", &pullError{code: "custom", message: "A pull request already exists for " + r.owner + ":" + pr.head + "."}
		}
	}
	if r.git.ancestors(baseSHA)[headSHA] {
		return "", &pullError{code: "custom", message: "No commits between " + pr.base + " and " + pr.head}
	}
	return headSHA, nil
}

type updatePullRequest struct {
	Title               *string `json:"title"`
	Body                *string `json:"body"`
	State               *string `json:"state"`
	Base                *string `json:"base"`
	MaintainerCanModify *bool   `json:"maintainer_can_modify"`
}

func (s *Server) updatePull(c *call) {
	r, ok := c.repo()
	if !ok || !c.need("pull_requests", Write) {
		return
	}
	pr, ok := c.pull(r, c.r.PathValue("number"))
	if !ok {
		return
	}
	var req updatePullRequest
	if !c.decode(&req) {
		return
	}
	if req.State != nil && *req.State != "open" && *req.State != "closed" {
		c.invalid("state %q is not one of open, closed.", *req.State)
		return
	}
	if req.Base != nil && pr.state == "closed" && (req.State == nil || *req.State == "closed") {
		c.validation("PullRequest", "invalid", "base", "Cannot change base branch of closed pull request")
		return
	}

	next := *pr
	if req.Base != nil {
		next.base = *req.Base
	}
	if req.State != nil && *req.State == "open" && pr.state == "closed" || req.Base != nil && pr.state == "open" {
		if _, err := c.s.checkOpen(r, &next, pr.number); err != nil {
			err.respond(c)
			return
		}
	}
	now := c.s.opts.Now().UTC()
	if req.Title != nil {
		next.title = *req.Title
	}
	if req.Body != nil {
		next.body = *req.Body
	}
	if req.MaintainerCanModify != nil {
		next.modify = *req.MaintainerCanModify
	}
	if req.State != nil && *req.State != pr.state {
		next.state = *req.State
		next.closed = nil
		if next.state == "closed" {
			next.closed = &now
		}
	}
	next.updated = now
	*pr = next
	c.json(http.StatusOK, c.pullJSON(r, pr))
}

// pullFiles serves the files a pull request changes against the merge base
// of its branches.
func (s *Server) pullFiles(c *call) {
	r, ok := c.repo()
	if !ok || !c.need("pull_requests", Read) {
		return
	}
	pr, ok := c.pull(r, c.r.PathValue("number"))
	if !ok {
		return
	}
	files := pullChanges(r, pr)
	start, end := c.page(len(files))
	out := []map[string]any{}
	for _, f := range files[start:end] {
		out = append(out, map[string]any{
			"sha": f.sha, "filename": f.path, "status": f.status,
			"additions": f.additions, "deletions": f.deletions, "changes": f.additions + f.deletions,
			"patch":        f.patch,
			"blob_url":     "https://github.com/" + r.fullName() + "/blob/" + pr.headSHA + "/" + f.path,
			"contents_url": c.repoURL(r) + "/contents/" + f.path + "?ref=" + pr.headSHA,
		})
	}
	c.json(http.StatusOK, out)
}

type changedFile struct {
	path, status, sha    string
	additions, deletions int
	patch                string
}

// pullChanges compares the head of pr with its merge base, by path.
func pullChanges(r *repository, pr *pullRequest) []changedFile {
	pr.refreshHead(r)
	baseSHA := r.git.refs["refs/heads/"+pr.base]
	before := r.git.filesAt(r.git.mergeBase(baseSHA, pr.headSHA))
	after := r.git.filesAt(pr.headSHA)

	paths := map[string]bool{}
	for p := range before {
		paths[p] = true
	}
	for p := range after {
		paths[p] = true
	}
	var out []changedFile
	for _, p := range sortedKeys(paths) {
		b, inBefore := before[p]
		a, inAfter := after[p]
		if inBefore && inAfter && a == b {
			continue
		}
		f := changedFile{path: p, status: "modified", sha: a.sha}
		switch {
		case !inBefore:
			f.status = "added"
		case !inAfter:
			f.status = "removed"
			f.sha = b.sha
		}
		f.patch, f.additions, f.deletions = unifiedDiff(string(r.git.blobs[b.sha]), string(r.git.blobs[a.sha]))
		out = append(out, f)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].path < out[j].path })
	return out
}
