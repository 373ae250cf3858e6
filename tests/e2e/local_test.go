package e2e

import (
	"bytes"
	"os"
	"os/exec"
	"testing"

	"github.com/meshauth/meshcentral-authentik-action/internal/fakes/sandbox"
)

// TestApplyOutsideActions runs the binary the way the README's "Outside
// Actions" section does: no GITHUB_OUTPUT or GITHUB_STEP_SUMMARY file. The
// outputs go to the log instead.
func TestApplyOutsideActions(t *testing.T) {
	w := newWorld(t, []byte(baseConfig))
	env, err := w.sb.Env("", "", nil)
	if err != nil {
		t.Fatal(err)
	}
	delete(env, "GITHUB_OUTPUT")
	delete(env, "GITHUB_STEP_SUMMARY")
	delete(env, "GITHUB_ACTIONS")
	certFile, err := w.sb.CertFile()
	if err != nil {
		t.Fatal(err)
	}
	env["SSL_CERT_FILE"] = certFile
	env["PATH"] = os.Getenv("PATH")
	cmd := exec.Command(binary)
	cmd.Env = sandbox.Environ(env)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("run: %v\nstdout:\n%s\nstderr:\n%s", err, stdout.String(), stderr.String())
	}
	contains(t, "log", stdout.String(), "Outputs:")
	contains(t, "log", stdout.String(), "pull-request-operation: created")
	if n := len(w.pulls()); n != 1 {
		t.Errorf("%d pull requests, want 1", n)
	}
}
