package retry

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

func TestRetriesStatusCodes(t *testing.T) {
	t.Parallel()
	for _, code := range []int{500, 502, 503, 504, 429} {
		t.Run(http.StatusText(code), func(t *testing.T) {
			t.Parallel()
			srv := newServer(t, 2, status(code, "try later"))
			rt, h := newHarness(Options{BaseDelay: 100 * time.Millisecond})

			got, body, err := send(t, rt, newRequest(t, http.MethodGet, srv.URL+"/api/v3/core/applications/", nil))
			if err != nil {
				t.Fatalf("RoundTrip: %v", err)
			}
			if got != http.StatusOK {
				t.Errorf("status = %d; want 200", got)
			}
			if body != "ok after 3" {
				t.Errorf("body = %q; want %q", body, "ok after 3")
			}
			if n := srv.hits(); n != 3 {
				t.Errorf("server hits = %d; want 3", n)
			}
			// Full jitter at 0.5 of a ceiling that doubles from 100ms.
			want := []time.Duration{50 * time.Millisecond, 100 * time.Millisecond}
			if w := h.waits(); !slices.Equal(w, want) {
				t.Errorf("waits = %v; want %v", w, want)
			}
			if l := h.lines(); len(l) != 2 {
				t.Errorf("log lines = %q; want 2", l)
			}
		})
	}
}

func TestRetriesEveryIdempotentMethod(t *testing.T) {
	t.Parallel()
	for _, method := range []string{"GET", "HEAD", "OPTIONS", "PUT", "DELETE", "PATCH"} {
		t.Run(method, func(t *testing.T) {
			t.Parallel()
			srv := newServer(t, 1, status(http.StatusBadGateway, ""))
			rt, _ := newHarness(Options{})

			got, _, err := send(t, rt, newRequest(t, method, srv.URL+"/x", nil))
			if err != nil {
				t.Fatalf("RoundTrip: %v", err)
			}
			if got != http.StatusOK {
				t.Errorf("status = %d; want 200", got)
			}
			if n := srv.hits(); n != 2 {
				t.Errorf("server hits = %d; want 2", n)
			}
		})
	}
}

func TestDoesNotRetry(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name   string
		method string
		fail   http.HandlerFunc
		want   int
	}{
		{"POST after 500", http.MethodPost, status(500, "boom"), 500},
		{"POST after 503 with Retry-After", http.MethodPost, status(503, "boom", "Retry-After", "1"), 503},
		{"POST after secondary rate limit", http.MethodPost, status(403, "You have exceeded a secondary rate limit."), 403},
		{"unknown method after 500", "PROPFIND", status(500, "boom"), 500},
		{"GET after 400", http.MethodGet, status(400, "bad"), 400},
		{"GET after 401", http.MethodGet, status(401, "who"), 401},
		{"GET after 404", http.MethodGet, status(404, "none"), 404},
		{"PUT after 409", http.MethodPut, status(409, "conflict"), 409},
		{"GET after 501", http.MethodGet, status(501, "no"), 501},
		{"GET after plain 403", http.MethodGet, status(403, `{"message":"Resource not accessible by integration"}`, "X-Ratelimit-Remaining", "4999"), 403},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			srv := newServer(t, 1, tc.fail)
			rt, h := newHarness(Options{})

			got, _, err := send(t, rt, newRequest(t, tc.method, srv.URL+"/x", strings.NewReader("payload")))
			if err != nil {
				t.Fatalf("RoundTrip: %v", err)
			}
			if got != tc.want {
				t.Errorf("status = %d; want %d", got, tc.want)
			}
			if n := srv.hits(); n != 1 {
				t.Errorf("server hits = %d; want 1", n)
			}
			if w := h.waits(); len(w) != 0 {
				t.Errorf("waits = %v; want none", w)
			}
		})
	}
}

func TestReturnsLastResponseAfterMaxAttempts(t *testing.T) {
	t.Parallel()
	srv := newServer(t, 100, status(http.StatusServiceUnavailable, "still down"))
	rt, h := newHarness(Options{MaxAttempts: 3})

	got, body, err := send(t, rt, newRequest(t, http.MethodGet, srv.URL+"/x", nil))
	if err != nil {
		t.Fatalf("RoundTrip: %v", err)
	}
	if got != http.StatusServiceUnavailable {
		t.Errorf("status = %d; want 503", got)
	}
	if body != "still down" {
		t.Errorf("body = %q; want %q", body, "still down")
	}
	if n := srv.hits(); n != 3 {
		t.Errorf("server hits = %d; want 3", n)
	}
	if w := h.waits(); len(w) != 2 {
		t.Errorf("waits = %v; want 2", w)
	}
}

