// Package gh is the action's GitHub adapter: Actions secrets and variables of
// the deployment repository or one of its environments, the pull request that
// carries the config.json edit, and the sticky plan comment.
//
// Start with [New]. A [Client] caches what it reads (repository details,
// public keys, secret names), so a sequence of calls never sends the same
// read twice. Create a new Client for each run. Every method names its
// step and object in its errors and never includes a secret value. Failures
// reported by the API are [*APIError] values, with a hint for the causes that
// have a known fix.
//
// The package is not named github because go-github's package already is.
package gh

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/google/go-github/v60/github"
)

// DefaultAPIURL is the REST endpoint of github.com, used when
// Config.APIURL is empty.
const DefaultAPIURL = "https://api.github.com/"

// Config is the configuration of New. Usually only Token is set, and the
// other fields default to values suited to a workflow run.
type Config struct {
	// Token authenticates every request. It needs Actions secrets and
	// variables, contents and pull requests write access for apply.
	Token string
	// APIURL is the REST API root, the workflow's GITHUB_API_URL, such as
	// https://api.github.com or https://ghe.example.com/api/v3.
	APIURL string
	// HTTPClient sends the requests. Nil means a client with a one-minute
	// timeout.
	HTTPClient *http.Client
	// UserAgent is sent with each request. Empty keeps go-github's.
	UserAgent string
	// Rand is the randomness used to seal secrets. Nil means crypto/rand.
	Rand io.Reader
}

// Client is a GitHub REST API client for one run. It is safe for concurrent
// use, and its caches live as long as the Client.
type Client struct {
	api  *github.Client
	rand io.Reader
	// sleep waits before a retry after a secondary rate limit. Tests
	// replace it.
	sleep func(context.Context, time.Duration) error

	mu        sync.Mutex
	repos     map[string]*RepoInfo
	envs      map[string]bool
	keys      map[string]*publicKey
	secrets   map[string]map[string]bool
	variables map[string]variableState
	// inflight serializes the cached reads per cache key, so concurrent
	// callers wait for the first request instead of sending their own.
	inflight map[string]*sync.Mutex
	// pulls holds what FindPullRequest found, by repository and branch.
	pulls map[string]*github.PullRequest
}

// single locks key and returns the unlock function. Cached reads take it
// before looking at their cache.
func (c *Client) single(key string) (unlock func()) {
	c.mu.Lock()
	if c.inflight == nil {
		c.inflight = map[string]*sync.Mutex{}
	}
	m, ok := c.inflight[key]
	if !ok {
		m = &sync.Mutex{}
		c.inflight[key] = m
	}
	c.mu.Unlock()
	m.Lock()
	return m.Unlock
}

// New returns a Client for cfg. It sends no request.
func New(cfg Config) (*Client, error) {
	hc := cfg.HTTPClient
	if hc == nil {
		hc = &http.Client{Timeout: time.Minute}
	}
	api := github.NewClient(hc)
	if cfg.Token != "" {
		api = api.WithAuthToken(cfg.Token)
	}

	raw := cfg.APIURL
	if raw == "" {
		raw = DefaultAPIURL
	}
	base, err := url.Parse(raw)
	if err != nil || (base.Scheme != "https" && base.Scheme != "http") || base.Host == "" {
		return nil, fmt.Errorf("parse GitHub API URL %q: invalid, expected an absolute http(s) URL such as %q", raw, DefaultAPIURL)
	}
	if !strings.HasSuffix(base.Path, "/") {
		base.Path += "/"
	}
	api.BaseURL = base
	if cfg.UserAgent != "" {
		api.UserAgent = cfg.UserAgent
	}

	rnd := cfg.Rand
	if rnd == nil {
		rnd = rand.Reader
	}
	return &Client{
		api:       api,
		rand:      rnd,
		sleep:     sleepContext,
		repos:     map[string]*RepoInfo{},
		envs:      map[string]bool{},
		keys:      map[string]*publicKey{},
		secrets:   map[string]map[string]bool{},
		variables: map[string]variableState{},
	}, nil
}

// Repo names a repository as owner and name.
type Repo struct{ Owner, Name string }

// String returns "owner/name".
func (r Repo) String() string { return r.Owner + "/" + r.Name }

var (
	ownerPattern = regexp.MustCompile(`^[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?$`)
	namePattern  = regexp.MustCompile(`^[A-Za-z0-9._-]+$`)
)

// ParseRepo parses "owner/name", as in GITHUB_REPOSITORY.
func ParseRepo(s string) (Repo, error) {
	owner, name, ok := strings.Cut(strings.TrimSpace(s), "/")
	if !ok || strings.Contains(name, "/") || owner == "" || name == "" {
		return Repo{}, fmt.Errorf("parse repository %q: invalid, expected the form owner/name, such as %q", s, "octo-org/meshcentral")
	}
	if !ownerPattern.MatchString(owner) {
		return Repo{}, fmt.Errorf("parse repository %q: owner %q may contain only letters, digits and inner hyphens", s, owner)
	}
	if !namePattern.MatchString(name) || name == "." || name == ".." {
		return Repo{}, fmt.Errorf("parse repository %q: name %q may contain only letters, digits, '.', '-' and '_'", s, name)
	}
	return Repo{Owner: owner, Name: name}, nil
}

