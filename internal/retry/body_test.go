package retry

import (
	"bytes"
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

func TestReplaysWholeBodyOnEveryAttempt(t *testing.T) {
	t.Parallel()
	const payload = `{"redirect_uris":[{"matching_mode":"strict","url":"https://mesh.example.com/auth-oidc-callback"}],"client_type":"confidential"}`
	cases := []struct {
		name   string
		method string
		body   func() io.Reader
	}{
		{"PATCH with GetBody", http.MethodPatch, func() io.Reader { return strings.NewReader(payload) }},
		{"PUT with GetBody", http.MethodPut, func() io.Reader { return bytes.NewBufferString(payload) }},
		{"PUT without GetBody", http.MethodPut, func() io.Reader { return onlyReader{strings.NewReader(payload)} }},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			srv := newServer(t, 2, func(w http.ResponseWriter, r *http.Request) {
				// Fail after reading, as a proxy that timed out would.
				if r.ContentLength != int64(len(payload)) {
					t.Errorf("server: Content-Length = %d; want %d", r.ContentLength, len(payload))
				}
				w.WriteHeader(http.StatusBadGateway)
			})
			rt, _ := newHarness(Options{})
			req := newRequest(t, tc.method, srv.URL+"/api/v3/providers/oauth2/7/", tc.body())

			got, _, err := send(t, rt, req)
			if err != nil {
				t.Fatalf("RoundTrip: %v", err)
			}
			if got != http.StatusOK {
				t.Errorf("status = %d; want 200", got)
			}
			want := []string{payload, payload, payload}
			if b := srv.received(); !slices.Equal(b, want) {
				t.Errorf("server received %q; want the whole body three times", b)
			}
		})
	}
}

// TestReplaysBodyThroughAnyBase checks replay with a base that, unlike
// http.Transport, does not rewind bodies on its own.
func TestReplaysBodyThroughAnyBase(t *testing.T) {
	t.Parallel()
	const payload = `{"name":"Provider for MeshCentral"}`
	for _, withGetBody := range []bool{true, false} {
		var got []string
		base := roundTripFunc(func(r *http.Request) (*http.Response, error) {
			b, err := io.ReadAll(r.Body)
			r.Body.Close()
			if err != nil {
				return nil, err
			}
			got = append(got, string(b))
			code := http.StatusOK
			if len(got) < 3 {
				code = http.StatusServiceUnavailable
			}
			return &http.Response{StatusCode: code, Header: http.Header{}, Body: http.NoBody, Request: r}, nil
		})
		rt, _ := newHarness(Options{Base: base})
		var body io.Reader = strings.NewReader(payload)
		if !withGetBody {
			body = onlyReader{body}
		}

		if _, _, err := send(t, rt, newRequest(t, http.MethodPatch, "http://127.0.0.1/x", body)); err != nil {
			t.Fatalf("GetBody %v: RoundTrip: %v", withGetBody, err)
		}
		if want := []string{payload, payload, payload}; !slices.Equal(got, want) {
			t.Errorf("GetBody %v: base received %q; want the whole body three times", withGetBody, got)
		}
	}
}

func TestRewindErrorStopsTheRequest(t *testing.T) {
	t.Parallel()
	srv := newServer(t, 1, status(http.StatusServiceUnavailable, ""))
	rt, _ := newHarness(Options{})
	req := newRequest(t, http.MethodPut, srv.URL+"/x", strings.NewReader("abc"))
	req.GetBody = func() (io.ReadCloser, error) { return nil, errors.New("gone") }

	_, _, err := send(t, rt, req)
	if err == nil || !strings.Contains(err.Error(), `rewind request body of PUT "/x": gone`) {
		t.Errorf("RoundTrip error = %v; want the rewind error", err)
	}
	if n := srv.hits(); n != 1 {
		t.Errorf("server hits = %d; want 1", n)
	}
}

