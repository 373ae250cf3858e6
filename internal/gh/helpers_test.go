package gh

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

// stubAPI is a small router for tests that need one or two endpoints. Each
// route is registered with a Go 1.22 pattern ("GET /repos/{owner}/{repo}");
// a request no route matches fails the test. Every request is logged as
// "METHOD /path?query".
type stubAPI struct {
	t   *testing.T
	mux *http.ServeMux

	mu   sync.Mutex
	log  []string
	body map[string][]byte
}

func newStub(t *testing.T) *stubAPI {
	t.Helper()
	s := &stubAPI{t: t, mux: http.NewServeMux(), body: map[string][]byte{}}
	s.mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		t.Errorf("unexpected request %s %s", r.Method, r.URL.RequestURI())
		writeJSONStatus(w, http.StatusNotFound, map[string]string{"message": "Not Found"})
	})
	return s
}

func (s *stubAPI) handle(pattern string, h func(w http.ResponseWriter, r *http.Request, body []byte)) {
	s.mux.HandleFunc(pattern, func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		s.mu.Lock()
		s.body[r.Method+" "+r.URL.EscapedPath()] = body
		s.mu.Unlock()
		h(w, r, body)
	})
}

// json registers a route that responds with status and v.
func (s *stubAPI) json(pattern string, status int, v any) {
	s.handle(pattern, func(w http.ResponseWriter, _ *http.Request, _ []byte) { writeJSONStatus(w, status, v) })
}

func (s *stubAPI) requests() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.log...)
}

// count returns how many logged requests are "METHOD /path", with any query.
func (s *stubAPI) count(methodPath string) int {
	n := 0
	for _, r := range s.requests() {
		if r == methodPath || strings.HasPrefix(r, methodPath+"?") {
			n++
		}
	}
	return n
}

// writes returns the logged requests that are not reads.
func (s *stubAPI) writes() []string {
	var out []string
	for _, r := range s.requests() {
		if !strings.HasPrefix(r, "GET ") {
			out = append(out, r)
		}
	}
	return out
}

func (s *stubAPI) sent(methodPath string) []byte {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.body[methodPath]
}

// start serves the routes on 127.0.0.1 and returns a Client pointed at them.
func (s *stubAPI) start(cfg Config) *Client {
	s.t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if got := r.Header.Get("Authorization"); got != "Bearer test-token" {
			s.t.Errorf("%s %s: Authorization %q, want the bearer token", r.Method, r.URL.Path, got)
		}
		s.mu.Lock()
		s.log = append(s.log, r.Method+" "+r.URL.RequestURI())
		s.mu.Unlock()
		s.mux.ServeHTTP(w, r)
	}))
	s.t.Cleanup(srv.Close)
	cfg.Token = "test-token"
	if cfg.APIURL == "" {
		cfg.APIURL = srv.URL
	} else {
		cfg.APIURL = srv.URL + cfg.APIURL
	}
	c, err := New(cfg)
	if err != nil {
		s.t.Fatalf("New: %v", err)
	}
	c.sleep = func(context.Context, time.Duration) error { return nil }
	return c
}

func writeJSONStatus(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// repoJSON returns the repository fields the client reads.
func repoJSON(id int64, fullName, defaultBranch string) map[string]any {
	return map[string]any{"id": id, "full_name": fullName, "default_branch": defaultBranch}
}

var testRepo = Repo{Owner: "octo", Name: "deploy"}