func TestMaxAttemptsOneDisablesRetries(t *testing.T) {
	t.Parallel()
	srv := newServer(t, 1, status(http.StatusBadGateway, ""))
	rt, _ := newHarness(Options{MaxAttempts: 1})

	got, _, err := send(t, rt, newRequest(t, http.MethodGet, srv.URL+"/x", nil))
	if err != nil {
		t.Fatalf("RoundTrip: %v", err)
	}
	if got != http.StatusBadGateway {
		t.Errorf("status = %d; want 502", got)
	}
	if n := srv.hits(); n != 1 {
		t.Errorf("server hits = %d; want 1", n)
	}
}

func TestBackoffDoublesUpToMaxDelay(t *testing.T) {
	t.Parallel()
	srv := newServer(t, 5, status(http.StatusInternalServerError, ""))
	rt, h := newHarness(Options{
		MaxAttempts: 6,
		BaseDelay:   time.Second,
		MaxDelay:    4 * time.Second,
		Rand:        func() float64 { return 0.75 },
	})

	if _, _, err := send(t, rt, newRequest(t, http.MethodGet, srv.URL+"/x", nil)); err != nil {
		t.Fatalf("RoundTrip: %v", err)
	}
	want := []time.Duration{750 * time.Millisecond, 1500 * time.Millisecond, 3 * time.Second, 3 * time.Second, 3 * time.Second}
	if w := h.waits(); !slices.Equal(w, want) {
		t.Errorf("waits = %v; want %v", w, want)
	}
}

func TestDefaultsApply(t *testing.T) {
	t.Parallel()
	srv := newServer(t, 100, status(http.StatusInternalServerError, ""))
	// Jitter just under one: each wait is just under its ceiling.
	rt, h := newHarness(Options{Rand: func() float64 { return 0.999 }})

	if _, _, err := send(t, rt, newRequest(t, http.MethodGet, srv.URL+"/x", nil)); err != nil {
		t.Fatalf("RoundTrip: %v", err)
	}
	if n := srv.hits(); n != DefaultMaxAttempts {
		t.Errorf("server hits = %d; want %d", n, DefaultMaxAttempts)
	}
	ceilings := []time.Duration{500 * time.Millisecond, time.Second, 2 * time.Second, 4 * time.Second}
	w := h.waits()
	if len(w) != len(ceilings) {
		t.Fatalf("waits = %v; want %d", w, len(ceilings))
	}
	for i, c := range ceilings {
		if w[i] >= c || w[i] < c*99/100 {
			t.Errorf("wait %d = %v; want just under %v", i, w[i], c)
		}
	}
}

func TestRetriesDroppedConnectionOnGet(t *testing.T) {
	t.Parallel()
	srv := newServer(t, 2, hangUp(t))
	rt, h := newHarness(Options{})

	got, body, err := send(t, rt, newRequest(t, http.MethodGet, srv.URL+"/x", nil))
	if err != nil {
		t.Fatalf("RoundTrip: %v", err)
	}
	if got != http.StatusOK {
		t.Errorf("status = %d; want 200", got)
	}
	if body != "ok after 3" {
		t.Errorf("body = %q; want %q", body, "ok after 3")
	}
	// Backoff grows with each attempt after errors too.
	if w := h.waits(); !slices.Equal(w, []time.Duration{250 * time.Millisecond, 500 * time.Millisecond}) {
		t.Errorf("waits = %v; want [250ms 500ms]", w)
	}
	l := h.lines()
	if len(l) != 2 {
		t.Fatalf("log lines = %q; want 2", l)
	}
	if !strings.Contains(l[0], "error: ") {
		t.Errorf("log line = %q; want it to contain %q", l[0], "error: ")
	}
}

