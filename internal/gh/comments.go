package gh

import (
	"context"
	"fmt"
	"strings"
	"unicode/utf16"

	"github.com/google/go-github/v60/github"
)

// MaxCommentLength is GitHub's documented limit on a comment body, in
// characters. UpsertComment counts UTF-16 code units, never fewer than code
// points, so it errs on the short side.
//
// NOTE: GitHub does not document whether it counts code points or UTF-16
// units. Counting UTF-16 units is safe under either reading.
const MaxCommentLength = 65536

// The operations UpsertComment reports.
const (
	CommentCreated = "created"
	CommentUpdated = "updated"
	CommentNone    = "none"
)

// UpsertComment keeps one comment carrying marker (a hidden HTML comment such
// as "<!-- meshcentral-authentik:plan -->") on issue or pull request number.
// It searches every page of comments for the marker, regardless of author,
// creates the comment when none carries it, and edits it in place only when
// its body differs. The marker is put on the first line of body when body
// lacks it. It returns CommentCreated, CommentUpdated or CommentNone.
//
// The body must stay under MaxCommentLength characters; a longer one is an
// error and nothing is sent.
func (c *Client) UpsertComment(ctx context.Context, repo Repo, number int, marker, body string) (string, error) {
	step := fmt.Sprintf("upsert the comment %s on #%d in %q", marker, number, repo)
	if !strings.HasPrefix(marker, "<!--") || !strings.HasSuffix(marker, "-->") || len(marker) < len("<!-- x -->") {
		return "", fmt.Errorf("%s: the marker must be a non-empty HTML comment such as %q", step, "<!-- name -->")
	}
	if !strings.HasPrefix(body, marker) {
		body = marker + "\n" + body
	}
	if n := len(utf16.Encode([]rune(body))); n >= MaxCommentLength {
		return "", fmt.Errorf("%s: the body has %d characters, and GitHub accepts fewer than %d", step, n, MaxCommentLength)
	}

	existing, err := c.findComment(ctx, repo, number, marker)
	if err != nil {
		return "", fmt.Errorf("%s: %w", step, err)
	}
	if existing == nil {
		err := c.call(ctx, func() (*github.Response, error) {
			_, resp, err := c.api.Issues.CreateComment(ctx, repo.Owner, repo.Name, number, &github.IssueComment{Body: github.String(body)})
			return resp, err
		})
		if err != nil {
			return "", fmt.Errorf("%s: create: %w", step, apiError(err, scopeComments))
		}
		return CommentCreated, nil
	}

	if normalizeNewlines(existing.GetBody()) == normalizeNewlines(body) {
		return CommentNone, nil
	}
	err = c.call(ctx, func() (*github.Response, error) {
		_, resp, err := c.api.Issues.EditComment(ctx, repo.Owner, repo.Name, existing.GetID(), &github.IssueComment{Body: github.String(body)})
		return resp, err
	})
	if err != nil {
		return "", fmt.Errorf("%s: edit comment %d: %w", step, existing.GetID(), apiError(err, scopeComments))
	}
	return CommentUpdated, nil
}

// findComment returns the first comment, oldest first, whose body carries
// marker, reading pages until it is found.
func (c *Client) findComment(ctx context.Context, repo Repo, number int, marker string) (*github.IssueComment, error) {
	opts := &github.IssueListCommentsOptions{ListOptions: github.ListOptions{PerPage: 100}}
	for {
		var page []*github.IssueComment
		err := c.call(ctx, func() (*github.Response, error) {
			var resp *github.Response
			var err error
			page, resp, err = c.api.Issues.ListComments(ctx, repo.Owner, repo.Name, number, opts)
			if err == nil {
				opts.Page = resp.NextPage
			}
			return resp, err
		})
		if err != nil {
			return nil, fmt.Errorf("list comments: %w", apiError(err, scopeComments))
		}
		for _, cm := range page {
			// Only a comment that starts with the marker is the sticky one; a
			// comment that merely quotes it belongs to someone else.
			if strings.HasPrefix(strings.TrimSpace(cm.GetBody()), marker) {
				return cm, nil
			}
		}
		if opts.Page == 0 {
			return nil, nil
		}
	}
}
