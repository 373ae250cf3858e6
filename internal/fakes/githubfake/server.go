package githubfake

import (
	"bytes"
	"context"
	"encoding/pem"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"time"
)

// maxBody caps a request body, far above any body this API needs.
const maxBody = 16 << 20

// Options configure a Server.
type Options struct {
	// PlainHTTP serves http:// instead of https://.
	PlainHTTP bool
	// PageSize is the number of items a list endpoint returns when the
	// request has no per_page. It defaults to 5, well below GitHub's 30, so
	// that clients which do not follow Link headers fail in tests.
	PageSize int
	// Now returns the time stamped on objects. It defaults to time.Now.
	Now func() time.Time
}

// Fault is what SetFault's function decides for one request.
type Fault int

const (
	// None handles the request normally.
	None Fault = iota
	// Status500 responds with 500 without handling the request.
	Status500
	// DropConnection closes the connection without handling the request or
	// responding.
	DropConnection
	// DropAfterApply handles the request, so its change is kept, then closes
	// the connection without responding, as when a response is lost in transit.
	DropAfterApply
)

// Request is one request the server received, as recorded by Requests.
type Request struct {
	Method string
	// Path is the request path without the query.
	Path  string
	Query string
	// Status is the response's status code, or 0 when the connection was
	// dropped without a response.
	Status int
	Body   []byte
}

// Server is a running GitHub API fake. Its methods are safe for concurrent
// use.
type Server struct {
	srv  *httptest.Server
	mux  *http.ServeMux
	opts Options

	mu           sync.Mutex
	seq          int
	latency      time.Duration
	fault        func(seq int, r *http.Request) Fault
	rateLimited  int
	actionsNoPRs bool
	tokens       map[string]Permissions
	repos        map[string]*repository // by lower-case "owner/name"
	reposByID    map[int64]*repository
	nextID       int64
	violations   []string
	requests     []Request
	writes       int
}

// New starts a server on 127.0.0.1. Call Close when done.
func New(opts Options) *Server {
	if opts.PageSize <= 0 {
		opts.PageSize = 5
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	s := &Server{
		mux:       http.NewServeMux(),
		opts:      opts,
		tokens:    map[string]Permissions{},
		repos:     map[string]*repository{},
		reposByID: map[int64]*repository{},
		nextID:    100000,
	}
	s.routes()

	srv := httptest.NewUnstartedServer(http.HandlerFunc(s.serve))
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		// httptest panics the same way when it cannot listen.
		panic(fmt.Sprintf("githubfake: listen on loopback: %v", err))
	}
	srv.Listener.Close()
	srv.Listener = ln
	if opts.PlainHTTP {
		srv.Start()
	} else {
		srv.StartTLS()
	}
	s.srv = srv
	return s
}

// Close stops the server and closes its connections.
func (s *Server) Close() { s.srv.Close() }

// URL is the API root with a trailing slash, for go-github's BaseURL.
func (s *Server) URL() string { return s.srv.URL + "/" }

// HTTPClient returns a client that trusts the server's certificate.
func (s *Server) HTTPClient() *http.Client { return s.srv.Client() }

// CertificatePEM is the server's certificate in PEM form, or nil when the
// server speaks plain HTTP.
func (s *Server) CertificatePEM() []byte {
	if s.srv.Certificate() == nil || s.opts.PlainHTTP {
		return nil
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: s.srv.Certificate().Raw})
}

// SetLatency delays every response by d.
func (s *Server) SetLatency(d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.latency = d
}

// SetFault installs f, which is asked about every request before it is
// handled. seq counts requests from 1, and a nil f removes the hook.
func (s *Server) SetFault(f func(seq int, r *http.Request) Fault) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.fault = f
}

// RateLimitWrites rejects the next n content-creating requests (POST, PUT,
// PATCH and DELETE) with GitHub's secondary rate limit: 403, Retry-After: 1
// and the documented message. They change nothing.
func (s *Server) RateLimitWrites(n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.rateLimited = n
}

// SetActionsCannotCreatePullRequests makes every pull request creation fail
// with 403 "GitHub Actions is not permitted to create or approve pull
// requests.", as for GITHUB_TOKEN in a repository that has not enabled it.
func (s *Server) SetActionsCannotCreatePullRequests(on bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.actionsNoPRs = on
}

// Violations lists every contract violation seen so far, oldest first.
func (s *Server) Violations() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.violations...)
}

// Requests lists every request received so far, oldest first.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Request, len(s.requests))
	for i, r := range s.requests {
		r.Body = append([]byte(nil), r.Body...)
		out[i] = r
	}
	return out
}

// WriteCount is the number of requests received with a method other than
// GET and HEAD, whatever their outcome: plan and check modes must leave it
// at zero.
func (s *Server) WriteCount() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.writes
}

func (s *Server) violate(format string, args ...any) {
	s.violations = append(s.violations, fmt.Sprintf(format, args...))
}

