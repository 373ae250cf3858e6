// Package authentikfake is an authentik API server for tests, the benchmark
// and the local demo. It keeps its objects in memory and checks every
// request and every response against authentik's own OpenAPI description
// (schema.yml of the goauthentik.io/api/v3 module), so a client that passes
// against the fake sends what a real server accepts.
//
// Start with [Start], which serves the fake on 127.0.0.1 over TLS, and
// assert [Fake.Violations] is empty at the end of a test. The fake mounts
// the OpenID Connect side of its applications at /application/o/.
//
// What the fake does like authentik (2024.10 and later): provider names are
// unique across provider types, application slugs and client IDs are
// unique, a provider belongs to at most one application, invalidation_flow
// is required on create and full update, client IDs (40 characters) and
// secrets (128 characters) are generated when not given, and lists are
// paginated with authentik's pagination object.
package authentikfake

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/meshauth/meshcentral-authentik-action/internal/fakes/oidcfake"
)

// Options configures a fake. The zero value is ready to use.
type Options struct {
	// SchemaPath overrides where authentik's OpenAPI description is read
	// from, as described at [SchemaPath].
	SchemaPath string
	// Token is the bearer token with full access, DefaultToken when empty.
	Token string
	// PageSize is the default page size of lists, 2 when zero, small so
	// that clients must follow pagination.
	PageSize int
	// BaseURL is the external URL of the server, such as
	// "https://127.0.0.1:8443", for setup URLs and the OIDC issuer. When
	// empty, [Start] sets it, and a handler served another way derives it
	// from the first request.
	BaseURL string
	// PlainHTTP makes [Start] serve plain HTTP instead of TLS.
	PlainHTTP bool
	// Addr is the loopback address [Start] listens on, "127.0.0.1:0" when
	// empty.
	Addr string
}

// Access is the set of requests a token may make.
type Access int

// The access levels of a token.
const (
	// AccessFull is a superuser's token.
	AccessFull Access = iota
	// AccessReadOnly may read every object but write none: writes get 403.
	AccessReadOnly
	// AccessNone may only read its own user (core/users/me/), and every
	// other request gets 403.
	AccessNone
)

// Fault is the failure the fake injects into one request instead of serving it.
type Fault int

// The faults [Fake.SetFault] can inject.
const (
	// FaultNone serves the request normally.
	FaultNone Fault = iota
	// FaultStatus500 responds 500 without touching state.
	FaultStatus500
	// FaultDropConnection closes the connection without a response and
	// without touching state.
	FaultDropConnection
	// FaultDropAfterApply serves the request, changing state, then closes
	// the connection without sending the response, as a timeout after a
	// committed write looks to a client.
	FaultDropAfterApply
)

// Request is one request the fake received.
type Request struct {
	Method string
	Path   string
	// Query is the raw query string.
	Query string
	Body  []byte
	// Status is the status sent, 0 when the connection was dropped.
	Status int
}

// Fake is the authentik API as an [http.Handler]. Its methods are safe for
// concurrent use.
type Fake struct {
	contract *contract
	opts     Options
	state    *state

	mu         sync.Mutex
	tokens     map[string]Access
	user       oidcfake.User
	requests   []Request
	writes     int
	seq        int
	latency    time.Duration
	fault      func(seq int, r *http.Request) Fault
	violations []string
	baseURL    string
	oidc       http.Handler
}

// New returns a fake with the seed data: four flows, two keypairs (one
// with an RSA-2048 private key), the managed openid, email and profile
// scope mappings plus one unmanaged look-alike, and the groups "admins"
// and "staff". It loads the schema on first use in the process.
func New(opts Options) (*Fake, error) {
	path, err := SchemaPath(opts.SchemaPath)
	if err != nil {
		return nil, err
	}
	c, err := loadContract(path)
	if err != nil {
		return nil, err
	}
	st, err := newState()
	if err != nil {
		return nil, err
	}
	if opts.Token == "" {
		opts.Token = DefaultToken
	}
	if opts.PageSize <= 0 {
		opts.PageSize = 2
	}
	return &Fake{
		contract: c,
		opts:     opts,
		state:    st,
		tokens:   map[string]Access{opts.Token: AccessFull},
		user: oidcfake.User{
			Username: "akadmin",
			Email:    "akadmin@example.com",
			Name:     "authentik Default Admin",
			Groups:   []string{"admins"},
		},
		baseURL: strings.TrimSuffix(opts.BaseURL, "/"),
	}, nil
}

