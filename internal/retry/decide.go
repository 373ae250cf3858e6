package retry

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// decision is the verdict on one attempt's outcome.
type decision struct {
	retry bool
	// wait is how long to wait before the next attempt.
	wait time.Duration
	// requested marks a wait that the server requested: Retry-After,
	// x-ratelimit-reset, or GitHub's minute after a secondary rate limit.
	// MaxRetryAfter bounds such a wait.
	requested bool
	// reason names the outcome in the log line: a status or an error.
	reason string
}

// peekLimit bounds how much of a 403 or 429 body is read to look for
// GitHub's secondary rate limit message. GitHub's error bodies are short.
const peekLimit = 16 << 10

// secondaryMinimum is the minimum wait after a secondary rate limit that
// carries neither Retry-After nor x-ratelimit-remaining: 0. GitHub's REST
// documentation (Rate limits for the REST API) requires at least one minute.
//
// NOTE: with the default MaxElapsed of 60s, a one-minute wait never fits
// once the first attempt has taken any time, so such a response goes back
// to the caller unless MaxElapsed is raised.
const secondaryMinimum = time.Minute

// idempotent reports whether a request with this method may be sent twice.
//
// PATCH is not idempotent in general, but every PATCH this product sends
// (authentik providers and applications) sets fields to absolute values, so
// sending one twice leaves the same state as sending it once.
func idempotent(method string) bool {
	switch method {
	case "", http.MethodGet, http.MethodHead, http.MethodOptions,
		http.MethodPut, http.MethodDelete, http.MethodPatch:
		return true
	}
	return false
}

// decideResponse decides whether a response is retried. For a 403 or 429 it
// may read the start of the body, which it restores so the caller still
// reads it whole.
func (t *transport) decideResponse(method string, resp *http.Response, attempt int) decision {
	if !idempotent(method) {
		return decision{}
	}
	reason := fmt.Sprintf("status %d", resp.StatusCode)
	switch resp.StatusCode {
	case http.StatusInternalServerError, http.StatusBadGateway,
		http.StatusServiceUnavailable, http.StatusGatewayTimeout:
		if wait, ok := t.retryAfter(resp.Header); ok {
			return decision{retry: true, wait: wait, requested: true, reason: reason}
		}
		return decision{retry: true, wait: t.backoff(attempt), reason: reason}
	case http.StatusTooManyRequests, http.StatusForbidden:
		return t.decideRateLimit(resp, attempt, reason)
	}
	return decision{}
}

// decideRateLimit decides on a 403 or 429 by GitHub's rate limit rules. A
// Retry-After header comes first, then x-ratelimit-reset when no requests
// remain, then a minute for a secondary rate limit named only in the body.
// A 429 with none of these is retried after backoff. Such a 403 is a
// permission error and is not retried.
func (t *transport) decideRateLimit(resp *http.Response, attempt int, reason string) decision {
	if wait, ok := t.retryAfter(resp.Header); ok {
		return decision{retry: true, wait: wait, requested: true, reason: reason}
	}
	if resp.Header.Get("X-Ratelimit-Remaining") == "0" {
		if wait, ok := t.rateLimitReset(resp.Header); ok {
			return decision{retry: true, wait: wait, requested: true, reason: reason + " (rate limit exhausted)"}
		}
	}
	if secondaryRateLimit(resp) {
		wait := max(secondaryMinimum, t.backoff(attempt))
		return decision{retry: true, wait: wait, requested: true, reason: reason + " (secondary rate limit)"}
	}
	if resp.StatusCode == http.StatusTooManyRequests {
		return decision{retry: true, wait: t.backoff(attempt), reason: reason}
	}
	return decision{}
}

// retryAfter parses a Retry-After header given in seconds or as an HTTP
// date. A date in the past means no wait.
func (t *transport) retryAfter(h http.Header) (time.Duration, bool) {
	v := strings.TrimSpace(h.Get("Retry-After"))
	if v == "" {
		return 0, false
	}
	if secs, err := strconv.ParseInt(v, 10, 64); err == nil {
		if secs < 0 {
			return 0, false
		}
		return seconds(secs), true
	}
	when, err := http.ParseTime(v)
	if err != nil {
		return 0, false
	}
	return max(0, when.Sub(t.opts.Now())), true
}

// rateLimitReset returns the time until x-ratelimit-reset, a Unix time in
// seconds. A reset in the past means no wait.
func (t *transport) rateLimitReset(h http.Header) (time.Duration, bool) {
	secs, err := strconv.ParseInt(strings.TrimSpace(h.Get("X-Ratelimit-Reset")), 10, 64)
	if err != nil || secs < 0 {
		return 0, false
	}
	return max(0, time.Unix(secs, 0).Sub(t.opts.Now())), true
}