func isWrite(method string) bool {
	return method != http.MethodGet && method != http.MethodHead
}

// serve runs the checks shared by every endpoint, then the endpoint.
func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(io.LimitReader(r.Body, maxBody))
	if err != nil {
		http.Error(w, "read body", http.StatusBadRequest)
		return
	}
	r.Body = io.NopCloser(bytes.NewReader(body))

	s.mu.Lock()
	s.seq++
	seq, latency, fault := s.seq, s.latency, s.fault
	if isWrite(r.Method) {
		s.writes++
	}
	idx := len(s.requests)
	s.requests = append(s.requests, Request{Method: r.Method, Path: r.URL.Path, Query: r.URL.RawQuery, Body: body})
	s.mu.Unlock()

	if latency > 0 {
		time.Sleep(latency)
	}
	decision := None
	if fault != nil {
		decision = fault(seq, r)
	}
	rec := &recorder{ResponseWriter: w}
	switch decision {
	case Status500:
		writeError(rec, http.StatusInternalServerError, "Server Error")
	case DropConnection:
		hijackClose(w)
	default:
		s.dispatch(rec, r, body)
	}
	if decision == DropAfterApply {
		hijackClose(w)
	}

	s.mu.Lock()
	if decision == DropConnection || decision == DropAfterApply {
		s.requests[idx].Status = 0
	} else {
		s.requests[idx].Status = rec.code()
	}
	s.mu.Unlock()
	if decision == None || decision == Status500 {
		rec.flush()
	}
}

// dispatch routes r, checks its credentials and rate limit, and calls the
// endpoint with the state locked.
func (s *Server) dispatch(rec *recorder, r *http.Request, body []byte) {
	_, pattern := s.mux.Handler(r)
	s.mu.Lock()
	defer s.mu.Unlock()
	if pattern == "" {
		s.violate("%s %s: no such endpoint", r.Method, r.URL.Path)
		writeError(rec, http.StatusNotFound, "Not Found")
		return
	}
	perms, ok := s.authenticate(rec, r)
	if !ok {
		return
	}
	if isWrite(r.Method) && s.rateLimited > 0 {
		s.rateLimited--
		rec.Header().Set("Retry-After", "1")
		writeJSON(rec, http.StatusForbidden, errorBody{
			Message:          "You have exceeded a secondary rate limit and have been temporarily blocked from content creation. Please retry your request again later.",
			DocumentationURL: "https://docs.github.com/rest/overview/rate-limits-for-the-rest-api#about-secondary-rate-limits",
			Status:           "403",
		})
		return
	}
	c := &call{s: s, w: rec, body: body, perms: perms}
	s.mux.ServeHTTP(rec, r.WithContext(context.WithValue(r.Context(), callKey{}, c)))
}

// authenticate checks the Authorization header and finds the token.
func (s *Server) authenticate(w http.ResponseWriter, r *http.Request) (Permissions, bool) {
	h := r.Header.Get("Authorization")
	if h == "" {
		s.violate("%s %s: no Authorization header", r.Method, r.URL.Path)
		writeError(w, http.StatusUnauthorized, "Requires authentication")
		return Permissions{}, false
	}
	scheme, token, found := strings.Cut(h, " ")
	if !found || (scheme != "Bearer" && scheme != "token") || token == "" || strings.TrimSpace(token) != token {
		s.violate("%s %s: Authorization header is not \"Bearer <token>\" or \"token <token>\"", r.Method, r.URL.Path)
		writeError(w, http.StatusUnauthorized, "Bad credentials")
		return Permissions{}, false
	}
	perms, ok := s.tokens[token]
	if !ok {
		writeError(w, http.StatusUnauthorized, "Bad credentials")
		return Permissions{}, false
	}
	return perms, true
}

// hijackClose closes the client connection without a response.
func hijackClose(w http.ResponseWriter) {
	hj, ok := w.(http.Hijacker)
	if !ok {
		panic(http.ErrAbortHandler)
	}
	conn, _, err := hj.Hijack()
	if err != nil {
		panic(http.ErrAbortHandler)
	}
	conn.Close()
}

// recorder buffers a response so that it can be recorded, dropped or sent.
type recorder struct {
	http.ResponseWriter
	status int
	buf    bytes.Buffer
}

func (r *recorder) WriteHeader(code int) {
	if r.status == 0 {
		r.status = code
	}
}

func (r *recorder) Write(p []byte) (int, error) {
	if r.status == 0 {
		r.status = http.StatusOK
	}
	return r.buf.Write(p)
}

func (r *recorder) code() int {
	if r.status == 0 {
		return http.StatusOK
	}
	return r.status
}

func (r *recorder) flush() {
	r.ResponseWriter.WriteHeader(r.code())
	_, _ = r.ResponseWriter.Write(r.buf.Bytes())
}
