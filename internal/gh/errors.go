package gh

import (
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/google/go-github/v60/github"
)

// APIError is an HTTP failure reported by the GitHub API. Callers wrap it
// with the step and object, so its text contains only the status, GitHub's
// message and a hint.
type APIError struct {
	// Status is the HTTP status code, such as 403.
	Status int
	// Message is GitHub's own message, such as "Resource not accessible by
	// integration".
	Message string
	// Details lists the per-field errors GitHub sent with a 422.
	Details []string
	// Hint describes the fix for a known cause. It is empty for other causes.
	Hint string
	// RetryAfter is the wait GitHub requested with a rate limit.
	RetryAfter string
}

func (e *APIError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%d %s", e.Status, http.StatusText(e.Status))
	if e.Message != "" {
		b.WriteString(": " + e.Message)
	}
	if len(e.Details) > 0 {
		b.WriteString(" (" + strings.Join(e.Details, "; ") + ")")
	}
	if e.RetryAfter != "" {
		b.WriteString("; retry after " + e.RetryAfter)
	}
	if e.Hint != "" {
		b.WriteString("; " + e.Hint)
	}
	return b.String()
}

// scope is the family of endpoint a request belongs to, which decides the
// hint for a 403 or 404.
type scope int

const (
	scopeRepo scope = iota
	scopeSecrets
	scopeVariables
	scopeContents
	scopePulls
	scopeComments
)

// Messages GitHub sends for the cases that get a hint.
const (
	msgNotAccessible    = "Resource not accessible by integration"
	msgNotAccessiblePAT = "Resource not accessible by personal access token"
	msgActionsNoPulls   = "GitHub Actions is not permitted to create or approve pull requests"
	msgPullExists       = "A pull request already exists"
)

// Hints for the known causes.
const (
	hintSecrets = `the default GITHUB_TOKEN cannot write Actions secrets: ` +
		`pass a GitHub App installation token or a fine-grained token with "Secrets: read and write" as github-token`
	hintVariables = `the token lacks write access to Actions variables: ` +
		`pass a GitHub App installation token or a fine-grained token with "Variables: read and write" as github-token`
	hintContents = `the token cannot push branches: grant "contents: write" in the workflow's permissions, ` +
		`or pass a token with "Contents: read and write"`
	hintPulls = `the token cannot open or edit pull requests: grant "pull-requests: write" in the workflow's permissions, ` +
		`or pass a token with "Pull requests: read and write"`
	hintComments = `the token cannot comment: grant "pull-requests: write" in the workflow's permissions ` +
		`(on pull requests from forks GITHUB_TOKEN is read-only)`
	hintActionsPulls = `allow it under the repository's Settings → Actions → General → Workflow permissions ` +
		`("Allow GitHub Actions to create and approve pull requests"), or pass a GitHub App installation token as github-token`
	hintRepoNotFound = "the repository does not exist or the token cannot see it; " +
		"check deployment-repository and that github-token has access to that repository"
	hintBadCredentials = "the token is invalid or expired; check github-token"
	hintRateLimit      = "the API rate limit is exhausted; run again later or use a GitHub App token, which has a higher limit"
)

// apiError turns an error from go-github into an *APIError with a hint, or
// returns err unchanged when it is not an HTTP failure (a network error, a
// cancelled context).
func apiError(err error, sc scope) error {
	if err == nil {
		return nil
	}
	e := toAPIError(err)
	if e == nil {
		return err
	}
	if e.Hint == "" {
		e.Hint = hintFor(e, sc)
	}
	return e
}

func toAPIError(err error) *APIError {
	var (
		already *APIError
		rate    *github.RateLimitError
		abuse   *github.AbuseRateLimitError
		resp    *github.ErrorResponse
	)
	switch {
	case errors.As(err, &already):
		return already
	case errors.As(err, &rate):
		return &APIError{
			Status:     statusOf(rate.Response, http.StatusForbidden),
			Message:    rate.Message,
			RetryAfter: rate.Rate.Reset.Time.UTC().Format("15:04:05 UTC"),
			Hint:       hintRateLimit,
		}
	case errors.As(err, &abuse):
		e := &APIError{Status: statusOf(abuse.Response, http.StatusForbidden), Message: abuse.Message}
		if abuse.RetryAfter != nil {
			e.RetryAfter = abuse.RetryAfter.String()
		}
		return e
	case errors.As(err, &resp):
		e := &APIError{Status: statusOf(resp.Response, 0), Message: resp.Message}
		for _, d := range resp.Errors {
			e.Details = append(e.Details, detailText(d))
		}
		if e.Status == http.StatusTooManyRequests && resp.Response != nil {
			e.RetryAfter = resp.Response.Header.Get("Retry-After")
		}
		return e
	}
	return nil
}

func statusOf(r *http.Response, fallback int) int {
	if r == nil {
		return fallback
	}
	return r.StatusCode
}

func detailText(d github.Error) string {
	if d.Message != "" {
		return d.Message
	}
	parts := []string{}
	for _, s := range []string{d.Resource, d.Field, d.Code} {
		if s != "" {
			parts = append(parts, s)
		}
	}
	return strings.Join(parts, " ")
}

func hintFor(e *APIError, sc scope) string {
	text := e.Message + " " + strings.Join(e.Details, " ")
	switch {
	case strings.Contains(text, msgActionsNoPulls):
		return hintActionsPulls
	case e.Status == http.StatusUnauthorized:
		return hintBadCredentials
	case e.Status == http.StatusNotFound && sc == scopeRepo:
		return hintRepoNotFound
	case e.Status == http.StatusForbidden && strings.Contains(text, msgNotAccessiblePAT):
		return patHint(sc)
	case e.Status != http.StatusForbidden || !strings.Contains(text, msgNotAccessible):
		return ""
	}
	switch sc {
	case scopeSecrets:
		return hintSecrets
	case scopeVariables:
		return hintVariables
	case scopeContents:
		return hintContents
	case scopePulls:
		return hintPulls
	case scopeComments:
		return hintComments
	}
	return ""
}

// patHint names the fine-grained token permission that a refused request
// needs.
func patHint(sc scope) string {
	permission := map[scope]string{
		scopeSecrets:   "Secrets: read and write",
		scopeVariables: "Variables: read and write",
		scopeContents:  "Contents: read and write",
		scopePulls:     "Pull requests: read and write",
		scopeComments:  "Pull requests: read and write",
	}[sc]
	if permission == "" {
		return ""
	}
	return fmt.Sprintf("the personal access token lacks %q on this repository: grant it, or use a GitHub App installation token", permission)
}

// isStatus reports whether err is an API failure with the given status.
func isStatus(err error, status int) bool {
	e := toAPIError(err)
	return e != nil && e.Status == status
}

// hasMessage reports whether err is an API failure whose message or details
// contain text.
func hasMessage(err error, text string) bool {
	e := toAPIError(err)
	if e == nil {
		return false
	}
	return strings.Contains(e.Message+" "+strings.Join(e.Details, " "), text)
}
