package gh

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

func TestParseRepo(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in      string
		want    Repo
		wantErr string
	}{
		{"octo/deploy", Repo{"octo", "deploy"}, ""},
		{" my-org/site.config_v2 ", Repo{"my-org", "site.config_v2"}, ""},
		{"octo", Repo{}, "expected the form owner/name"},
		{"octo/deploy/extra", Repo{}, "expected the form owner/name"},
		{"/deploy", Repo{}, "expected the form owner/name"},
		{"octo/", Repo{}, "expected the form owner/name"},
		{"-octo/deploy", Repo{}, `owner "-octo"`},
		{"octo/dep loy", Repo{}, `name "dep loy"`},
		{"octo/..", Repo{}, `name ".."`},
	}
	for _, tt := range tests {
		got, err := ParseRepo(tt.in)
		switch {
		case tt.wantErr == "" && (err != nil || got != tt.want):
			t.Errorf("ParseRepo(%q) = %v, %v; want %v", tt.in, got, err, tt.want)
		case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
			t.Errorf("ParseRepo(%q) error = %v, want one containing %q", tt.in, err, tt.wantErr)
		}
	}
	if s := (Repo{"octo", "deploy"}).String(); s != "octo/deploy" {
		t.Errorf("String() = %q", s)
	}
}

func TestNewRejectsBadAPIURL(t *testing.T) {
	t.Parallel()
	for _, u := range []string{"api.github.com", "ftp://example.test/", "://"} {
		if _, err := New(Config{APIURL: u}); err == nil || !strings.Contains(err.Error(), "parse GitHub API URL") {
			t.Errorf("New(APIURL %q) error = %v, want a parse error", u, err)
		}
	}
}

func TestEnterpriseAPIPathAndUserAgent(t *testing.T) {
	t.Parallel()
	s := newStub(t)
	s.handle("GET /api/v3/repos/octo/deploy", func(w http.ResponseWriter, r *http.Request, _ []byte) {
		if ua := r.Header.Get("User-Agent"); ua != "meshcentral-authentik-action/test" {
			t.Errorf("User-Agent = %q", ua)
		}
		writeJSONStatus(w, 200, repoJSON(42, "octo/deploy", "trunk"))
	})
	c := s.start(Config{APIURL: "/api/v3", UserAgent: "meshcentral-authentik-action/test"})

	for range 2 {
		info, err := c.Repository(context.Background(), testRepo)
		if err != nil {
			t.Fatal(err)
		}
		if info.ID != 42 || info.DefaultBranch != "trunk" || info.FullName != "octo/deploy" {
			t.Errorf("Repository = %+v", info)
		}
	}
	if n := len(s.requests()); n != 1 {
		t.Errorf("sent %d requests, want 1 (cached): %q", n, s.requests())
	}
}

func TestRepositoryNotFoundHint(t *testing.T) {
	t.Parallel()
	s := newStub(t)
	s.json("GET /repos/octo/deploy", 404, map[string]string{"message": "Not Found"})
	c := s.start(Config{})

	_, err := c.Repository(context.Background(), testRepo)
	want := `get GitHub repository "octo/deploy": 404 Not Found: Not Found; the repository does not exist or the token cannot see it`
	if err == nil || !strings.HasPrefix(err.Error(), want) {
		t.Fatalf("Repository error = %v, want prefix %q", err, want)
	}
}

func TestEnvironment(t *testing.T) {
	t.Parallel()
	s := newStub(t)
	s.json("GET /repos/octo/deploy", 200, repoJSON(42, "octo/deploy", "main"))
	s.json("GET /repos/octo/deploy/environments/production", 200, map[string]any{"name": "production"})
	s.json("GET /repos/octo/deploy/environments/staging", 404, map[string]string{"message": "Not Found"})
	c := s.start(Config{})
	ctx := context.Background()

	if err := c.Environment(ctx, testRepo, "production"); err != nil {
		t.Errorf("Environment(production) = %v", err)
	}
	err := c.Environment(ctx, testRepo, "staging")
	if !errors.Is(err, ErrEnvironmentNotFound) || !strings.Contains(err.Error(), `environment "staging" of "octo/deploy"`) {
		t.Errorf("Environment(staging) = %v, want ErrEnvironmentNotFound naming it", err)
	}
	_ = c.Environment(ctx, testRepo, "staging")
	if n := s.count("GET /repos/octo/deploy/environments/staging"); n != 1 {
		t.Errorf("asked for staging %d times, want once", n)
	}
}

func TestRetriesAfterSecondaryRateLimit(t *testing.T) {
	t.Parallel()
	var calls atomic.Int32
	s := newStub(t)
	s.handle("GET /repos/octo/deploy", func(w http.ResponseWriter, _ *http.Request, _ []byte) {
		if calls.Add(1) == 1 {
			w.Header().Set("Retry-After", "0")
			writeJSONStatus(w, 403, map[string]string{
				"message":           "You have exceeded a secondary rate limit.",
				"documentation_url": "https://docs.github.com/rest/overview/rate-limits-for-the-rest-api#about-secondary-rate-limits",
			})
			return
		}
		writeJSONStatus(w, 200, repoJSON(42, "octo/deploy", "main"))
	})
	c := s.start(Config{})
	var waited []time.Duration
	c.sleep = func(_ context.Context, d time.Duration) error { waited = append(waited, d); return nil }

	if _, err := c.Repository(context.Background(), testRepo); err != nil {
		t.Fatalf("Repository after one secondary rate limit: %v", err)
	}
	if calls.Load() != 2 || len(waited) != 1 {
		t.Errorf("calls = %d, waits = %v; want 2 calls and 1 wait", calls.Load(), waited)
	}
}

func TestGivesUpOnLongRetryAfter(t *testing.T) {
	t.Parallel()
	s := newStub(t)
	s.handle("GET /repos/octo/deploy", func(w http.ResponseWriter, _ *http.Request, _ []byte) {
		w.Header().Set("Retry-After", "3600")
		writeJSONStatus(w, 429, map[string]string{"message": "Too many requests"})
	})
	c := s.start(Config{})

	_, err := c.Repository(context.Background(), testRepo)
	if err == nil || !strings.Contains(err.Error(), "429 Too Many Requests") || !strings.Contains(err.Error(), "retry after 3600") {
		t.Fatalf("Repository = %v, want a 429 naming the wait", err)
	}
	if n := len(s.requests()); n != 1 {
		t.Errorf("sent %d requests, want 1", n)
	}
}
