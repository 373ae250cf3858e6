// Package signin proves the config.json the action writes with real
// MeshCentral 1.1.55 sign-ins. Each test runs the action's apply in process
// against the authentik and GitHub fakes, then renders the pull request's
// config.json with the client secret stored in the GitHub fake. It then
// starts MeshCentral with the rendered file on loopback and signs a user in
// through the authentik fake's OIDC endpoints.
//
// Run `npm ci` in tests/meshcentral once. Without node or that install the
// tests are skipped, except under CI=true, where they fail.
package signin

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/meshauth/meshcentral-authentik-action/internal/action"
	"github.com/meshauth/meshcentral-authentik-action/internal/fakes/oidcfake"
	"github.com/meshauth/meshcentral-authentik-action/internal/fakes/sandbox"
	"github.com/meshauth/meshcentral-authentik-action/tests/meshtest"
)

// defaultSecretName is the default of the client-secret-secret-name input.
const defaultSecretName = "MESHCENTRAL_OIDC_CLIENT_SECRET"

// requireMeshCentral skips when node or the npm install in tests/meshcentral
// is missing, and fails instead under CI=true, so CI never passes without
// running MeshCentral.
func requireMeshCentral(t *testing.T) {
	t.Helper()
	_, nodeErr := exec.LookPath("node")
	installErr := checkInstall(filepath.Join("..", "meshcentral"))
	if nodeErr == nil && installErr == nil {
		return
	}
	if os.Getenv("CI") == "true" {
		t.Fatalf("MeshCentral cannot run: node: %v; install: %v", nodeErr, installErr)
	}
	t.Skipf("MeshCentral cannot run (run npm ci in tests/meshcentral): node: %v; install: %v", nodeErr, installErr)
}

// checkInstall returns an error unless dir contains MeshCentral
// meshtest.Version.
func checkInstall(dir string) error {
	data, err := os.ReadFile(filepath.Join(dir, "node_modules", "meshcentral", "package.json"))
	if err != nil {
		return err
	}
	var pkg struct{ Version string }
	if err := json.Unmarshal(data, &pkg); err != nil {
		return fmt.Errorf("decode MeshCentral's package.json: %w", err)
	}
	if pkg.Version != meshtest.Version {
		return fmt.Errorf("MeshCentral is %q, want %q", pkg.Version, meshtest.Version)
	}
	return nil
}

// world is one sandbox of the authentik and GitHub fakes.
type world struct {
	t  *testing.T
	sb *sandbox.Sandbox
}

// newWorld starts a sandbox with config at sandbox.ConfigPath on the default
// branch. At the end of the test it checks that neither fake received a
// request that breaks its API contract.
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

// result is what one run of the action produced.
type result struct {
	outputs map[string]string
	log     string
	err     error
}

// run runs the action in process on a push event with the given inputs.
// A non-empty workspace replaces GITHUB_WORKSPACE (render mode reads
// config-path below it).
func (w *world) run(inputs map[string]string, workspace string) result {
	w.t.Helper()
	env, err := w.sb.Env("push", "", inputs)
	if err != nil {
		w.t.Fatal(err)
	}
	if workspace != "" {
		env["GITHUB_WORKSPACE"] = workspace
	}
	var log bytes.Buffer
	runErr := action.Run(w.t.Context(), action.Env{
		Getenv:     sandbox.Getenv(env),
		Stdout:     &log,
		Stderr:     &log,
		HTTPClient: w.sb.HTTPClient(),
		Version:    "signin-test",
	})
	outputs, err := w.sb.Outputs()
	if err != nil {
		w.t.Fatal(err)
	}
	return result{outputs: outputs, log: log.String(), err: runErr}
}

