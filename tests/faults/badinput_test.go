package faults

import (
	"strings"
	"testing"

	"github.com/meshauth/meshcentral-authentik-action/internal/fakes/authentikfake"
	"github.com/meshauth/meshcentral-authentik-action/internal/fakes/githubfake"
	"github.com/meshauth/meshcentral-authentik-action/internal/fakes/sandbox"
)

// Tokens the bad-input tests register with the fakes.
const (
	noAccessToken   = "none-token-0123456789"
	readOnlyToken   = "read-only-token-0123456789"
	workflowToken   = "ghs_workflowGitHubToken0123456789"
	wrongAKToken    = "wrong-token-0123456789"
	notJSONConfig   = "{\n  \"settings\": {},\n  \"domains\": }\n"
	invalidInputEnd = "nothing was changed: fix the inputs above and run again"
)

// TestBadInputWritesNothing runs apply with one invalid input or one
// unusable server state at a time. Each run must fail with an error that
// names the input, the value where it is not secret, and the fix, and
// must send no write request to either fake.
func TestBadInputWritesNothing(t *testing.T) {
	cases := []struct {
		name   string
		inputs map[string]string
		// config replaces the committed config.json; nil keeps baseConfig.
		config   []byte
		noConfig bool
		want     []string
	}{
		{name: "missing meshcentral-url", inputs: map[string]string{"meshcentral-url": ""},
			want: []string{"input meshcentral-url is missing", "set it to an https URL", invalidInputEnd}},
		{name: "malformed authentik-url", inputs: map[string]string{"authentik-url": "https//auth"},
			want: []string{`input authentik-url has invalid value "https//auth"`, "use an absolute URL"}},
		{name: "http authentik-url", inputs: map[string]string{"authentik-url": "http://127.0.0.1:9"},
			want: []string{`input authentik-url has invalid value "http://127.0.0.1:9"`, "use https", "allow-insecure-http: true"}},
		{name: "http meshcentral-url", inputs: map[string]string{"meshcentral-url": "http://mesh.example.com"},
			want: []string{`input meshcentral-url has invalid value "http://mesh.example.com"`, "use https", "allow-insecure-http: true"}},
		{name: "invalid slug", inputs: map[string]string{"application-slug": "Mesh Central!"},
			want: []string{`input application-slug has invalid value "Mesh Central!"`, "use letters, digits, hyphens and underscores"}},
		{name: "unknown flow", inputs: map[string]string{"authorization-flow": "no-such-flow"},
			want: []string{"no-such-flow", "default-provider-authorization-implicit-consent"}},
		{name: "unknown signing key", inputs: map[string]string{"signing-key": "no-such-key"},
			want: []string{`resolve signing-key "no-such-key"`, `keypairs with a private key: "authentik Self-signed Certificate"`}},
		{name: "unknown group", inputs: map[string]string{"allowed-groups": "staff,no-such-group"},
			want: []string{"resolve allowed-groups", `"no-such-group"`, `groups: "admins", "staff"`}},
		{name: "config.json missing", noConfig: true,
			want: []string{`config-path "meshcentral-data/config.json" not found on branch "main"`, "set config-path"}},
		{name: "config.json not JSON", config: []byte(notJSONConfig),
			want: []string{"::error col=14,file=meshcentral-data/config.json,line=3,", "line 3, column 14"}},
		{name: "config.json over 1 MiB", config: []byte(`{"x":"` + strings.Repeat("a", 1<<20) + `"}`),
			want: []string{"::error file=meshcentral-data/config.json,", "1048576-byte limit"}},
		{name: "config-path outside the repository", inputs: map[string]string{"config-path": "../outside/config.json"},
			want: []string{`input config-path has invalid value "../outside/config.json"`, "use a clean path inside the repository"}},
		{name: "unknown deployment repository", inputs: map[string]string{"deployment-repository": "acme/nope"},
			want: []string{`"acme/nope"`, "404", "check deployment-repository"}},
		{name: "unknown environment", inputs: map[string]string{"secrets-environment": "staging"},
			want: []string{`environment "staging"`, "Settings → Environments"}},
		{name: "invalid secret name", inputs: map[string]string{"client-secret-secret-name": "1BAD-NAME"},
			want: []string{`input client-secret-secret-name has invalid value "1BAD-NAME"`, "use letters, digits and underscores"}},
		{name: "wrong authentik token", inputs: map[string]string{"authentik-token": wrongAKToken},
			want: []string{"401 Unauthorized", "check that authentik-token"}},
		{name: "authentik token without access", inputs: map[string]string{"authentik-token": noAccessToken},
			want: []string{"403 Forbidden"}},
		{name: "default GITHUB_TOKEN", inputs: map[string]string{"github-token": workflowToken},
			want: []string{"the default GITHUB_TOKEN cannot write Actions secrets", "GitHub App installation token", "fine-grained token"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			config := []byte(baseConfig)
			if c.config != nil {
				config = c.config
			}
			if c.noConfig {
				config = nil
			}
			w := newWorld(t, config)
			w.sb.Authentik.SetToken(noAccessToken, authentikfake.AccessNone)
			w.sb.GitHub.AddToken(workflowToken, githubfake.GitHubToken())

			res := w.apply(c.inputs)
			log := res.failed(t)
			for _, want := range c.want {
				contains(t, "log", log, want)
			}
			if !strings.Contains(log, "::error") {
				t.Error("no workflow error in the log")
			}
			if ak, gh := w.sb.Authentik.WriteCount(), w.sb.GitHub.WriteCount(); ak != 0 || gh != 0 {
				t.Errorf("writes: authentik %d, GitHub %d; want none", ak, gh)
			}
			w.requireMasks(res)
		})
	}
}

