package e2e

import (
	"bytes"
	"slices"
	"strings"
	"testing"

	"github.com/meshauth/meshcentral-authentik-action/internal/fakes/authentikfake"
	"github.com/meshauth/meshcentral-authentik-action/internal/fakes/sandbox"
)

const (
	providerName = "Provider for MeshCentral"
	secretName   = "MESHCENTRAL_OIDC_CLIENT_SECRET"
)

// mergeActionPR commits the config.json of the action's open pull request
// to the default branch, as merging it would. The fake has no merge, so
// the pull request itself stays open.
func (w *world) mergeActionPR(t *testing.T) {
	t.Helper()
	for _, pr := range w.pulls() {
		if pr.State != "open" || pr.Head == "contributor" {
			continue
		}
		content := w.committed(t, pr.Number, sandbox.ConfigPath)
		if _, err := w.sb.GitHub.CommitFile(sandbox.Repository, sandbox.Branch, sandbox.ConfigPath, content, "Merge the sign-in change"); err != nil {
			t.Fatal(err)
		}
		return
	}
	t.Fatal("no open pull request from the action to merge")
}

// baseFile reads config.json on the default branch.
func (w *world) baseFile(t *testing.T) []byte {
	t.Helper()
	content, ok := w.sb.GitHub.File(sandbox.Repository, sandbox.Branch, sandbox.ConfigPath)
	if !ok {
		t.Fatalf("%s missing on %s", sandbox.ConfigPath, sandbox.Branch)
	}
	return content
}

// appliedWorld returns a world after apply whose pull request was merged,
// a deployment with nothing left to do.
func appliedWorld(t *testing.T) *world {
	t.Helper()
	w := newWorld(t, []byte(baseConfig))
	w.run(map[string]string{"allowed-groups": "staff"}).mustSucceed(t)
	w.mergeActionPR(t)
	return w
}

// check runs check mode with the inputs apply used, plus extra.
func (w *world) check(extra map[string]string) result {
	w.t.Helper()
	inputs := map[string]string{"mode": "check", "allowed-groups": "staff"}
	for k, v := range extra {
		inputs[k] = v
	}
	return w.runEvent("schedule", `{"schedule":"17 3 * * *"}`, inputs)
}

func TestCheckAfterApplyFindsNoDrift(t *testing.T) {
	w := appliedWorld(t)
	m := w.mark()
	res := w.check(nil).mustSucceed(t)
	w.onlyReads(t, m, 0)
	p, _ := w.sb.Authentik.Provider(providerName)
	for k, want := range map[string]string{"drift": "false", "changed": "false", "pull-request-operation": "none", "client-secret-rotated": "false", "client-id": p.ClientID} {
		wantOutput(t, res, k, want)
	}
	contains(t, "log", res.stdout, "No drift.")
	contains(t, "job summary", res.summary, "No changes")
	if strings.Contains(res.stdout, "::warning") || strings.Contains(res.stdout, "::error") {
		t.Errorf("a check without drift warned or failed:\n%s", res.stdout)
	}
}

// TestCheckBeforeMergeReportsConfig: until the pull request from apply is merged,
// config.json on the base branch lacks the oidc block. That is drift, and
// the message points at the pull request that repairs it.
func TestCheckBeforeMergeReportsConfig(t *testing.T) {
	w := newWorld(t, []byte(baseConfig))
	w.run(nil).mustSucceed(t)
	m := w.mark()
	res := w.runEvent("schedule", "", map[string]string{"mode": "check"})
	w.onlyReads(t, m, 0)
	if res.exitCode == 0 {
		t.Errorf("check exited 0 while config.json on the base branch lacks the oidc block")
	}
	wantOutput(t, res, "drift", "true")
	contains(t, "log", res.stdout, "config.json")
	contains(t, "error annotation", lineWith(res.stdout, "::error"), "merge pull request #1")
}

// TestCheckIgnoresStalePullRequest: once config.json on the base branch
// matches, an open pull request that apply would close is not drift.
func TestCheckIgnoresStalePullRequest(t *testing.T) {
	w := appliedWorld(t)
	open := 0
	for _, pr := range w.pulls() {
		if pr.State == "open" {
			open++
		}
	}
	if open != 1 {
		t.Fatalf("%d open pull requests after the merge, want the action's one", open)
	}
	res := w.check(nil).mustSucceed(t)
	wantOutput(t, res, "drift", "false")
}

// driftCase is one change made to a deployment outside the action.
type driftCase struct {
	name   string
	tamper func(t *testing.T, w *world)
	// want lists the texts that name the drifted item in the log and the
	// summary.
	want []string
}