// apply runs apply, fails the test unless it succeeds and opened or updated
// a pull request, and returns the run with the pull request's config.json.
func (w *world) apply(inputs map[string]string) (result, []byte) {
	w.t.Helper()
	in := map[string]string{"mode": "apply"}
	for k, v := range inputs {
		in[k] = v
	}
	res := w.run(in, "")
	if res.err != nil {
		w.t.Fatalf("apply: %v\nlog:\n%s", res.err, res.log)
	}
	if op := res.outputs["pull-request-operation"]; op != "created" && op != "updated" {
		w.t.Fatalf("pull-request-operation = %q, want created or updated\nlog:\n%s", op, res.log)
	}
	var number int
	if _, err := fmt.Sscan(res.outputs["pull-request-number"], &number); err != nil {
		w.t.Fatalf("pull-request-number %q: %v", res.outputs["pull-request-number"], err)
	}
	content := w.sb.GitHub.PullRequestFile(sandbox.Repository, number, sandbox.ConfigPath)
	if content == nil {
		w.t.Fatalf("pull request #%d has no %s", number, sandbox.ConfigPath)
	}
	return res, content
}

// merge commits content to the default branch, as merging the pull request
// that carries it would.
func (w *world) merge(content []byte) {
	w.t.Helper()
	if _, err := w.sb.GitHub.CommitFile(sandbox.Repository, sandbox.Branch, sandbox.ConfigPath, content, "Merge the sign-in pull request"); err != nil {
		w.t.Fatal(err)
	}
}

// render runs render mode on content checked out at config-path and returns
// the deployable file. It renders once for each secret name given, or for
// each placeholder in content when none is given, with the secret the
// GitHub fake stores under that name.
func (w *world) render(content []byte, secretNames ...string) []byte {
	w.t.Helper()
	if len(secretNames) == 0 {
		secretNames = placeholderNames(content)
	}
	for _, name := range secretNames {
		secret, ok := w.sb.GitHub.SecretPlaintext(sandbox.Repository, "", name)
		if !ok || secret == "" {
			w.t.Fatalf("secret %q not found in the GitHub fake", name)
		}
		workspace := w.t.TempDir()
		src := filepath.Join(workspace, filepath.FromSlash(sandbox.ConfigPath))
		if err := os.MkdirAll(filepath.Dir(src), 0o755); err != nil {
			w.t.Fatal(err)
		}
		if err := os.WriteFile(src, content, 0o644); err != nil {
			w.t.Fatal(err)
		}
		out := filepath.Join(w.t.TempDir(), "config.json")
		res := w.run(map[string]string{
			"mode":                      "render",
			"client-secret":             secret,
			"client-secret-secret-name": name,
			"render-output":             out,
		}, workspace)
		if res.err != nil {
			w.t.Fatalf("render with %q: %v\nlog:\n%s", name, res.err, res.log)
		}
		rendered, err := os.ReadFile(out)
		if err != nil {
			w.t.Fatalf("read render-output: %v\nlog:\n%s", err, res.log)
		}
		if bytes.Contains(rendered, []byte("${"+name+"}")) {
			w.t.Fatalf("the rendered file still contains the placeholder of %q", name)
		}
		content = rendered
	}
	return content
}

// startMesh runs MeshCentral with a rendered config.json on loopback,
// trusting the authentik fake's CA, with cert as its host name and port
// (0 for a free one) as its port. It stops MeshCentral at the end of the
// test and logs its output when the test failed.
func (w *world) startMesh(config []byte, cert string, port int) *meshtest.Instance {
	w.t.Helper()
	inst, err := meshtest.Start(w.t.Context(), meshtest.Options{
		Config:         config,
		Cert:           cert,
		Port:           port,
		ExtraCACertPEM: w.sb.Authentik.CACertPEM,
		DataDir:        w.t.TempDir(),
	})
	if err != nil {
		w.t.Fatalf("start MeshCentral with the rendered config.json: %v", err)
	}
	w.t.Cleanup(inst.Stop)
	w.t.Cleanup(func() {
		if w.t.Failed() {
			w.t.Logf("MeshCentral output:\n%s\nauth log:\n%s", inst.Output(), inst.AuthLog())
		}
	})
	return inst
}

