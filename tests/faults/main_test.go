// Package faults runs the action in-process against the authentik and
// GitHub fakes while requests fail, connections drop, inputs are invalid
// and runs overlap. It checks that the next run repairs whatever a failed
// run left, and that no secret reaches anything the action emits.
package faults

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/meshauth/meshcentral-authentik-action/internal/action"
	"github.com/meshauth/meshcentral-authentik-action/internal/fakes/authentikfake"
	"github.com/meshauth/meshcentral-authentik-action/internal/fakes/githubfake"
	"github.com/meshauth/meshcentral-authentik-action/internal/fakes/sandbox"
)

const baseConfig = `{
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

const (
	secretName   = "MESHCENTRAL_OIDC_CLIENT_SECRET"
	idSecretName = "MESHCENTRAL_OIDC_CLIENT_ID"
	providerName = "Provider for MeshCentral"
	appSlug      = "meshcentral"
)

// groupInputs set allowed-groups and admin-groups, so a fresh apply creates
// a binding and writes a groups block.
var groupInputs = map[string]string{"allowed-groups": "staff", "admin-groups": "admins"}

// world is one sandbox of both fakes, and everything the action emitted
// into it, for the leak scan that runs when the test ends.
type world struct {
	t  *testing.T
	sb *sandbox.Sandbox

	mu   sync.Mutex
	runs []*result
	// extraSecrets are secret values the scan cannot find by itself, such
	// as a client secret that rotation replaced.
	extraSecrets []string
	// httpClient, when set, replaces the sandbox's client, for a world
	// with a proxy of its own.
	httpClient *http.Client
	// inlineConfig marks a world whose config.json may contain the secret,
	// because a run used client-secret-in-config: inline.
	inlineConfig bool
}

func newWorld(t *testing.T, config []byte) *world {
	t.Helper()
	return newWorldOpts(t, sandbox.Options{Config: config})
}

func newWorldOpts(t *testing.T, opts sandbox.Options) *world {
	t.Helper()
	opts.Dir = t.TempDir()
	sb, err := sandbox.Start(opts)
	if err != nil {
		t.Fatal(err)
	}
	w := &world{t: t, sb: sb}
	t.Cleanup(func() {
		for _, v := range sb.Authentik.Violations() {
			t.Errorf("authentik contract violation: %s", v)
		}
		for _, v := range sb.GitHub.Violations() {
			t.Errorf("GitHub contract violation: %s", v)
		}
		w.scanLeaks(t)
		sb.Close()
	})
	return w
}

// result is what one in-process run produced.
type result struct {
	err     error
	stdout  string
	stderr  string
	output  string // raw GITHUB_OUTPUT file
	outputs map[string]string
	summary string
	inputs  map[string]string
	// renderFile is the content of render-output, which contains the
	// secret on purpose.
	renderFile string
	// mustMask are secrets the run must have masked.
	mustMask []string
}

// apply runs mode apply on a push event.
func (w *world) apply(inputs map[string]string) *result {
	w.t.Helper()
	return w.run("push", "", inputs)
}

// run runs the action in-process with the given event and inputs.
func (w *world) run(eventName, event string, inputs map[string]string) *result {
	w.t.Helper()
	env, err := w.sb.Env(eventName, event, inputs)
	if err != nil {
		w.t.Fatal(err)
	}
	return w.runEnv(env, inputs)
}

// runEnv runs the action with a prepared environment.
func (w *world) runEnv(env map[string]string, inputs map[string]string) *result {
	client := w.sb.HTTPClient()
	if w.httpClient != nil {
		client = w.httpClient
	}
	var stdout, stderr bytes.Buffer
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	err := action.Run(ctx, action.Env{
		Getenv:         sandbox.Getenv(env),
		Stdout:         &stdout,
		Stderr:         &stderr,
		HTTPClient:     client,
		Version:        "faults",
		RetryBaseDelay: time.Millisecond,
	})
	res := &result{err: err, stdout: stdout.String(), stderr: stderr.String(), inputs: inputs}

	if raw, rerr := os.ReadFile(env["GITHUB_OUTPUT"]); rerr == nil {
		res.output = string(raw)
		res.outputs, _ = action.ParseOutputFile(res.output)
	}
	if raw, rerr := os.ReadFile(env["GITHUB_STEP_SUMMARY"]); rerr == nil {
		res.summary = string(raw)
	}
	if p := inputs["render-output"]; p != "" {
		if !filepath.IsAbs(p) {
			p = filepath.Join(env["GITHUB_WORKSPACE"], p)
		}
		if raw, rerr := os.ReadFile(p); rerr == nil {
			res.renderFile = string(raw)
		}
	}

	if inputs["client-secret-in-config"] == "inline" {
		w.mu.Lock()
		w.inlineConfig = true
		w.mu.Unlock()
	}
	w.mu.Lock()
	w.runs = append(w.runs, res)
	w.mu.Unlock()
	return res
}

// ok fails the test when the run did not succeed.
func (r *result) ok(t *testing.T) *result {
	t.Helper()
	if r.err != nil {
		t.Fatalf("run failed: %v\nlog:\n%s", r.err, r.stdout)
	}
	return r
}

// failed fails the test when the run succeeded, and returns its log.
func (r *result) failed(t *testing.T) string {
	t.Helper()
	if r.err == nil {
		t.Fatalf("run succeeded, want an error\nlog:\n%s", r.stdout)
	}
	if !errors.Is(r.err, action.ErrReported) {
		t.Errorf("error %v does not wrap action.ErrReported", r.err)
	}
	return r.stdout
}

func (w *world) writes() int {
	return w.sb.Authentik.WriteCount() + w.sb.GitHub.WriteCount()
}

// openPulls returns the open pull requests of the deployment repository.
func (w *world) openPulls() []githubfake.PullRequest {
	var out []githubfake.PullRequest
	for _, p := range w.sb.GitHub.PullRequests(sandbox.Repository) {
		if p.State == "open" {
			out = append(out, p)
		}
	}
	return out
}

// faultKind is a fault both fakes can inject.
type faultKind int

const (
	status500 faultKind = iota + 1
	dropConnection
	dropAfterApply
)

func (k faultKind) String() string {
	switch k {
	case status500:
		return "Status500"
	case dropConnection:
		return "DropConnection"
	case dropAfterApply:
		return "DropAfterApply"
	}
	return "none"
}

func (k faultKind) authentik() authentikfake.Fault {
	switch k {
	case status500:
		return authentikfake.FaultStatus500
	case dropConnection:
		return authentikfake.FaultDropConnection
	case dropAfterApply:
		return authentikfake.FaultDropAfterApply
	}
	return authentikfake.FaultNone
}

func (k faultKind) github() githubfake.Fault {
	switch k {
	case status500:
		return githubfake.Status500
	case dropConnection:
		return githubfake.DropConnection
	case dropAfterApply:
		return githubfake.DropAfterApply
	}
	return githubfake.None
}

// injector numbers the requests of both fakes with one counter and fails
// chosen ones.
type injector struct {
	mu     sync.Mutex
	seq    int
	decide func(seq int, r *http.Request) faultKind
	hits   []string
	// seen names every request, "<api> <method> <path>", in arrival order.
	seen []string
}

// inject installs decide on both fakes; a nil decide only counts.
func (w *world) inject(decide func(seq int, r *http.Request) faultKind) *injector {
	in := &injector{decide: decide}
	w.sb.Authentik.SetFault(func(_ int, r *http.Request) authentikfake.Fault {
		return in.next("authentik", r).authentik()
	})
	w.sb.GitHub.SetFault(func(_ int, r *http.Request) githubfake.Fault {
		return in.next("GitHub", r).github()
	})
	return in
}

func (in *injector) next(api string, r *http.Request) faultKind {
	in.mu.Lock()
	defer in.mu.Unlock()
	in.seq++
	in.seen = append(in.seen, api+" "+r.Method+" "+r.URL.Path)
	if in.decide == nil {
		return 0
	}
	k := in.decide(in.seq, r)
	if k != 0 {
		in.hits = append(in.hits, k.String()+" on "+api+" "+r.Method+" "+r.URL.Path)
	}
	return k
}

func (in *injector) count() int {
	in.mu.Lock()
	defer in.mu.Unlock()
	return in.seq
}

func (in *injector) requests() []string {
	in.mu.Lock()
	defer in.mu.Unlock()
	return append([]string(nil), in.seen...)
}

func (in *injector) hit() string {
	in.mu.Lock()
	defer in.mu.Unlock()
	return strings.Join(in.hits, "; ")
}

// clearFaults removes the fault functions of both fakes.
func (w *world) clearFaults() {
	w.sb.Authentik.SetFault(nil)
	w.sb.GitHub.SetFault(nil)
}

// fingerprintMatches reports whether the fingerprint variable was made
// from id and secret ("v1:<salt>:<sha256(salt|id)>:<sha256(salt|secret)>").
func fingerprintMatches(v, id, secret string) bool {
	parts := strings.Split(v, ":")
	if len(parts) != 4 || parts[0] != "v1" {
		return false
	}
	salt, err := hex.DecodeString(parts[1])
	if err != nil {
		return false
	}
	hash := func(s string) string {
		h := sha256.Sum256(append(append([]byte(nil), salt...), s...))
		return hex.EncodeToString(h[:])
	}
	return parts[2] == hash(id) && parts[3] == hash(secret)
}

// tempPath is a path under the test's directory.
func (w *world) tempPath(name string) string {
	return filepath.Join(w.sb.Dir, name)
}

func contains(t *testing.T, what, text, want string) {
	t.Helper()
	if !strings.Contains(text, want) {
		t.Errorf("%s does not contain %q:\n%s", what, want, text)
	}
}

// openContributorPR opens a pull request from a contributor's branch that
// changes README.md, for plan runs on pull_request events.
func (w *world) openContributorPR(t *testing.T) int {
	t.Helper()
	gh := w.sb.GitHub
	if err := gh.CreateBranch(sandbox.Repository, "contributor", sandbox.Branch); err != nil {
		t.Fatal(err)
	}
	if _, err := gh.CommitFile(sandbox.Repository, "contributor", "README.md", []byte("# Deployment\n\nWith sign-in.\n"), "Describe sign-in"); err != nil {
		t.Fatal(err)
	}
	n, err := gh.OpenPullRequest(sandbox.Repository, "contributor", sandbox.Branch, "Describe sign-in", "")
	if err != nil {
		t.Fatal(err)
	}
	return n
}