// RepoInfo holds the repository details the adapter uses.
type RepoInfo struct {
	// ID is the numeric repository ID, which environment endpoints use.
	ID            int64
	FullName      string
	DefaultBranch string
	// CanPush is the token's "push" permission as the repository response
	// reports it, or nil when the response has no permissions object.
	CanPush *bool
}

// Repository fetches the repository's ID and default branch, once per Client.
// On a 404 the error states that the repository does not exist or that the
// token cannot see it.
func (c *Client) Repository(ctx context.Context, repo Repo) (*RepoInfo, error) {
	defer c.single("repo\x00" + repo.String())()
	c.mu.Lock()
	info, ok := c.repos[repo.String()]
	c.mu.Unlock()
	if ok {
		return info, nil
	}

	var r *github.Repository
	err := c.call(ctx, func() (*github.Response, error) {
		var resp *github.Response
		var err error
		r, resp, err = c.api.Repositories.Get(ctx, repo.Owner, repo.Name)
		return resp, err
	})
	if err != nil {
		return nil, fmt.Errorf("get GitHub repository %q: %w", repo, apiError(err, scopeRepo))
	}

	info = &RepoInfo{ID: r.GetID(), FullName: r.GetFullName(), DefaultBranch: r.GetDefaultBranch()}
	if push, ok := r.GetPermissions()["push"]; ok {
		info.CanPush = &push
	}
	c.mu.Lock()
	c.repos[repo.String()] = info
	c.mu.Unlock()
	return info, nil
}

// Environment checks that the deployment environment env exists in repo.
// The result is cached.
func (c *Client) Environment(ctx context.Context, repo Repo, env string) error {
	if env == "" {
		return fmt.Errorf("check GitHub environment of %q: the environment name is empty", repo)
	}
	key := repo.String() + "\x00" + env
	c.mu.Lock()
	exists, ok := c.envs[key]
	c.mu.Unlock()
	if !ok {
		if _, err := c.Repository(ctx, repo); err != nil {
			return err
		}
		err := c.call(ctx, func() (*github.Response, error) {
			_, resp, err := c.api.Repositories.GetEnvironment(ctx, repo.Owner, repo.Name, url.PathEscape(env))
			return resp, err
		})
		switch {
		case isStatus(err, http.StatusNotFound):
			exists = false
		case err != nil:
			return fmt.Errorf("get GitHub environment %q of %q: %w", env, repo, apiError(err, scopeRepo))
		default:
			exists = true
		}
		c.mu.Lock()
		c.envs[key] = exists
		c.mu.Unlock()
	}
	if !exists {
		return fmt.Errorf("get GitHub environment %q of %q: %w", env, repo, ErrEnvironmentNotFound)
	}
	return nil
}

// ErrEnvironmentNotFound is wrapped by Environment when the environment is
// missing.
var ErrEnvironmentNotFound = errors.New("environment not found: create it under the repository's Settings → Environments, or leave the environment input empty for repository secrets")

// maxRetries bounds the retries after a secondary rate limit, and
// maxRetryWait the wait before each.
const (
	maxRetries   = 3
	maxRetryWait = 2 * time.Minute
)

// call runs one request, retrying when GitHub responds with a secondary rate
// limit and a Retry-After that is short enough to wait for. GitHub processes
// no part of a request it limits, so retrying a write is safe.
func (c *Client) call(ctx context.Context, do func() (*github.Response, error)) error {
	for attempt := 0; ; attempt++ {
		resp, err := do()
		if err == nil || attempt == maxRetries {
			return err
		}
		wait, ok := retryAfter(resp, err)
		if !ok || wait > maxRetryWait {
			return err
		}
		if serr := c.sleep(ctx, wait); serr != nil {
			return err
		}
	}
}

// retryAfter returns the wait GitHub requested with a secondary rate limit
// (403 or 429 with Retry-After).
func retryAfter(resp *github.Response, err error) (time.Duration, bool) {
	var abuse *github.AbuseRateLimitError
	if errors.As(err, &abuse) && abuse.RetryAfter != nil {
		return *abuse.RetryAfter, true
	}
	if resp == nil || resp.Response == nil || resp.StatusCode != http.StatusTooManyRequests {
		return 0, false
	}
	var secs int
	if _, serr := fmt.Sscanf(resp.Header.Get("Retry-After"), "%d", &secs); serr != nil || secs < 0 {
		return time.Minute, true
	}
	return time.Duration(secs) * time.Second, true
}

func sleepContext(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