func TestDoesNotModifyCallersRequest(t *testing.T) {
	t.Parallel()
	srv := newServer(t, 1, status(http.StatusInternalServerError, ""))
	rt, _ := newHarness(Options{})
	body := onlyReader{strings.NewReader("abc")}
	req := newRequest(t, http.MethodPut, srv.URL+"/x", body)
	req.Header.Set("X-Test", "1")
	before := req.Header.Clone()

	if _, _, err := send(t, rt, req); err != nil {
		t.Fatalf("RoundTrip: %v", err)
	}
	if req.GetBody != nil {
		t.Error("request GetBody was set; want it left nil")
	}
	if req.Body == nil {
		t.Error("request Body was cleared")
	}
	if req.ContentLength != 0 {
		t.Errorf("request ContentLength = %d; want 0", req.ContentLength)
	}
	if fmt.Sprint(req.Header) != fmt.Sprint(before) {
		t.Errorf("request headers = %v; want %v", req.Header, before)
	}
}

// closeRecorder counts closes and reports what was left unread at close.
type closeRecorder struct {
	io.Reader
	mu     sync.Mutex
	closed int
	unread bool
}

func (c *closeRecorder) Close() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.closed++
	n, _ := c.Reader.Read(make([]byte, 1))
	c.unread = n > 0
	return nil
}

func TestDrainsAndClosesRetriedResponses(t *testing.T) {
	t.Parallel()
	var bodies []*closeRecorder
	base := roundTripFunc(func(r *http.Request) (*http.Response, error) {
		code := http.StatusServiceUnavailable
		if len(bodies) == 2 {
			code = http.StatusOK
		}
		b := &closeRecorder{Reader: strings.NewReader(strings.Repeat("x", 4096))}
		bodies = append(bodies, b)
		return &http.Response{StatusCode: code, Header: http.Header{}, Body: b, Request: r}, nil
	})
	rt, _ := newHarness(Options{Base: base})

	resp, err := rt.RoundTrip(newRequest(t, http.MethodGet, "http://127.0.0.1/x", nil))
	if err != nil {
		t.Fatalf("RoundTrip: %v", err)
	}
	if len(bodies) != 3 {
		t.Fatalf("attempts = %d; want 3", len(bodies))
	}
	for i, b := range bodies[:2] {
		if b.closed != 1 || b.unread {
			t.Errorf("retried body %d: closed %d times, unread left %v; want drained and closed once", i, b.closed, b.unread)
		}
	}
	if bodies[2].closed != 0 {
		t.Errorf("returned body closed by the transport")
	}
	if got := readAll(t, resp); len(got) != 4096 {
		t.Errorf("returned body has %d bytes; want 4096", len(got))
	}
}

func TestLogLineHidesQueryHeadersAndBody(t *testing.T) {
	t.Parallel()
	srv := newServer(t, 1, status(http.StatusServiceUnavailable, "secret-in-response"))
	rt, h := newHarness(Options{})
	req := newRequest(t, http.MethodPut, srv.URL+"/repos/o/r/actions/secrets/MESH_CLIENT_SECRET?token=secret-in-query",
		strings.NewReader(`{"encrypted_value":"secret-in-body"}`))
	req.Header.Set("Authorization", "Bearer secret-in-header")

	if _, _, err := send(t, rt, req); err != nil {
		t.Fatalf("RoundTrip: %v", err)
	}
	lines := h.lines()
	if len(lines) != 1 {
		t.Fatalf("log lines = %q; want 1", lines)
	}
	want := "retry PUT /repos/o/r/actions/secrets/MESH_CLIENT_SECRET after status 503: attempt 2 of 5 in 250ms"
	if lines[0] != want {
		t.Errorf("log line = %q; want %q", lines[0], want)
	}
}