// seconds converts a count of seconds to a Duration. It saturates instead
// of overflowing, so a huge Retry-After still exceeds MaxRetryAfter.
func seconds(secs int64) time.Duration {
	const maxSeconds = int64(1<<63-1) / int64(time.Second)
	if secs > maxSeconds {
		secs = maxSeconds
	}
	return time.Duration(secs) * time.Second
}

// secondaryRateLimit reports whether the body of resp contains "secondary
// rate limit", as GitHub's error message does. It reads at most peekLimit
// bytes and restores them in front of the rest of the body.
func secondaryRateLimit(resp *http.Response) bool {
	if resp.Body == nil || resp.Body == http.NoBody {
		return false
	}
	head, err := io.ReadAll(io.LimitReader(resp.Body, peekLimit))
	var rest io.Reader = resp.Body
	if err != nil {
		rest = errReader{err}
	}
	resp.Body = &peeked{Reader: io.MultiReader(bytes.NewReader(head), rest), Closer: resp.Body}
	return bytes.Contains(bytes.ToLower(head), []byte("secondary rate limit"))
}

// peeked is a response body whose start was read and is served again.
type peeked struct {
	io.Reader
	io.Closer
}

// errReader returns err, so a read error met while peeking reaches the
// caller at the same place in the body.
type errReader struct{ err error }

func (e errReader) Read([]byte) (int, error) { return 0, e.err }

// decideError decides whether an error from the base transport is retried.
func (t *transport) decideError(method string, err error, attempt int) decision {
	if !retryableError(err, idempotent(method)) {
		return decision{}
	}
	return decision{retry: true, wait: t.backoff(attempt), reason: "error: " + err.Error()}
}

// retryableError reports whether err is worth another attempt. A dial
// failure sent nothing, so it is retried for every method. A dropped
// connection or a timeout is retried only for an idempotent method.
// Certificate and unknown-host errors are not retried because waiting
// does not fix them.
//
// RoundTrip has already stopped if the request's own context is done, so a
// context error here comes from elsewhere and is not retried. A transport's
// per-attempt timeout also matches context.DeadlineExceeded, but is retried.
func retryableError(err error, idempotent bool) bool {
	if permanent(err) {
		return false
	}
	if op, ok := errors.AsType[*net.OpError](err); ok && op.Op == "dial" {
		return true
	}
	if ne, ok := errors.AsType[net.Error](err); ok && ne.Timeout() {
		return idempotent
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return false
	}
	if !idempotent {
		return false
	}
	if _, ok := errors.AsType[net.Error](err); ok {
		return true
	}
	return errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.ECONNREFUSED) ||
		errors.Is(err, syscall.EPIPE) || errors.Is(err, syscall.ECONNABORTED)
}

// permanent reports whether another attempt would fail with err again.
func permanent(err error) bool {
	if dns, ok := errors.AsType[*net.DNSError](err); ok && dns.IsNotFound {
		return true
	}
	if _, ok := errors.AsType[*tls.CertificateVerificationError](err); ok {
		return true
	}
	if _, ok := errors.AsType[x509.UnknownAuthorityError](err); ok {
		return true
	}
	if _, ok := errors.AsType[x509.HostnameError](err); ok {
		return true
	}
	if _, ok := errors.AsType[x509.CertificateInvalidError](err); ok {
		return true
	}
	_, ok := errors.AsType[tls.RecordHeaderError](err)
	return ok
}

// logPath returns the part of the request URL that may be logged: the
// path, without query, fragment or user information.
func logPath(req *http.Request) string {
	if req.URL == nil {
		return ""
	}
	if p := req.URL.EscapedPath(); p != "" {
		return p
	}
	return "/"
}

// redact removes the query string and user information of the request URL
// from an error text, because both may carry secrets. http.Transport errors
// do not quote the URL, but a wrapping base transport might.
func redact(text string, req *http.Request) string {
	if req.URL == nil {
		return text
	}
	if q := req.URL.RawQuery; q != "" {
		text = strings.ReplaceAll(text, "?"+q, "?[query]")
		text = strings.ReplaceAll(text, q, "[query]")
	}
	if u := req.URL.User; u != nil {
		text = strings.ReplaceAll(text, u.String()+"@", "")
		if p, ok := u.Password(); ok && p != "" {
			text = strings.ReplaceAll(text, p, "[password]")
		}
	}
	return text
}
