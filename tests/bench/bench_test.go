// Package bench measures what a run costs: requests to each API and wall
// time in round trips, with 50 ms of latency added to every request of both
// fakes, and the time from process start to the first request.
//
// Run: go test ./tests/bench -bench . -benchtime 3x -run '^$'
package bench

import (
	"bytes"
	"context"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/meshauth/meshcentral-authentik-action/internal/action"
	"github.com/meshauth/meshcentral-authentik-action/internal/fakes/authentikfake"
	"github.com/meshauth/meshcentral-authentik-action/internal/fakes/githubfake"
	"github.com/meshauth/meshcentral-authentik-action/internal/fakes/sandbox"
)

// latency is added to every request of both fakes; wall time divided by it
// is the run's length in round trips.
const latency = 50 * time.Millisecond

const config = `{
  "settings": {
    "cert": "mesh.example.com",
    "port": 443
  },
  "domains": {
    "": {
      "title": "Support"
    }
  }
}
`

type scenario struct {
	name string
	// prepare brings the sandbox to the scenario's starting state.
	prepare func(b *testing.B, sb *sandbox.Sandbox)
	mode    string
}

// applied runs apply, merges its pull request and runs apply again (which
// closes the merged pull request), so the measured run starts from a
// converged state.
func applied(b *testing.B, sb *sandbox.Sandbox) {
	b.Helper()
	if err := run(sb, "apply"); err != nil {
		b.Fatal(err)
	}
	if err := sb.MergePullRequest(1); err != nil {
		b.Fatal(err)
	}
	if err := run(sb, "apply"); err != nil {
		b.Fatal(err)
	}
}

var scenarios = []scenario{
	{"FreshApply", func(*testing.B, *sandbox.Sandbox) {}, "apply"},
	{"NoOpApply", applied, "apply"},
	{"Plan", applied, "plan"},
	{"Check", applied, "check"},
}

func run(sb *sandbox.Sandbox, mode string) error {
	env, err := sb.Env("push", "", map[string]string{"mode": mode, "allowed-groups": "staff", "admin-groups": "admins"})
	if err != nil {
		return err
	}
	var out bytes.Buffer
	return action.Run(context.Background(), action.Env{
		Getenv:     sandbox.Getenv(env),
		Stdout:     &out,
		HTTPClient: sb.HTTPClient(),
		Version:    "bench",
	})
}

func BenchmarkRun(b *testing.B) {
	for _, sc := range scenarios {
		b.Run(sc.name, func(b *testing.B) {
			var akRequests, ghRequests int
			var wall time.Duration
			for i := 0; i < b.N; i++ {
				b.StopTimer()
				sb, err := sandbox.Start(sandbox.Options{Config: []byte(config), Dir: b.TempDir()})
				if err != nil {
					b.Fatal(err)
				}
				sc.prepare(b, sb)
				if testing.Verbose() {
					defer dump(b, sb, len(sb.Authentik.Requests()), len(sb.GitHub.Requests()))
				}
				akBefore, ghBefore := len(sb.Authentik.Requests()), len(sb.GitHub.Requests())
				sb.Authentik.SetLatency(latency)
				sb.GitHub.SetLatency(latency)
				b.StartTimer()

				start := time.Now()
				if err := run(sb, sc.mode); err != nil {
					b.Fatal(err)
				}
				wall += time.Since(start)

				b.StopTimer()
				akRequests += len(sb.Authentik.Requests()) - akBefore
				ghRequests += len(sb.GitHub.Requests()) - ghBefore
				for _, v := range append(sb.Authentik.Violations(), sb.GitHub.Violations()...) {
					b.Errorf("contract violation: %s", v)
				}
				sb.Close()
				b.StartTimer()
			}
			n := float64(b.N)
			b.ReportMetric(float64(akRequests)/n, "authentik-req/op")
			b.ReportMetric(float64(ghRequests)/n, "github-req/op")
			b.ReportMetric(float64(akRequests+ghRequests)/n, "req/op")
			b.ReportMetric(wall.Seconds()/n/latency.Seconds(), "round-trips/op")
		})
	}
}

// BenchmarkStartToFirstRequest runs the built binary and measures the time
// from starting the process to the first request reaching either fake.
func BenchmarkStartToFirstRequest(b *testing.B) {
	binary := filepath.Join(b.TempDir(), "meshcentral-authentik")
	build := exec.Command("go", "build", "-trimpath", "-ldflags", "-s -w", "-o", binary, "../..")
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		b.Fatalf("build: %v\n%s", err, out)
	}
	sb, err := sandbox.Start(sandbox.Options{Config: []byte(config), Dir: b.TempDir()})
	if err != nil {
		b.Fatal(err)
	}
	defer sb.Close()
	certFile, err := sb.CertFile()
	if err != nil {
		b.Fatal(err)
	}

	var mu sync.Mutex
	var first time.Time
	seen := func() {
		mu.Lock()
		if first.IsZero() {
			first = time.Now()
		}
		mu.Unlock()
	}
	sb.Authentik.SetFault(func(int, *http.Request) authentikfake.Fault { seen(); return authentikfake.FaultNone })
	sb.GitHub.SetFault(func(int, *http.Request) githubfake.Fault { seen(); return githubfake.None })

	var total time.Duration
	for i := 0; i < b.N; i++ {
		env, err := sb.Env("push", "", map[string]string{"mode": "check", "fail-on-drift": "false"})
		if err != nil {
			b.Fatal(err)
		}
		env["SSL_CERT_FILE"] = certFile
		cmd := exec.Command(binary)
		cmd.Env = sandbox.Environ(env)
		mu.Lock()
		first = time.Time{}
		mu.Unlock()
		start := time.Now()
		if out, err := cmd.CombinedOutput(); err != nil {
			b.Fatalf("run: %v\n%s", err, out)
		}
		mu.Lock()
		if first.IsZero() {
			b.Fatal("no request reached the fakes")
		}
		total += first.Sub(start)
		mu.Unlock()
	}
	b.ReportMetric(float64(total.Microseconds())/float64(b.N)/1000, "ms-to-first-request")
	if info, err := os.Stat(binary); err == nil {
		b.ReportMetric(float64(info.Size())/(1<<20), "binary-MiB")
	}
}

// dump logs the requests of the measured run, with -v.
func dump(b *testing.B, sb *sandbox.Sandbox, akFrom, ghFrom int) {
	for _, r := range sb.Authentik.Requests()[akFrom:] {
		b.Logf("authentik %s %s?%s", r.Method, r.Path, r.Query)
	}
	for _, r := range sb.GitHub.Requests()[ghFrom:] {
		b.Logf("github    %s %s?%s", r.Method, r.Path, r.Query)
	}
}