// TestInsecureHTTPAllowed checks that allow-insecure-http: true accepts an
// http:// MeshCentral URL, in plan mode so nothing is written.
func TestInsecureHTTPAllowed(t *testing.T) {
	w := newWorld(t, []byte(baseConfig))
	res := w.run("push", "", map[string]string{"mode": "plan", "meshcentral-url": "http://mesh.example.com", "allow-insecure-http": "true"})
	res.ok(t)
	contains(t, "log", res.stdout, "http://mesh.example.com/auth-oidc-callback")
	if n := w.writes(); n != 0 {
		t.Errorf("plan sent %d write requests", n)
	}
}

// TestReadOnlyAuthentikToken checks the message for a token that may read
// but not write.
func TestReadOnlyAuthentikToken(t *testing.T) {
	w := newWorld(t, []byte(baseConfig))
	w.sb.Authentik.SetToken(readOnlyToken, authentikfake.AccessReadOnly)
	res := w.apply(map[string]string{"authentik-token": readOnlyToken})
	log := res.failed(t)
	contains(t, "log", log, "403 Forbidden")
	contains(t, "log", log, `lacks permission "authentik_providers_oauth2.add_oauth2provider"`)
	// The secrets wait for authentik to accept the provider write, so only
	// the pull request's tree and commit objects, which no branch points at,
	// may have been created.
	for _, r := range w.sb.GitHub.Requests() {
		if r.Method == "GET" || strings.HasSuffix(r.Path, "/git/trees") || strings.HasSuffix(r.Path, "/git/commits") {
			continue
		}
		t.Errorf("the read-only run sent %s %s to GitHub", r.Method, r.Path)
	}
	w.apply(groupInputs).ok(t)
	if probs := w.checkConverged(nil, "staff"); len(probs) > 0 {
		t.Error(strings.Join(probs, "\n"))
	}
}

// TestPullRequestsNotPermitted makes GitHub reject pull request creation
// for Actions. The run fails at the end, after authentik and the secrets,
// and a run with the permission back converges.
func TestPullRequestsNotPermitted(t *testing.T) {
	w := newWorld(t, []byte(baseConfig))
	w.sb.GitHub.SetActionsCannotCreatePullRequests(true)
	res := w.apply(groupInputs)
	log := res.failed(t)
	contains(t, "log", log, "GitHub Actions is not permitted to create or approve pull requests")
	if _, ok := w.sb.Authentik.Provider(providerName); !ok {
		t.Error("the provider was not created before the pull request failed")
	}
	if _, ok := w.sb.GitHub.SecretPlaintext(sandbox.Repository, "", secretName); !ok {
		t.Error("the secret was not stored before the pull request failed")
	}
	if n := len(w.openPulls()); n != 0 {
		t.Errorf("%d pull requests open although creation was rejected", n)
	}

	w.sb.GitHub.SetActionsCannotCreatePullRequests(false)
	w.apply(groupInputs).ok(t)
	if probs := w.checkConverged(nil, "staff"); len(probs) > 0 {
		t.Error(strings.Join(probs, "\n"))
	}
	if probs := w.noWritesOnRerun(groupInputs); len(probs) > 0 {
		t.Error(strings.Join(probs, "\n"))
	}
}

// TestReadOnlyContentsToken checks that apply stops before any write when
// the GitHub token may not push, which the repository response reports.
func TestReadOnlyContentsToken(t *testing.T) {
	w := newWorld(t, []byte(baseConfig))
	perms := githubfake.FullAccess("read-only-bot")
	perms.Contents = githubfake.Read
	w.sb.GitHub.AddToken("ghs_readOnlyContents0123456789", perms)
	res := w.apply(map[string]string{"github-token": "ghs_readOnlyContents0123456789"})
	log := res.failed(t)
	contains(t, "log", log, "Contents: read and write")
	if n := w.writes(); n != 0 {
		t.Errorf("the run sent %d write requests, want none", n)
	}
}
