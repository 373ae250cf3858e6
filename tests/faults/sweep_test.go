package faults

import (
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
)

// TestCrashPointSweep fails each request of a fresh apply once, with each
// fault, and checks that the next run without faults converges to the
// state of a fault-free run and that the run after it sends no write.
//
// Requests are numbered with one counter over both fakes. The action sends
// independent requests concurrently, so the k-th request is not always the
// same one; the subtest logs which request it failed.
func TestCrashPointSweep(t *testing.T) {
	ref := newWorld(t, []byte(baseConfig))
	counter := ref.inject(nil)
	ref.apply(groupInputs).ok(t)
	n := counter.count()
	ref.clearFaults()
	if probs := ref.checkConverged(nil, "staff"); len(probs) > 0 {
		t.Fatalf("the fault-free run did not converge:\n%s", strings.Join(probs, "\n"))
	}
	if probs := ref.noWritesOnRerun(groupInputs); len(probs) > 0 {
		t.Fatal(strings.Join(probs, "\n"))
	}
	want := ref.snapshot(t)
	t.Logf("a fault-free fresh apply sends %d requests", n)
	if n < 10 {
		t.Fatalf("only %d requests counted: the counter does not see both fakes", n)
	}

	kinds := []faultKind{status500, dropConnection, dropAfterApply}
	for _, kind := range kinds {
		for k := 1; k <= n; k++ {
			t.Run(fmt.Sprintf("%s/%02d", kind, k), func(t *testing.T) {
				t.Parallel()
				sweepOne(t, kind, &want, func(seq int, _ *http.Request) bool { return seq == k })
			})
		}
	}

	// Concurrent requests arrive in a different order from run to run, so
	// numbering alone may miss a request. Fail each request of the
	// fault-free run by what it is too: the i-th request with its API,
	// method and path.
	occurrences := map[string]int{}
	for _, key := range counter.requests() {
		occurrences[key]++
		i := occurrences[key]
		for _, kind := range kinds {
			t.Run(fmt.Sprintf("%s/%s#%d", kind, key, i), func(t *testing.T) {
				t.Parallel()
				var mu sync.Mutex
				seen := 0
				sweepOne(t, kind, &want, func(_ int, r *http.Request) bool {
					mu.Lock()
					defer mu.Unlock()
					if requestKey(r) == key {
						seen++
						return seen == i
					}
					return false
				})
			})
		}
	}
}

// requestKey names a request as the injector does, by the fake it reached.
func requestKey(r *http.Request) string {
	api := "GitHub"
	if strings.HasPrefix(r.URL.Path, "/api/v3/") || strings.HasPrefix(r.URL.Path, "/application/o/") {
		api = "authentik"
	}
	return api + " " + r.Method + " " + r.URL.Path
}

// sweepOne fails the one request that match selects, then checks that a
// clean run converges and the run after it writes nothing.
func sweepOne(t *testing.T, kind faultKind, want *endState, match func(seq int, r *http.Request) bool) {
	w := newWorld(t, []byte(baseConfig))
	inj := w.inject(func(seq int, r *http.Request) faultKind {
		if !match(seq, r) {
			return 0
		}
		return kind
	})
	first := w.apply(groupInputs)
	w.clearFaults()
	hit := inj.hit()
	t.Logf("%s; first run error: %v", hit, first.err)
	if hit == "" {
		t.Log("the run did not send the chosen request; nothing was failed")
	}
	if first.err != nil {
		log := first.failed(t)
		if !strings.Contains(log, "::error") {
			t.Errorf("the failed run wrote no workflow error:\n%s", log)
		}
	}
	// The retry transport resends everything but a POST after a 500 or a
	// dropped connection that changed nothing, so such a fault is invisible.
	if hit != "" && kind != dropAfterApply && !strings.Contains(hit, " POST ") && first.err != nil {
		t.Errorf("a retryable %s failed the run: %v", hit, first.err)
	}

	second := w.apply(groupInputs)
	if second.err != nil {
		t.Fatalf("the second run (no fault) failed after %s: %v\n%s", hit, second.err, second.stdout)
	}
	if probs := w.checkConverged(want, "staff"); len(probs) > 0 {
		t.Errorf("after %s and one clean run:\n%s", hit, strings.Join(probs, "\n"))
	}
	if probs := w.noWritesOnRerun(groupInputs); len(probs) > 0 {
		t.Errorf("after %s: %s", hit, strings.Join(probs, "\n"))
	}
}