// ServeHTTP serves the API under /api/v3/ and the OIDC endpoints under
// /application/o/.
func (f *Fake) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		http.Error(w, "read request body", http.StatusBadRequest)
		return
	}
	r.Body = io.NopCloser(bytes.NewReader(body))

	f.mu.Lock()
	f.seq++
	seq := f.seq
	latency, faultFn := f.latency, f.fault
	isAPI := strings.HasPrefix(r.URL.Path, "/api/v3/")
	if isAPI && r.Method != http.MethodGet {
		f.writes++
	}
	if f.baseURL == "" {
		f.baseURL = requestBase(r)
	}
	f.mu.Unlock()

	if latency > 0 {
		select {
		case <-time.After(latency):
		case <-r.Context().Done():
			f.record(r, body, 0)
			return
		}
	}

	fault := FaultNone
	if faultFn != nil {
		fault = faultFn(seq, r)
	}
	switch fault {
	case FaultStatus500:
		f.record(r, body, http.StatusInternalServerError)
		http.Error(w, "Server Error (500)", http.StatusInternalServerError)
		return
	case FaultDropConnection:
		f.record(r, body, 0)
		dropConnection(w)
		return
	}

	var resp *response
	switch {
	case isAPI:
		resp = f.serveAPI(r, body)
	case strings.HasPrefix(r.URL.Path, "/application/o/"):
		resp = f.serveOIDC(r)
	default:
		resp = jsonResponse(http.StatusNotFound, map[string]any{"detail": "Not found."})
	}

	if fault == FaultDropAfterApply {
		f.record(r, body, 0)
		dropConnection(w)
		return
	}
	f.record(r, body, resp.status)
	resp.write(w)
}

func (f *Fake) record(r *http.Request, body []byte, status int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.requests = append(f.requests, Request{
		Method: r.Method,
		Path:   r.URL.Path,
		Query:  r.URL.RawQuery,
		Body:   body,
		Status: status,
	})
}

func (f *Fake) violate(format string, args ...any) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.violations = append(f.violations, fmt.Sprintf(format, args...))
}

// dropConnection closes the client's connection without a response.
func dropConnection(w http.ResponseWriter) {
	hj, ok := w.(http.Hijacker)
	if !ok {
		// HTTP/2 cannot hijack: abort the stream instead.
		panic(http.ErrAbortHandler)
	}
	conn, _, err := hj.Hijack()
	if err != nil {
		panic(http.ErrAbortHandler)
	}
	_ = conn.Close()
}

func requestBase(r *http.Request) string {
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + r.Host
}

// response is an answer built by a handler and checked before it is sent.
type response struct {
	status      int
	contentType string
	body        []byte
	header      http.Header
}

func jsonResponse(status int, v any) *response {
	if status == http.StatusNoContent {
		return &response{status: status}
	}
	b, err := json.Marshal(v)
	if err != nil {
		return &response{status: http.StatusInternalServerError, contentType: "text/plain", body: []byte("encode response: " + err.Error())}
	}
	return &response{status: status, contentType: "application/json", body: b}
}

func (resp *response) write(w http.ResponseWriter) {
	for k, vs := range resp.header {
		for _, v := range vs {
			w.Header().Add(k, v)
		}
	}
	if resp.contentType != "" {
		w.Header().Set("Content-Type", resp.contentType)
	}
	w.WriteHeader(resp.status)
	_, _ = w.Write(resp.body)
}

// Violations returns every contract violation seen so far: requests that do
// not match the schema (answered 400) and responses of the fake that do
// not match it (a bug in the fake).
func (f *Fake) Violations() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.violations...)
}

// Requests returns every request received since the last [Fake.Reset], in
// order of arrival of their answers.
func (f *Fake) Requests() []Request {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]Request(nil), f.requests...)
}

// WriteCount returns how many API requests (under /api/v3/) with a method
// other than GET arrived since the last [Fake.Reset], including those that
// were rejected or faulted.
func (f *Fake) WriteCount() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.writes
}

// Reset clears the request log, the write count and the sequence numbers
// passed to the fault function. It keeps state and violations.
func (f *Fake) Reset() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.requests = nil
	f.writes = 0
	f.seq = 0
}

// SetLatency delays every later request by d before it is served.
func (f *Fake) SetLatency(d time.Duration) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.latency = d
}

// SetFault installs fn, called for every request with its 1-based sequence
// number since the last [Fake.Reset]. A nil fn removes it.
func (f *Fake) SetFault(fn func(seq int, r *http.Request) Fault) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.fault = fn
}

// SetToken adds or changes a bearer token and what it may do.
func (f *Fake) SetToken(token string, access Access) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.tokens[token] = access
}

// SetVersion changes the version admin/version/ reports.
func (f *Fake) SetVersion(v string) {
	f.state.mu.Lock()
	defer f.state.mu.Unlock()
	f.state.version = v
}

// BaseURL returns the external URL of the server, "" before it is known.
func (f *Fake) BaseURL() string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.baseURL
}
