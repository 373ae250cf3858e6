// Package e2e runs the built action binary the way the Actions runner runs
// a container action (INPUT_* variables, GITHUB_OUTPUT, GITHUB_STEP_SUMMARY,
// GITHUB_EVENT_PATH, GITHUB_REPOSITORY, GITHUB_API_URL) against the
// contract-checked fakes of authentik and GitHub.
package e2e

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/meshauth/meshcentral-authentik-action/internal/fakes/githubfake"
	"github.com/meshauth/meshcentral-authentik-action/internal/fakes/sandbox"
)

// binary is the action built once for all tests.
var binary string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "meshcentral-authentik-e2e-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binary = filepath.Join(dir, "meshcentral-authentik")
	build := exec.Command("go", "build", "-trimpath", "-o", binary, "../..")
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "build the action: %v\n%s", err, out)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// world is one sandbox of both fakes for a test.
type world struct {
	t  *testing.T
	sb *sandbox.Sandbox
}

func newWorld(t *testing.T, config []byte) *world {
	t.Helper()
	sb, err := sandbox.Start(sandbox.Options{Config: config, Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		for _, v := range sb.Authentik.Violations() {
			t.Errorf("authentik contract violation: %s", v)
		}
		for _, v := range sb.GitHub.Violations() {
			t.Errorf("GitHub contract violation: %s", v)
		}
		sb.Close()
	})
	return &world{t: t, sb: sb}
}

// result is what one run of the binary produced.
type result struct {
	exitCode int
	stdout   string
	stderr   string
	outputs  map[string]string
	summary  string
}

// run executes the binary with the given inputs on a push event.
func (w *world) run(inputs map[string]string) result {
	w.t.Helper()
	return w.runEvent("push", "", inputs)
}

func (w *world) runEvent(eventName, event string, inputs map[string]string) result {
	w.t.Helper()
	env, err := w.sb.Env(eventName, event, inputs)
	if err != nil {
		w.t.Fatal(err)
	}
	certFile, err := w.sb.CertFile()
	if err != nil {
		w.t.Fatal(err)
	}
	// The runner passes only the step's environment into the container;
	// SSL_CERT_FILE makes the GitHub fake's certificate the trusted root, and
	// authentik's CA comes in through the authentik-ca-certificate input.
	env["SSL_CERT_FILE"] = certFile
	env["PATH"] = os.Getenv("PATH")
	cmd := exec.Command(binary)
	cmd.Env = sandbox.Environ(env)
	cmd.Dir = w.sb.Dir
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err = cmd.Run()
	res := result{stdout: stdout.String(), stderr: stderr.String()}
	var exit *exec.ExitError
	switch {
	case errors.As(err, &exit):
		res.exitCode = exit.ExitCode()
	case err != nil:
		w.t.Fatal(err)
	}
	if res.outputs, err = w.sb.Outputs(); err != nil {
		w.t.Fatal(err)
	}
	if res.summary, err = w.sb.Summary(); err != nil {
		w.t.Fatal(err)
	}
	return res
}

// mustSucceed fails the test when the run did not exit 0.
func (r result) mustSucceed(t *testing.T) result {
	t.Helper()
	if r.exitCode != 0 {
		t.Fatalf("exit code %d\nstdout:\n%s\nstderr:\n%s", r.exitCode, r.stdout, r.stderr)
	}
	return r
}

// writes counts the write requests both fakes received since the last
// call of reset.
func (w *world) writes() (authentik, github int) {
	return w.sb.Authentik.WriteCount(), w.sb.GitHub.WriteCount()
}

func (w *world) pulls() []githubfake.PullRequest {
	return w.sb.GitHub.PullRequests(sandbox.Repository)
}

func (w *world) committed(t *testing.T, number int, path string) []byte {
	t.Helper()
	content := w.sb.GitHub.PullRequestFile(sandbox.Repository, number, path)
	if content == nil {
		t.Fatalf("pull request #%d has no %s", number, path)
	}
	return content
}

func contains(t *testing.T, what, text, want string) {
	t.Helper()
	if !strings.Contains(text, want) {
		t.Errorf("%s does not contain %q:\n%s", what, want, text)
	}
}
