package githubfake

import (
	"bytes"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// maxCommentRunes is GitHub's limit on a comment body, in characters.
const maxCommentRunes = 65536

type comment struct {
	id      int64
	issue   int
	body    string
	user    string
	created time.Time
	updated time.Time
}

// issueRoute serves /issues/{a}/{b}: ServeMux cannot hold both
// /issues/{number}/comments and /issues/comments/{id}, so this splits them.
func (s *Server) issueRoute(c *call) {
	a, b := c.r.PathValue("a"), c.r.PathValue("b")
	switch {
	case a == "comments" && c.r.Method == http.MethodGet:
		s.getComment(c, b)
	case a == "comments" && c.r.Method == http.MethodPatch:
		s.editComment(c, b)
	case a == "comments" && c.r.Method == http.MethodDelete:
		s.deleteComment(c, b)
	case b == "comments" && c.r.Method == http.MethodGet:
		s.listComments(c, a)
	case b == "comments" && c.r.Method == http.MethodPost:
		s.createComment(c, a)
	case b == "labels" && c.r.Method == http.MethodGet:
		s.listLabels(c, a)
	case b == "labels" && c.r.Method == http.MethodPost:
		s.addLabels(c, a)
	default:
		s.violate("%s %s: no such endpoint", c.r.Method, c.r.URL.Path)
		c.notFound()
	}
}

func (c *call) commentJSON(r *repository, cm *comment) map[string]any {
	return map[string]any{
		"id":                 cm.id,
		"node_id":            fmt.Sprintf("IC_%d", cm.id),
		"url":                fmt.Sprintf("%s/issues/comments/%d", c.repoURL(r), cm.id),
		"html_url":           fmt.Sprintf("https://github.com/%s/pull/%d#issuecomment-%d", r.fullName(), cm.issue, cm.id),
		"issue_url":          fmt.Sprintf("%s/issues/%d", c.repoURL(r), cm.issue),
		"body":               cm.body,
		"user":               map[string]any{"login": cm.user, "type": "User"},
		"author_association": "NONE",
		"created_at":         cm.created.Format(time.RFC3339),
		"updated_at":         cm.updated.Format(time.RFC3339),
	}
}

// issueAccess checks the token for comments and labels, which pull request
// permissions allow on pull requests, and finds the pull request.
func (c *call) issueAccess(number string) (*repository, *pullRequest, bool) {
	r, ok := c.repo()
	if !ok || !c.needFor("pull_requests") {
		return nil, nil, false
	}
	pr, ok := c.pull(r, number)
	return r, pr, ok
}

func (s *Server) listComments(c *call, number string) {
	r, pr, ok := c.issueAccess(number)
	if !ok {
		return
	}
	var list []*comment
	for _, cm := range r.comments {
		if cm.issue == pr.number {
			list = append(list, cm)
		}
	}
	start, end := c.page(len(list))
	out := []map[string]any{}
	for _, cm := range list[start:end] {
		out = append(out, c.commentJSON(r, cm))
	}
	c.json(http.StatusOK, out)
}

type commentRequest struct {
	Body *string `json:"body"`
}

// commentBody decodes and checks a comment body, responding with the error when it fails.
func (c *call) commentBody() (string, bool) {
	var req commentRequest
	if !c.decode(&req) {
		return "", false
	}
	if req.Body == nil {
		c.missing("body")
		return "", false
	}
	if utf8.RuneCountInString(*req.Body) > maxCommentRunes {
		c.validation("IssueComment", "custom", "body", "body is too long (maximum is 65536 characters)")
		return "", false
	}
	return *req.Body, true
}

func (s *Server) createComment(c *call, number string) {
	r, pr, ok := c.issueAccess(number)
	if !ok {
		return
	}
	body, ok := c.commentBody()
	if !ok {
		return
	}
	cm := s.addComment(r, pr.number, body, c.login())
	c.json(http.StatusCreated, c.commentJSON(r, cm))
}

func (s *Server) addComment(r *repository, issue int, body, user string) *comment {
	s.nextID++
	now := s.opts.Now().UTC()
	cm := &comment{id: s.nextID, issue: issue, body: body, user: user, created: now, updated: now}
	r.comments = append(r.comments, cm)
	return cm
}

// findComment resolves a comment ID of the request's repository.
func (c *call) findComment(id string) (*repository, int, bool) {
	r, ok := c.repo()
	if !ok || !c.needFor("pull_requests") {
		return nil, 0, false
	}
	n, err := strconv.ParseInt(id, 10, 64)
	if err == nil {
		for i, cm := range r.comments {
			if cm.id == n {
				return r, i, true
			}
		}
	}
	c.notFound()
	return nil, 0, false
}

func (s *Server) getComment(c *call, id string) {
	if r, i, ok := c.findComment(id); ok {
		c.json(http.StatusOK, c.commentJSON(r, r.comments[i]))
	}
}

func (s *Server) editComment(c *call, id string) {
	r, i, ok := c.findComment(id)
	if !ok {
		return
	}
	body, ok := c.commentBody()
	if !ok {
		return
	}
	cm := r.comments[i]
	cm.body, cm.updated = body, s.opts.Now().UTC()
	c.json(http.StatusOK, c.commentJSON(r, cm))
}

func (s *Server) deleteComment(c *call, id string) {
	r, i, ok := c.findComment(id)
	if !ok {
		return
	}
	r.comments = append(r.comments[:i], r.comments[i+1:]...)
	c.noContent()
}

func labelsJSON(names []string) []map[string]any {
	out := []map[string]any{}
	for _, l := range names {
		out = append(out, map[string]any{"name": l, "color": "ededed", "default": false})
	}
	return out
}

func (s *Server) listLabels(c *call, number string) {
	if _, pr, ok := c.issueAccess(number); ok {
		start, end := c.page(len(pr.labels))
		c.json(http.StatusOK, labelsJSON(pr.labels[start:end]))
	}
}

// addLabels accepts a bare array of names, as go-github sends, or
// {"labels": [...]}, and responds with every label the issue now has.
func (s *Server) addLabels(c *call, number string) {
	_, pr, ok := c.issueAccess(number)
	if !ok {
		return
	}
	var names []string
	if trimmed := bytes.TrimSpace(c.body); len(trimmed) > 0 && trimmed[0] == '{' {
		var req struct {
			Labels *[]string `json:"labels"`
		}
		if !c.decode(&req) {
			return
		}
		if req.Labels == nil {
			c.missing("labels")
			return
		}
		names = *req.Labels
	} else if !c.decode(&names) {
		return
	}
	for _, n := range names {
		if strings.TrimSpace(n) == "" {
			c.invalid("label names must not be blank.")
			return
		}
	}
	for _, n := range names {
		if !containsFold(pr.labels, n) {
			pr.labels = append(pr.labels, n)
		}
	}
	c.json(http.StatusOK, labelsJSON(pr.labels))
}

func containsFold(list []string, s string) bool {
	for _, v := range list {
		if strings.EqualFold(v, s) {
			return true
		}
	}
	return false
}