func TestLogLineRedactsErrorQuotingTheURL(t *testing.T) {
	t.Parallel()
	calls := 0
	base := roundTripFunc(func(r *http.Request) (*http.Response, error) {
		calls++
		if calls == 1 {
			// A wrapping transport that quotes the whole URL in its error.
			return nil, fmt.Errorf("proxy %s (query %s): %w", r.URL, r.URL.RawQuery, syscall.ECONNRESET)
		}
		return &http.Response{StatusCode: 200, Header: http.Header{}, Body: http.NoBody, Request: r}, nil
	})
	rt, h := newHarness(Options{Base: base})

	if _, _, err := send(t, rt, newRequest(t, http.MethodGet, "http://user:hunter2@127.0.0.1/x?code=abc123", nil)); err != nil {
		t.Fatalf("RoundTrip: %v", err)
	}
	got := joinLines(h.lines())
	for _, secret := range []string{"hunter2", "abc123", "user:"} {
		if strings.Contains(got, secret) {
			t.Errorf("log %q contains %q", got, secret)
		}
	}
	if !strings.Contains(got, "connection reset") {
		t.Errorf("log %q does not name the error", got)
	}
}

func TestClassifiesErrors(t *testing.T) {
	t.Parallel()
	dial := func(err error) error { return &net.OpError{Op: "dial", Net: "tcp", Err: err} }
	read := func(err error) error { return &net.OpError{Op: "read", Net: "tcp", Err: err} }
	cases := []struct {
		name                string
		err                 error
		idempotent, nonIdem bool
	}{
		{"refused at dial", dial(syscall.ECONNREFUSED), true, true},
		{"dial timeout", dial(&timeoutError{}), true, true},
		{"reset while reading", read(syscall.ECONNRESET), true, false},
		{"broken pipe", fmt.Errorf("write: %w", syscall.EPIPE), true, false},
		{"EOF", fmt.Errorf("net/http: HTTP/1.x transport connection broken: %w", io.EOF), true, false},
		{"unexpected EOF", io.ErrUnexpectedEOF, true, false},
		{"attempt timeout", &timeoutError{}, true, false},
		{"unknown host", dial(&net.DNSError{Err: "no such host", Name: "x.invalid", IsNotFound: true}), false, false},
		{"untrusted certificate", x509.UnknownAuthorityError{}, false, false},
		{"canceled", context.Canceled, false, false},
		{"other error", errors.New("unsupported protocol scheme"), false, false},
	}
	for _, tc := range cases {
		if got := retryableError(tc.err, true); got != tc.idempotent {
			t.Errorf("%s: retryable for GET = %v; want %v", tc.name, got, tc.idempotent)
		}
		if got := retryableError(tc.err, false); got != tc.nonIdem {
			t.Errorf("%s: retryable for POST = %v; want %v", tc.name, got, tc.nonIdem)
		}
	}
}

func TestWorksUnderHTTPClientTimeout(t *testing.T) {
	t.Parallel()
	srv := newServer(t, 1, status(http.StatusBadGateway, ""))
	rt, _ := newHarness(Options{})
	hc := &http.Client{Transport: rt, Timeout: 5 * time.Second}

	resp, err := hc.Get(srv.URL + "/x")
	if err != nil {
		t.Fatalf("Get: %v", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("status = %d; want 200", resp.StatusCode)
	}
	if got := readAll(t, resp); got != "ok after 2" {
		t.Errorf("body = %q; want %q", got, "ok after 2")
	}
}

func TestSecondaryRateLimitPeekKeepsLongBody(t *testing.T) {
	t.Parallel()
	long := `{"message":"Resource not accessible by integration","padding":"` + strings.Repeat("p", 3*peekLimit) + `"}`
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.WriteHeader(http.StatusForbidden)
		io.WriteString(w, long)
	}))
	t.Cleanup(srv.Close)
	rt, _ := newHarness(Options{})

	got, body, err := send(t, rt, newRequest(t, http.MethodGet, srv.URL+"/x", nil))
	if err != nil {
		t.Fatalf("RoundTrip: %v", err)
	}
	if got != http.StatusForbidden {
		t.Errorf("status = %d; want 403", got)
	}
	if body != long {
		t.Errorf("body has %d bytes; want the whole %d-byte body", len(body), len(long))
	}
}