func driftCases() []driftCase {
	return []driftCase{
		{
			name: "redirect URI",
			tamper: func(t *testing.T, w *world) {
				must(t, w.sb.Authentik.SetRedirectURIs(providerName, []authentikfake.RedirectURI{
					{MatchingMode: "strict", URL: "https://mesh.example.com:4430/auth-oidc-callback"},
				}))
			},
			want: []string{"authentik provider", "redirect_uris"},
		},
		{
			name: "scope mapping detached",
			tamper: func(t *testing.T, w *world) {
				var email string
				for _, m := range w.sb.Authentik.ScopeMappings() {
					if m.Managed == authentikfake.ScopeEmail {
						email = m.PK
					}
				}
				must(t, w.sb.Authentik.UpdateProvider(providerName, func(p *authentikfake.Provider) {
					p.PropertyMappings = slices.DeleteFunc(p.PropertyMappings, func(pk string) bool { return pk == email })
				}))
			},
			want: []string{"authentik provider", "property_mappings"},
		},
		{
			name: "signing key",
			tamper: func(t *testing.T, w *world) {
				if _, err := w.sb.Authentik.AddKeypair("Someone's key", true); err != nil {
					t.Fatal(err)
				}
				must(t, w.sb.Authentik.SetSigningKey(providerName, "Someone's key"))
			},
			want: []string{"authentik provider", "signing_key"},
		},
		{
			name: "config.json edited on the base branch",
			tamper: func(t *testing.T, w *world) {
				before := w.baseFile(t)
				after := bytes.Replace(before, []byte(`"newAccounts": true`), []byte(`"newAccounts": false`), 1)
				if bytes.Equal(before, after) {
					t.Fatalf("merged config.json has no newAccounts to edit:\n%s", before)
				}
				if _, err := w.sb.GitHub.CommitFile(sandbox.Repository, sandbox.Branch, sandbox.ConfigPath, after, "Close sign-ups"); err != nil {
					t.Fatal(err)
				}
			},
			want: []string{"config.json", "newAccounts"},
		},
		{
			name: "secret deleted",
			tamper: func(t *testing.T, w *world) {
				if !w.sb.GitHub.DeleteSecret(sandbox.Repository, "", secretName) {
					t.Fatalf("secret %s not found", secretName)
				}
			},
			want: []string{"GitHub secret", secretName},
		},
		{
			name: "client secret rotated in authentik",
			tamper: func(t *testing.T, w *world) {
				if _, err := w.sb.Authentik.RotateClientSecret(providerName); err != nil {
					t.Fatal(err)
				}
			},
			want: []string{"GitHub secret", secretName},
		},
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// TestCheckReportsDrift tampers with one item at a time after apply: check
// must name the item, set drift=true, fail by default and pass with
// fail-on-drift false, and write nothing.
func TestCheckReportsDrift(t *testing.T) {
	for _, tc := range driftCases() {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			w := appliedWorld(t)
			tc.tamper(t, w)

			m := w.mark()
			res := w.check(nil)
			w.onlyReads(t, m, 0)
			if res.exitCode == 0 {
				t.Errorf("check with fail-on-drift true exited 0:\n%s", res.stdout)
			}
			wantOutput(t, res, "drift", "true")
			wantOutput(t, res, "changed", "true")
			errLine := lineWith(res.stdout, "::error")
			for _, want := range append([]string{"drift found"}, tc.want...) {
				contains(t, "error annotation", errLine, want)
			}
			for _, want := range tc.want {
				contains(t, "job summary", res.summary, want)
			}

			m = w.mark()
			res = w.check(map[string]string{"fail-on-drift": "false"})
			w.onlyReads(t, m, 0)
			if res.exitCode != 0 {
				t.Errorf("check with fail-on-drift false exited %d:\n%s", res.exitCode, res.stdout)
			}
			wantOutput(t, res, "drift", "true")
			warning := lineWith(res.stdout, "::warning")
			for _, want := range append([]string{"drift found"}, tc.want...) {
				contains(t, "warning annotation", warning, want)
			}
		})
	}
}

// TestCheckMissingScopeMapping deletes the managed email scope mapping from
// authentik itself, which apply cannot recreate. check must name it, set
// drift=true and fail even with fail-on-drift false, and write nothing.
func TestCheckMissingScopeMapping(t *testing.T) {
	w := appliedWorld(t)
	must(t, w.sb.Authentik.RemoveScopeMapping(authentikfake.ScopeEmail))
	for _, failOnDrift := range []string{"true", "false"} {
		t.Run("fail-on-drift "+failOnDrift, func(t *testing.T) {
			m := w.mark()
			res := w.check(map[string]string{"fail-on-drift": failOnDrift})
			w.onlyReads(t, m, 0)
			if res.exitCode == 0 {
				t.Error("check passed with a managed scope mapping missing")
			}
			contains(t, "log", res.stdout, authentikfake.ScopeEmail)
			// NOTE: fails until a read error in check mode that comes from
			// a missing authentik object sets the drift output.
			wantOutput(t, res, "drift", "true")
		})
	}
}

// TestOutputsChangedAndDriftInEveryMode: workflows branch on changed and
// drift, so every mode sets both, with values that follow what it found.
func TestOutputsChangedAndDriftInEveryMode(t *testing.T) {
	w := newWorld(t, []byte(baseConfig))
	steps := []struct {
		name           string
		inputs         map[string]string
		merge          bool
		changed, drift string
	}{
		{"plan before apply", map[string]string{"mode": "plan"}, false, "true", "true"},
		{"check before apply", map[string]string{"mode": "check", "fail-on-drift": "false"}, false, "true", "true"},
		{"apply", map[string]string{"mode": "apply"}, true, "true", "false"},
		{"apply again", map[string]string{"mode": "apply"}, false, "true", "false"},
		{"apply with nothing to do", map[string]string{"mode": "apply"}, false, "false", "false"},
		{"plan after apply", map[string]string{"mode": "plan"}, false, "false", "false"},
		{"check after apply", map[string]string{"mode": "check"}, false, "false", "false"},
	}
	for _, s := range steps {
		res := w.run(s.inputs).mustSucceed(t)
		t.Run(s.name, func(t *testing.T) {
			wantOutput(t, res, "changed", s.changed)
			wantOutput(t, res, "drift", s.drift)
		})
		if s.merge {
			w.mergeActionPR(t)
		}
	}
}

// lineWith returns the lines of log that start with prefix.
func lineWith(log, prefix string) string {
	var out []string
	for _, line := range strings.Split(log, "\n") {
		if strings.HasPrefix(line, prefix) {
			out = append(out, line)
		}
	}
	return strings.Join(out, "\n")
}
