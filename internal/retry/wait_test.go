package retry

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

func TestHonoursServerRequestedWaits(t *testing.T) {
	t.Parallel()
	const secondary = `{"message":"You have exceeded a secondary rate limit. Please wait a few minutes before you try again.","documentation_url":"https://docs.github.com/rest/overview/rate-limits-for-the-rest-api#about-secondary-rate-limits"}`
	cases := []struct {
		name string
		fail http.HandlerFunc
		want time.Duration
	}{
		{"Retry-After seconds on 503", status(503, "", "Retry-After", "7"), 7 * time.Second},
		{"Retry-After seconds on 429", status(429, "", "Retry-After", "3"), 3 * time.Second},
		{"Retry-After date on 503", status(503, "", "Retry-After", epoch.Add(30*time.Second).Format(http.TimeFormat)), 30 * time.Second},
		{"Retry-After date in the past", status(503, "", "Retry-After", epoch.Add(-time.Hour).Format(http.TimeFormat)), 0},
		{"403 with Retry-After", status(403, secondary, "Retry-After", "12"), 12 * time.Second},
		{"403 secondary rate limit message", status(403, secondary), time.Minute},
		{"429 secondary rate limit message", status(429, "Secondary Rate Limit exceeded"), time.Minute},
		{"403 rate limit exhausted", status(403, `{"message":"API rate limit exceeded"}`,
			"X-Ratelimit-Remaining", "0", "X-Ratelimit-Reset", strconv.FormatInt(epoch.Add(20*time.Second).Unix(), 10)), 20 * time.Second},
		{"429 rate limit exhausted", status(429, "",
			"X-Ratelimit-Remaining", "0", "X-Ratelimit-Reset", strconv.FormatInt(epoch.Add(45*time.Second).Unix(), 10)), 45 * time.Second},
		{"malformed Retry-After falls back to backoff", status(503, "", "Retry-After", "soon"), 250 * time.Millisecond},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			srv := newServer(t, 1, tc.fail)
			rt, h := newHarness(Options{MaxElapsed: 5 * time.Minute})

			got, body, err := send(t, rt, newRequest(t, http.MethodGet, srv.URL+"/repos/o/r", nil))
			if err != nil {
				t.Fatalf("RoundTrip: %v", err)
			}
			if got != http.StatusOK {
				t.Errorf("status = %d; want 200", got)
			}
			if body != "ok after 2" {
				t.Errorf("body = %q; want %q", body, "ok after 2")
			}
			if w := h.waits(); !slices.Equal(w, []time.Duration{tc.want}) {
				t.Errorf("waits = %v; want [%v]", w, tc.want)
			}
		})
	}
}

func TestReturnsResponseIfWaitTooLong(t *testing.T) {
	t.Parallel()
	const message = `{"message":"You have exceeded a secondary rate limit."}`
	cases := []struct {
		name string
		fail http.HandlerFunc
	}{
		{"Retry-After seconds", status(403, message, "Retry-After", "61")},
		{"Retry-After date", status(503, message, "Retry-After", epoch.Add(2*time.Hour).Format(http.TimeFormat))},
		{"rate limit reset", status(403, message, "X-Ratelimit-Remaining", "0",
			"X-Ratelimit-Reset", strconv.FormatInt(epoch.Add(time.Hour).Unix(), 10))},
		{"huge Retry-After", status(429, message, "Retry-After", "99999999999999999")},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			srv := newServer(t, 1, tc.fail)
			// MaxElapsed is long enough, so only MaxRetryAfter rejects the wait.
			rt, h := newHarness(Options{MaxElapsed: 10 * time.Hour})

			resp, err := rt.RoundTrip(newRequest(t, http.MethodGet, srv.URL+"/x", nil))
			if err != nil {
				t.Fatalf("RoundTrip: %v", err)
			}
			defer resp.Body.Close()
			// The caller (go-github) reads the body to build its error.
			body := readAll(t, resp)
			if resp.StatusCode == http.StatusOK {
				t.Errorf("status = 200; want the failure returned")
			}
			if body != message {
				t.Errorf("body = %q; want %q", body, message)
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

// TestSecondaryMinuteExceedsDefaultMaxElapsed checks that the one-minute
// wait after a secondary rate limit without headers does not fit the default
// MaxElapsed once the attempt has taken any time.
func TestSecondaryMinuteExceedsDefaultMaxElapsed(t *testing.T) {
	t.Parallel()
	h := &harness{now: epoch}
	var calls int
	base := roundTripFunc(func(r *http.Request) (*http.Response, error) {
		calls++
		h.mu.Lock()
		h.now = h.now.Add(10 * time.Millisecond)
		h.mu.Unlock()
		body := io.NopCloser(strings.NewReader("You have exceeded a secondary rate limit."))
		return &http.Response{StatusCode: http.StatusForbidden, Header: http.Header{}, Body: body, Request: r}, nil
	})
	rt := New(Options{Base: base, Sleep: h.sleep, Now: h.clock, Log: h.log})

	resp, err := rt.RoundTrip(newRequest(t, http.MethodGet, "http://127.0.0.1/x", nil))
	if err != nil {
		t.Fatalf("RoundTrip: %v", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusForbidden {
		t.Errorf("status = %d; want 403", resp.StatusCode)
	}
	if calls != 1 {
		t.Errorf("attempts = %d; want 1", calls)
	}
}

func TestMaxRetryAfterRaisesTheLimit(t *testing.T) {
	t.Parallel()
	srv := newServer(t, 1, status(429, "", "Retry-After", "90"))
	rt, h := newHarness(Options{MaxRetryAfter: 2 * time.Minute, MaxElapsed: 5 * time.Minute})

	got, _, err := send(t, rt, newRequest(t, http.MethodGet, srv.URL+"/x", nil))
	if err != nil {
		t.Fatalf("RoundTrip: %v", err)
	}
	if got != http.StatusOK {
		t.Errorf("status = %d; want 200", got)
	}
	if w := h.waits(); !slices.Equal(w, []time.Duration{90 * time.Second}) {
		t.Errorf("waits = %v; want [1m30s]", w)
	}
}

func TestMaxElapsedBoundsTheWaits(t *testing.T) {
	t.Parallel()
	srv := newServer(t, 100, status(503, "down", "Retry-After", "20"))
	rt, h := newHarness(Options{MaxAttempts: 10, MaxElapsed: 50 * time.Second})

	got, body, err := send(t, rt, newRequest(t, http.MethodGet, srv.URL+"/x", nil))
	if err != nil {
		t.Fatalf("RoundTrip: %v", err)
	}
	if got != http.StatusServiceUnavailable {
		t.Errorf("status = %d; want 503", got)
	}
	if body != "down" {
		t.Errorf("body = %q; want %q", body, "down")
	}
	// Waits end at 20s and 40s; a third would end at 60s, past 50s.
	if n := srv.hits(); n != 3 {
		t.Errorf("server hits = %d; want 3", n)
	}
	if w := h.waits(); !slices.Equal(w, []time.Duration{20 * time.Second, 20 * time.Second}) {
		t.Errorf("waits = %v; want [20s 20s]", w)
	}
}

func TestMaxElapsedIncludesAttemptTime(t *testing.T) {
	t.Parallel()
	// Each attempt takes 25s on the fake clock; backoff waits are 0.
	h := &harness{now: epoch}
	var calls int
	base := roundTripFunc(func(*http.Request) (*http.Response, error) {
		calls++
		h.mu.Lock()
		h.now = h.now.Add(25 * time.Second)
		h.mu.Unlock()
		return nil, &timeoutError{}
	})
	rt := New(Options{Base: base, MaxAttempts: 10, MaxElapsed: 60 * time.Second,
		Sleep: h.sleep, Now: h.clock, Rand: func() float64 { return 0 }, Log: h.log})

	if _, err := rt.RoundTrip(newRequest(t, http.MethodGet, "http://127.0.0.1/x", nil)); err == nil {
		t.Fatal("RoundTrip succeeded; want the timeout")
	}
	// Attempts end at 25s, 50s and 75s: after the third, no wait fits.
	if calls != 3 {
		t.Errorf("attempts = %d; want 3", calls)
	}
}

// timeoutError is a net.Error that reports a timeout.
type timeoutError struct{}

func (*timeoutError) Error() string   { return "i/o timeout" }
func (*timeoutError) Timeout() bool   { return true }
func (*timeoutError) Temporary() bool { return true }

func TestCancelDuringWaitReturnsContextError(t *testing.T) {
	t.Parallel()
	srv := newServer(t, 100, status(503, "", "Retry-After", "30"))
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	// The real sleep, so only the cancellation can end the 30s wait early.
	// The log line comes just before the wait, and the cancellation a few
	// milliseconds later, during the wait.
	var lines []string
	logf := func(format string, args ...any) {
		lines = append(lines, fmt.Sprintf(format, args...))
		time.AfterFunc(5*time.Millisecond, cancel)
	}
	rt, _ := newHarness(Options{Sleep: sleep, Log: logf})

	start := time.Now()
	req := newRequest(t, http.MethodGet, srv.URL+"/x", nil).WithContext(ctx)
	resp, err := rt.RoundTrip(req)
	if !errors.Is(err, context.Canceled) {
		t.Errorf("RoundTrip error = %v; want context.Canceled", err)
	}
	if resp != nil {
		t.Errorf("RoundTrip response = %v; want nil", resp)
	}
	if d := time.Since(start); d > 10*time.Second {
		t.Errorf("RoundTrip took %v; want it to stop at the cancellation", d)
	}
	if n := srv.hits(); n != 1 {
		t.Errorf("server hits = %d; want 1", n)
	}
	if len(lines) != 1 {
		t.Errorf("log lines = %q; want the one retry announced", lines)
	}
}

func TestCancelledContextStopsRetries(t *testing.T) {
	t.Parallel()
	srv := newServer(t, 100, status(500, "boom"))
	ctx, cancel := context.WithCancel(context.Background())
	rt, h := newHarness(Options{})
	h.onSleep = cancel

	_, _, err := send(t, rt, newRequest(t, http.MethodGet, srv.URL+"/x", nil).WithContext(ctx))
	if !errors.Is(err, context.Canceled) {
		t.Errorf("RoundTrip error = %v; want context.Canceled", err)
	}
	if n := srv.hits(); n != 1 {
		t.Errorf("server hits = %d; want 1", n)
	}
}
