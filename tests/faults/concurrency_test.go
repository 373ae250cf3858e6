package faults

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/meshauth/meshcentral-authentik-action/internal/fakes/sandbox"
)

// TestConcurrentApplies starts two applies at once on a fresh sandbox, with
// a few latencies to vary how their requests interleave. Neither may create
// a second provider, application, binding or pull request. The secrets must
// equal authentik's credentials at the end, after a third apply if the race
// left them stale.
func TestConcurrentApplies(t *testing.T) {
	for _, latency := range []time.Duration{0, time.Millisecond, 5 * time.Millisecond} {
		for round := 1; round <= 3; round++ {
			t.Run(fmt.Sprintf("latency %v round %d", latency, round), func(t *testing.T) {
				concurrentApplies(t, latency)
			})
		}
	}
}

func concurrentApplies(t *testing.T, latency time.Duration) {
	w := newWorld(t, []byte(baseConfig))
	w.sb.Authentik.SetLatency(latency)
	w.sb.GitHub.SetLatency(latency)

	envs := make([]map[string]string, 2)
	for i := range envs {
		env, err := w.sb.Env("push", "", groupInputs)
		if err != nil {
			t.Fatal(err)
		}
		for _, k := range []string{"GITHUB_OUTPUT", "GITHUB_STEP_SUMMARY"} {
			env[k] = filepath.Join(w.sb.Dir, fmt.Sprintf("%s-%d", strings.ToLower(k), i))
			if err := os.WriteFile(env[k], nil, 0o644); err != nil {
				t.Fatal(err)
			}
		}
		envs[i] = env
	}
	results := make([]*result, 2)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range envs {
		wg.Go(func() {
			<-start
			results[i] = w.runEnv(envs[i], groupInputs)
		})
	}
	close(start)
	wg.Wait()
	w.sb.Authentik.SetLatency(0)
	w.sb.GitHub.SetLatency(0)
	for i, r := range results {
		t.Logf("run %d: error %v", i+1, r.err)
	}

	ak := w.sb.Authentik
	if n := len(ak.Providers()); n > 1 {
		t.Errorf("%d providers after two concurrent applies", n)
	}
	if n := len(ak.Applications()); n > 1 {
		t.Errorf("%d applications after two concurrent applies", n)
	}
	// Both runs can list no binding and then both create one, as authentik
	// allows; the next apply deletes the duplicate, which checkConverged
	// below requires.
	if g := w.boundGroups(); len(g) > 1 {
		t.Logf("bindings %q after two concurrent applies; the next apply must remove the duplicate", g)
	}
	if n := len(w.sb.GitHub.PullRequests(sandbox.Repository)); n > 1 {
		t.Errorf("%d pull requests after two concurrent applies", n)
	}

	if probs := w.checkConverged(nil, "staff"); len(probs) > 0 {
		t.Logf("the concurrent applies left a state for the next run to repair:\n%s", strings.Join(probs, "\n"))
		if res := w.apply(groupInputs); res.err != nil {
			t.Fatalf("the third apply failed: %v\n%s", res.err, res.stdout)
		}
		if probs := w.checkConverged(nil, "staff"); len(probs) > 0 {
			t.Errorf("the third apply did not repair:\n%s", strings.Join(probs, "\n"))
		}
	}
	if probs := w.noWritesOnRerun(groupInputs); len(probs) > 0 {
		t.Error(strings.Join(probs, "\n"))
	}
}