// setUser makes u the user who signs in at the authentik fake.
func (w *world) setUser(u oidcfake.User) {
	w.sb.Authentik.SetUser(u)
}

// visit is one sign-in attempt: where the browser opens MeshCentral and
// what must come of it.
type visit struct {
	// domainPath is the path of a named domain without its own dns, and ""
	// for the others.
	domainPath string
	// host is the host name the user opens, empty for the cert name.
	host string
	// domainID is the MeshCentral domain the user belongs to ("" for the
	// default domain).
	domainID string
	// redirectURI is the action's redirect-uri output, which MeshCentral
	// must send to the authorize endpoint.
	redirectURI string
}

func (v visit) login(t *testing.T, inst *meshtest.Instance) *meshtest.LoginResult {
	t.Helper()
	res, err := meshtest.Login(t.Context(), inst, v.domainPath, v.host)
	if err != nil {
		t.Fatalf("sign in to domain %q on host %q: %v", v.domainPath, v.host, err)
	}
	if res.RedirectURI != v.redirectURI {
		t.Errorf("MeshCentral sent redirect_uri %q, want the action's redirect-uri %q", res.RedirectURI, v.redirectURI)
	}
	if res.AuthorizeStatus != 302 {
		t.Fatalf("authorize answered %d, want 302 back to MeshCentral:\n%s", res.AuthorizeStatus, res.AuthorizeBody)
	}
	return res
}

// signedIn signs u in and checks that MeshCentral's database contains u
// as a user of the domain.
func (v visit) signedIn(t *testing.T, inst *meshtest.Instance, u oidcfake.User) *meshtest.User {
	t.Helper()
	res := v.login(t, inst)
	if !res.SignedIn || res.User == nil {
		t.Fatalf("%q not signed in: callback %d, Location %q; auth log:\n%s",
			u.Username, res.CallbackStatus, res.CallbackLocation, strings.Join(res.AuthLog, "\n"))
	}
	if prefix := "user/" + v.domainID + "/~oidc:"; !strings.HasPrefix(res.User.ID, prefix) {
		t.Errorf("user ID = %q, want an OIDC user of domain %q (%s...)", res.User.ID, v.domainID, prefix)
	}
	if res.User.Name != u.Name || res.User.Email != u.Email {
		t.Errorf("user = %+v, want name %q and e-mail %q", *res.User, u.Name, u.Email)
	}
	if !inDomain(t, inst, v.domainID, u.Email) {
		t.Errorf("domain %q has no user with e-mail %q", v.domainID, u.Email)
	}
	return res.User
}

// rejected signs u in and checks that MeshCentral sent the browser back to
// the login page and created no user for u.
func (v visit) rejected(t *testing.T, inst *meshtest.Instance, u oidcfake.User) *meshtest.LoginResult {
	t.Helper()
	res := v.login(t, inst)
	if res.CallbackStatus != 302 || res.SignedIn || res.User != nil {
		t.Errorf("callback %d, signed in %v as %+v; want 302 back to the login page and no user",
			res.CallbackStatus, res.SignedIn, res.User)
	}
	if inDomain(t, inst, v.domainID, u.Email) {
		t.Errorf("domain %q contains a user with e-mail %q, want none", v.domainID, u.Email)
	}
	return res
}

// inDomain reports whether MeshCentral's database has a user of the
// domain with the e-mail address.
func inDomain(t *testing.T, inst *meshtest.Instance, domainID, email string) bool {
	t.Helper()
	users, err := inst.Users(domainID)
	if err != nil {
		t.Fatal(err)
	}
	for _, u := range users {
		if u.Email == email {
			return true
		}
	}
	return false
}

// freePort returns a free loopback port for a config's settings.port.
func freePort(t *testing.T) int {
	t.Helper()
	port, err := meshtest.FreePort()
	if err != nil {
		t.Fatal(err)
	}
	return port
}
