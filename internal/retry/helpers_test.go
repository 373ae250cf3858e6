package retry

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

// epoch is the fake clock's start, a whole second so HTTP dates round-trip.
var epoch = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// harness contains the fakes injected into one transport: a clock that
// moves only when the transport sleeps, the waits it requested and its log
// lines.
type harness struct {
	mu     sync.Mutex
	now    time.Time
	sleeps []time.Duration
	logs   []string
	// onSleep, when set, runs at the start of each fake sleep.
	onSleep func()
}

func (h *harness) sleep(ctx context.Context, d time.Duration) error {
	if h.onSleep != nil {
		h.onSleep()
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	h.sleeps = append(h.sleeps, d)
	h.now = h.now.Add(d)
	return nil
}

func (h *harness) clock() time.Time {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.now
}

func (h *harness) log(format string, args ...any) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.logs = append(h.logs, fmt.Sprintf(format, args...))
}

func (h *harness) waits() []time.Duration {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]time.Duration(nil), h.sleeps...)
}

func (h *harness) lines() []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]string(nil), h.logs...)
}

// newHarness returns a transport built from opts with the harness's fakes
// in every function field left nil, and a jitter fixed at one half.
func newHarness(opts Options) (http.RoundTripper, *harness) {
	h := &harness{now: epoch}
	if opts.Sleep == nil {
		opts.Sleep = h.sleep
	}
	if opts.Now == nil {
		opts.Now = h.clock
	}
	if opts.Rand == nil {
		opts.Rand = func() float64 { return 0.5 }
	}
	if opts.Log == nil {
		opts.Log = h.log
	}
	return New(opts), h
}

// server is an httptest server that handles its first fails requests with
// fail and the rest with a 200 naming the attempt. It records each request
// body it read.
type server struct {
	*httptest.Server
	mu     sync.Mutex
	bodies []string
}

func newServer(t *testing.T, fails int, fail http.HandlerFunc) *server {
	t.Helper()
	s := &server{}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, err := io.ReadAll(r.Body)
		if err != nil {
			t.Errorf("server: read request body: %v", err)
		}
		s.mu.Lock()
		s.bodies = append(s.bodies, string(b))
		n := len(s.bodies)
		s.mu.Unlock()
		if n <= fails {
			fail(w, r)
			return
		}
		fmt.Fprintf(w, "ok after %d", n)
	}))
	t.Cleanup(s.Close)
	return s
}

func (s *server) hits() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.bodies)
}

func (s *server) received() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.bodies...)
}

// status returns a handler that writes code, the given headers and body.
func status(code int, body string, headers ...string) http.HandlerFunc {
	return func(w http.ResponseWriter, _ *http.Request) {
		for i := 0; i+1 < len(headers); i += 2 {
			w.Header().Set(headers[i], headers[i+1])
		}
		w.WriteHeader(code)
		io.WriteString(w, body)
	}
}

// hangUp returns a handler that closes the connection without a response.
func hangUp(t *testing.T) http.HandlerFunc {
	return func(w http.ResponseWriter, _ *http.Request) {
		conn, _, err := http.NewResponseController(w).Hijack()
		if err != nil {
			t.Errorf("server: hijack: %v", err)
			return
		}
		conn.Close()
	}
}

// send runs one request through rt and returns the status and body read
// whole.
func send(t *testing.T, rt http.RoundTripper, req *http.Request) (int, string, error) {
	t.Helper()
	resp, err := rt.RoundTrip(req)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("read response body: %v", err)
	}
	return resp.StatusCode, string(b), nil
}

func newRequest(t *testing.T, method, url string, body io.Reader) *http.Request {
	t.Helper()
	req, err := http.NewRequest(method, url, body)
	if err != nil {
		t.Fatalf("new request: %v", err)
	}
	return req
}

// onlyReader hides every method but Read, so http.NewRequest sets no
// GetBody and the transport must buffer the body itself.
type onlyReader struct{ r io.Reader }

func (o onlyReader) Read(p []byte) (int, error) { return o.r.Read(p) }

func joinLines(lines []string) string { return strings.Join(lines, "\n") }

func readAll(t *testing.T, resp *http.Response) string {
	t.Helper()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("read response body: %v", err)
	}
	return string(b)
}