func TestDoesNotRetryDroppedConnectionOnPost(t *testing.T) {
	t.Parallel()
	srv := newServer(t, 1, hangUp(t))
	rt, _ := newHarness(Options{})

	_, _, err := send(t, rt, newRequest(t, http.MethodPost, srv.URL+"/x", strings.NewReader(`{"name":"a"}`)))
	if !errors.Is(err, io.EOF) {
		t.Errorf("RoundTrip error = %v; want one wrapping io.EOF", err)
	}
	if n := srv.hits(); n != 1 {
		t.Errorf("server hits = %d; want 1", n)
	}
}

// refuseFirstDial returns a base transport whose first dial goes to a port
// nothing listens on, so it is refused before any byte is sent.
func refuseFirstDial(t *testing.T) (http.RoundTripper, func() int) {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("listen: %v", err)
	}
	closed := l.Addr().String()
	l.Close()

	var dials atomic.Int32
	var d net.Dialer
	base := http.DefaultTransport.(*http.Transport).Clone()
	base.DialContext = func(ctx context.Context, network, addr string) (net.Conn, error) {
		if dials.Add(1) == 1 {
			addr = closed
		}
		return d.DialContext(ctx, network, addr)
	}
	t.Cleanup(base.CloseIdleConnections)
	return base, func() int { return int(dials.Load()) }
}

func TestRetriesPostRefusedAtDial(t *testing.T) {
	t.Parallel()
	srv := newServer(t, 0, nil)
	base, dials := refuseFirstDial(t)
	rt, h := newHarness(Options{Base: base})

	const payload = `{"name":"MeshCentral","slug":"meshcentral"}`
	got, _, err := send(t, rt, newRequest(t, http.MethodPost, srv.URL+"/api/v3/core/applications/", onlyReader{strings.NewReader(payload)}))
	if err != nil {
		t.Fatalf("RoundTrip: %v", err)
	}
	if got != http.StatusOK {
		t.Errorf("status = %d; want 200", got)
	}
	if n := dials(); n != 2 {
		t.Errorf("dials = %d; want 2", n)
	}
	if b := srv.received(); !slices.Equal(b, []string{payload}) {
		t.Errorf("server received %q; want the whole body once", b)
	}
	l := h.lines()
	if len(l) != 1 {
		t.Fatalf("log lines = %q; want 1", l)
	}
	if !strings.Contains(l[0], "connection refused") {
		t.Errorf("log line = %q; want it to contain %q", l[0], "connection refused")
	}
}

func TestRetriesTimeoutOnGet(t *testing.T) {
	t.Parallel()
	release := make(chan struct{})
	srv := newServer(t, 1, func(_ http.ResponseWriter, r *http.Request) {
		// Delay the first response until the client stops waiting for it.
		select {
		case <-r.Context().Done():
		case <-release:
		}
	})
	t.Cleanup(func() { close(release) })
	base := http.DefaultTransport.(*http.Transport).Clone()
	base.ResponseHeaderTimeout = 20 * time.Millisecond
	t.Cleanup(base.CloseIdleConnections)
	rt, h := newHarness(Options{Base: base})

	got, _, err := send(t, rt, newRequest(t, http.MethodGet, srv.URL+"/x", nil))
	if err != nil {
		t.Fatalf("RoundTrip: %v", err)
	}
	if got != http.StatusOK {
		t.Errorf("status = %d; want 200", got)
	}
	l := h.lines()
	if len(l) != 1 {
		t.Fatalf("log lines = %q; want 1", l)
	}
	if !strings.Contains(l[0], "timeout") {
		t.Errorf("log line = %q; want it to contain %q", l[0], "timeout")
	}
}

func TestDoesNotRetryUnknownHost(t *testing.T) {
	t.Parallel()
	calls := 0
	base := roundTripFunc(func(*http.Request) (*http.Response, error) {
		calls++
		return nil, &net.OpError{Op: "dial", Net: "tcp", Err: &net.DNSError{Err: "no such host", Name: "authentik.invalid", IsNotFound: true}}
	})
	rt, _ := newHarness(Options{Base: base})

	if _, _, err := send(t, rt, newRequest(t, http.MethodGet, "http://authentik.invalid/x", nil)); err == nil {
		t.Fatal("RoundTrip succeeded; want the DNS error")
	}
	if calls != 1 {
		t.Errorf("attempts = %d; want 1", calls)
	}
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }
