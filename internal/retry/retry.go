// Package retry provides an HTTP transport that retries requests to the
// authentik and GitHub APIs that failed for transient reasons: server errors,
// rate limits, dropped connections and timeouts.
//
// Start with [New], and put the transport it returns in the *http.Client
// given to the authentik and GitHub clients:
//
//	hc := &http.Client{Timeout: 2 * time.Minute, Transport: retry.New(retry.Options{Log: debugf})}
//
// # What is retried
//
// Only requests that are safe to send twice: GET, HEAD, OPTIONS, PUT, DELETE
// and PATCH. A POST is sent again only when the dial failed, so no byte of it
// was sent. A create that timed out may have succeeded, so the callers re-read
// and adopt an existing object instead of sending the POST again.
//
// Those requests are retried on 500, 502, 503, 504 and 429, and on GitHub's
// secondary rate limit: 403 with Retry-After, or 403 or 429 whose body
// contains "secondary rate limit". They are also retried on GitHub's primary
// rate limit (403 or 429 with x-ratelimit-remaining: 0), on a dropped or
// refused connection and on a timeout of one attempt.
//
// # Waits
//
// A server-requested wait (Retry-After in seconds or as an HTTP date, or
// x-ratelimit-reset) is honoured exactly, up to [Options.MaxRetryAfter].
// Beyond that, the response is returned to the caller unchanged. Other waits
// are exponential backoff with full jitter. No wait is started that would end
// after [Options.MaxElapsed] from the first attempt, and the last response or
// error is returned instead. Cancelling the request's context during a wait
// returns the context's error.
//
// # Bodies
//
// Request bodies are replayed from req.GetBody, or buffered in memory once
// when GetBody is nil, so every attempt sends the whole body. The caller's
// request is never modified. The body of a response that is retried is
// drained and closed, and the response finally returned keeps its whole body.
package retry

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"time"
)

// Options configures the transport returned by [New]. The zero value is
// usable: every zero field takes the default named on it.
type Options struct {
	// Base sends each attempt. Nil means a clone of http.DefaultTransport.
	Base http.RoundTripper
	// MaxAttempts is the maximum number of attempts for one request,
	// including the first. Zero means 5, and 1 turns retries off.
	MaxAttempts int
	// MaxElapsed bounds the time of one request, waits included: a wait
	// that would end later than MaxElapsed after the first attempt started
	// is not taken. Zero means 60s. Each attempt is bounded by the caller's
	// context or http.Client timeout, not by MaxElapsed.
	MaxElapsed time.Duration
	// BaseDelay is the backoff ceiling before the first retry. The ceiling
	// doubles with each retry up to MaxDelay, and each wait is drawn
	// uniformly below it (full jitter). Zero means 500ms.
	BaseDelay time.Duration
	// MaxDelay caps the backoff ceiling. Zero means 10s.
	MaxDelay time.Duration
	// MaxRetryAfter is the maximum server-requested wait that is honoured.
	// A longer one returns the response to the caller. Zero means 60s.
	MaxRetryAfter time.Duration
	// Sleep waits for d, or returns ctx's error when ctx is done first. Nil
	// means a timer. Tests replace it.
	Sleep func(ctx context.Context, d time.Duration) error
	// Rand returns a number in [0, 1) for the jitter. Nil means
	// math/rand/v2's Float64.
	Rand func() float64
	// Now returns the current time, used for MaxElapsed and for
	// Retry-After dates and x-ratelimit-reset. Nil means time.Now.
	Now func() time.Time
	// Log receives one line per retry naming the method, the URL path, the
	// status or error and the wait. It never receives headers, query
	// strings or bodies. Nil means no logging.
	Log func(format string, args ...any)
}

// Defaults applied by [New] to zero fields of [Options].
const (
	DefaultMaxAttempts   = 5
	DefaultMaxElapsed    = 60 * time.Second
	DefaultBaseDelay     = 500 * time.Millisecond
	DefaultMaxDelay      = 10 * time.Second
	DefaultMaxRetryAfter = 60 * time.Second
)

// drainLimit bounds how much of a retried response body is read so the
// connection can be reused. Past it, the connection is closed instead.
const drainLimit = 256 << 10

// New returns a transport that sends requests through opts.Base and retries
// them as the package documentation describes. It is safe for concurrent use
// if opts.Base and the functions in opts are.
func New(opts Options) http.RoundTripper {
	t := &transport{opts: opts}

	if t.opts.Base == nil {
		t.opts.Base = http.DefaultTransport.(*http.Transport).Clone()
	}
	if t.opts.MaxAttempts <= 0 {
		t.opts.MaxAttempts = DefaultMaxAttempts
	}
	if t.opts.MaxElapsed <= 0 {
		t.opts.MaxElapsed = DefaultMaxElapsed
	}
	if t.opts.BaseDelay <= 0 {
		t.opts.BaseDelay = DefaultBaseDelay
	}
	if t.opts.MaxDelay <= 0 {
		t.opts.MaxDelay = DefaultMaxDelay
	}
	if t.opts.MaxRetryAfter <= 0 {
		t.opts.MaxRetryAfter = DefaultMaxRetryAfter
	}

	if t.opts.Sleep == nil {
		t.opts.Sleep = sleep
	}
	if t.opts.Rand == nil {
		t.opts.Rand = rand.Float64
	}
	if t.opts.Now == nil {
		t.opts.Now = time.Now
	}
	if t.opts.Log == nil {
		t.opts.Log = func(string, ...any) {}
	}
	return t
}

type transport struct {
	opts Options
}

// RoundTrip sends req, retrying as the package documentation describes. It
// returns the first response that is not retried, the last one when retries
// run out, or the last error.
func (t *transport) RoundTrip(req *http.Request) (*http.Response, error) {
	ctx := req.Context()
	method := req.Method
	if method == "" {
		method = http.MethodGet
	}
	body, err := newReplay(req)
	if err != nil {
		return nil, err
	}
	start := t.opts.Now()

	for attempt := 1; ; attempt++ {
		out, err := body.request(req, attempt)
		if err != nil {
			return nil, err
		}
		resp, err := t.opts.Base.RoundTrip(out)

		// Decide whether this outcome is retried, and after what wait.
		if attempt >= t.opts.MaxAttempts || ctx.Err() != nil {
			return resp, err
		}
		var d decision
		if err != nil {
			d = t.decideError(req.Method, err, attempt)
		} else {
			d = t.decideResponse(req.Method, resp, attempt)
		}
		if !d.retry || !t.allowed(d, start) {
			return resp, err
		}

		t.opts.Log("retry %s %s after %s: attempt %d of %d in %s",
			method, logPath(req), redact(d.reason, req), attempt+1, t.opts.MaxAttempts, d.wait)
		if resp != nil {
			drain(resp.Body)
		}
		if err := t.opts.Sleep(ctx, d.wait); err != nil {
			if cerr := ctx.Err(); cerr != nil {
				return nil, cerr
			}
			return nil, err
		}
	}
}

// allowed reports whether the wait of d may be taken. A server-requested
// wait must not exceed MaxRetryAfter, and no wait may end after MaxElapsed.
func (t *transport) allowed(d decision, start time.Time) bool {
	if d.requested && d.wait > t.opts.MaxRetryAfter {
		return false
	}
	return t.opts.Now().Sub(start)+d.wait <= t.opts.MaxElapsed
}

// backoff returns the jittered wait before retry number n (1 for the first
// retry): uniform in [0, min(MaxDelay, BaseDelay·2^(n-1))).
func (t *transport) backoff(n int) time.Duration {
	ceiling := t.opts.BaseDelay
	for i := 1; i < n && ceiling < t.opts.MaxDelay; i++ {
		ceiling *= 2
	}
	ceiling = min(ceiling, t.opts.MaxDelay)
	r := t.opts.Rand()
	if r < 0 || r >= 1 {
		r = 0
	}
	return time.Duration(r * float64(ceiling))
}

// replay is the source of each attempt's request body.
type replay struct {
	// buf is the body, read once when the request had no GetBody.
	buf      []byte
	buffered bool
}

// newReplay prepares req's body for replay, reading it into memory when
// req.GetBody is nil. It closes req.Body once read, as a RoundTripper must.
func newReplay(req *http.Request) (*replay, error) {
	if req.Body == nil || req.Body == http.NoBody || req.GetBody != nil {
		return &replay{}, nil
	}
	buf, err := io.ReadAll(req.Body)
	cerr := req.Body.Close()
	if err != nil {
		return nil, fmt.Errorf("read request body of %s %q: %w", req.Method, logPath(req), err)
	}
	if cerr != nil {
		return nil, fmt.Errorf("close request body of %s %q: %w", req.Method, logPath(req), cerr)
	}
	return &replay{buf: buf, buffered: true}, nil
}

// request returns the request to send for the given attempt (1 for the
// first): req itself when its body can go out as is, otherwise a shallow
// clone with a fresh copy of the whole body.
func (r *replay) request(req *http.Request, attempt int) (*http.Request, error) {
	switch {
	case r.buffered:
		out := req.Clone(req.Context())
		out.Body = io.NopCloser(bytes.NewReader(r.buf))
		out.ContentLength = int64(len(r.buf))
		out.GetBody = func() (io.ReadCloser, error) {
			return io.NopCloser(bytes.NewReader(r.buf)), nil
		}
		return out, nil
	case attempt == 1 || req.Body == nil || req.Body == http.NoBody:
		return req, nil
	default:
		b, err := req.GetBody()
		if err != nil {
			return nil, fmt.Errorf("rewind request body of %s %q: %w", req.Method, logPath(req), err)
		}
		out := req.Clone(req.Context())
		out.Body = b
		return out, nil
	}
}

// drain reads what is left of a body that will not be returned, up to
// drainLimit, so the connection can be reused, and closes it.
func drain(body io.ReadCloser) {
	if body == nil {
		return
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(body, drainLimit))
	_ = body.Close()
}

// sleep waits for d or until ctx is done.
func sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-timer.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
