package e2e

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/meshauth/meshcentral-authentik-action/internal/fakes/authentikfake"
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

// oidcBlock decodes domains[domain].authStrategies.oidc of a config as
// MeshCentral reads it (keys lower-cased).
func oidcBlock(t *testing.T, content []byte, domain string) map[string]any {
	t.Helper()
	var doc any
	if err := json.Unmarshal(content, &doc); err != nil {
		t.Fatalf("committed config.json is not strict JSON: %v", err)
	}
	cur := lower(doc)
	for _, k := range []string{"domains", domain, "authstrategies", "oidc"} {
		m, ok := cur.(map[string]any)
		if !ok {
			t.Fatalf("config has no object at %q:\n%s", k, content)
		}
		if cur, ok = m[k]; !ok {
			t.Fatalf("config lacks key %q:\n%s", k, content)
		}
	}
	return cur.(map[string]any)
}

// lower lower-cases every key like MeshCentral; a later key overwrites an
// earlier twin, as in MeshCentral's loader.
func lower(v any) any {
	switch v := v.(type) {
	case map[string]any:
		out := map[string]any{}
		for k, x := range v {
			out[strings.ToLower(k)] = lower(x)
		}
		return out
	case []any:
		for i := range v {
			v[i] = lower(v[i])
		}
	}
	return v
}

func TestApplyFresh(t *testing.T) {
	w := newWorld(t, []byte(baseConfig))
	res := w.run(map[string]string{"allowed-groups": "staff", "admin-groups": "admins"}).mustSucceed(t)

	p, ok := w.sb.Authentik.Provider("Provider for MeshCentral")
	if !ok {
		t.Fatal("provider not created")
	}
	if p.ClientType != "confidential" {
		t.Errorf("client type = %q", p.ClientType)
	}
	if len(p.RedirectURIs) != 1 || p.RedirectURIs[0].MatchingMode != "strict" || p.RedirectURIs[0].URL != "https://mesh.example.com/auth-oidc-callback" {
		t.Errorf("redirect URIs = %+v", p.RedirectURIs)
	}
	key, _ := w.sb.Authentik.Keypair("authentik Self-signed Certificate")
	if p.SigningKey != key.PK {
		t.Errorf("signing key = %q, want %q", p.SigningKey, key.PK)
	}
	if p.EncryptionKey != "" {
		t.Errorf("encryption key = %q, want none", p.EncryptionKey)
	}
	scopes := map[string]bool{}
	for _, m := range w.sb.Authentik.ScopeMappings() {
		for _, pk := range p.PropertyMappings {
			if pk == m.PK && m.Managed != "" {
				scopes[m.ScopeName] = true
			}
		}
	}
	for _, s := range []string{"openid", "email", "profile"} {
		if !scopes[s] {
			t.Errorf("managed scope mapping %q not attached", s)
		}
	}
	app, ok := w.sb.Authentik.Application("meshcentral")
	if !ok {
		t.Fatal("application not created")
	}
	if app.Provider != p.PK || app.MetaLaunchURL != "https://mesh.example.com/" || app.Name != "MeshCentral" {
		t.Errorf("application = %+v", app)
	}
	if b := w.sb.Authentik.Bindings("meshcentral"); len(b) != 1 {
		t.Errorf("bindings = %+v, want one for staff", b)
	}

	id, ok := w.sb.GitHub.SecretPlaintext(sandbox.Repository, "", "MESHCENTRAL_OIDC_CLIENT_ID")
	if !ok || id != p.ClientID {
		t.Errorf("client ID secret = %q, %v; want %q", id, ok, p.ClientID)
	}
	secret, ok := w.sb.GitHub.SecretPlaintext(sandbox.Repository, "", "MESHCENTRAL_OIDC_CLIENT_SECRET")
	if !ok || secret != p.ClientSecret {
		t.Error("client secret secret does not equal authentik's client secret")
	}

	pulls := w.pulls()
	if len(pulls) != 1 {
		t.Fatalf("%d pull requests, want 1", len(pulls))
	}
	content := w.committed(t, pulls[0].Number, sandbox.ConfigPath)
	oidc := oidcBlock(t, content, "")
	if oidc["issuer"] != w.sb.Authentik.URL+"/application/o/meshcentral/" {
		t.Errorf("issuer = %v", oidc["issuer"])
	}
	client, _ := oidc["client"].(map[string]any)
	if client["client_id"] != p.ClientID || client["client_secret"] != "${MESHCENTRAL_OIDC_CLIENT_SECRET}" ||
		client["redirect_uri"] != "https://mesh.example.com/auth-oidc-callback" {
		t.Errorf("client block = %v", client)
	}
	if oidc["newaccounts"] != true {
		t.Errorf("newAccounts = %#v, want boolean true", oidc["newaccounts"])
	}
	groups, _ := oidc["groups"].(map[string]any)
	if sa, _ := groups["siteadmin"].([]any); len(sa) != 1 || sa[0] != "admins" {
		t.Errorf("groups.siteadmin = %v", groups["siteadmin"])
	}
	if err := checkOnlyOIDCLinesChanged([]byte(baseConfig), content, ""); err != nil {
		t.Error(err)
	}

	for k, want := range map[string]string{
		"client-id":              p.ClientID,
		"issuer":                 w.sb.Authentik.URL + "/application/o/meshcentral/",
		"redirect-uri":           "https://mesh.example.com/auth-oidc-callback",
		"application-slug":       "meshcentral",
		"changed":                "true",
		"pull-request-operation": "created",
		"client-secret-rotated":  "false",
	} {
		if res.outputs[k] != want {
			t.Errorf("output %s = %q, want %q", k, res.outputs[k], want)
		}
	}
	if res.outputs["pull-request-number"] != "1" || res.outputs["provider-id"] == "" {
		t.Errorf("outputs = %v", res.outputs)
	}
	contains(t, "job summary", res.summary, "MESHCENTRAL_OIDC_CLIENT_SECRET")
	for _, where := range []string{withoutMasks(res.stdout), res.stderr, res.summary, pulls[0].Body, string(content)} {
		if strings.Contains(where, p.ClientSecret) {
			t.Error("the client secret leaked into the log, summary, pull request or commit")
		}
	}
}

func TestApplyNoOpRerun(t *testing.T) {
	w := newWorld(t, []byte(baseConfig))
	w.run(nil).mustSucceed(t)
	akBefore, ghBefore := w.writes()
	res := w.run(nil).mustSucceed(t)
	ak, gh := w.writes()
	if ak != akBefore || gh != ghBefore {
		t.Errorf("second run sent %d authentik and %d GitHub write requests, want none", ak-akBefore, gh-ghBefore)
	}
	if res.outputs["pull-request-operation"] != "none" {
		t.Errorf("pull-request-operation = %q, want none", res.outputs["pull-request-operation"])
	}
	if res.outputs["changed"] != "false" {
		t.Errorf("changed = %q, want false", res.outputs["changed"])
	}
	if n := len(w.pulls()); n != 1 {
		t.Errorf("%d pull requests, want 1", n)
	}
}

func TestApplyAdoptsExistingObjects(t *testing.T) {
	w := newWorld(t, []byte(baseConfig))
	ak := w.sb.Authentik
	existing, err := ak.AddProvider(authentikfake.Provider{
		Name:         "Provider for MeshCentral",
		RedirectURIs: []authentikfake.RedirectURI{{MatchingMode: "strict", URL: "https://mesh.example.com:4430/auth-oidc-callback"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ak.AddApplication("meshcentral", "Mesh", "Provider for MeshCentral"); err != nil {
		t.Fatal(err)
	}
	w.run(nil).mustSucceed(t)

	if n := len(ak.Providers()); n != 1 {
		t.Errorf("%d providers, want the adopted one only", n)
	}
	if n := len(ak.Applications()); n != 1 {
		t.Errorf("%d applications, want the adopted one only", n)
	}
	p, _ := ak.Provider("Provider for MeshCentral")
	if p.PK != existing.PK || p.ClientID != existing.ClientID || p.ClientSecret != existing.ClientSecret {
		t.Error("the adopted provider's identity or credentials changed")
	}
	if len(p.RedirectURIs) != 1 || p.RedirectURIs[0].URL != "https://mesh.example.com/auth-oidc-callback" {
		t.Errorf("redirect URIs = %+v", p.RedirectURIs)
	}
	app, _ := ak.Application("meshcentral")
	if app.Name != "MeshCentral" {
		t.Errorf("application name = %q, want it updated to MeshCentral", app.Name)
	}
	secret, _ := w.sb.GitHub.SecretPlaintext(sandbox.Repository, "", "MESHCENTRAL_OIDC_CLIENT_SECRET")
	if secret != existing.ClientSecret {
		t.Error("stored secret is not the adopted provider's secret")
	}
	// Only PATCH requests may touch the adopted objects.
	for _, r := range ak.Requests() {
		if r.Method == "PUT" || (r.Method == "POST" && strings.Contains(r.Path, "providers")) {
			t.Errorf("unexpected %s %s on an adopted object", r.Method, r.Path)
		}
	}
}

func TestApplyUnknownFlowWritesNothing(t *testing.T) {
	w := newWorld(t, []byte(baseConfig))
	res := w.run(map[string]string{"authorization-flow": "no-such-flow"})
	if res.exitCode == 0 {
		t.Fatal("run succeeded with an unknown flow")
	}
	contains(t, "log", res.stdout, "no-such-flow")
	contains(t, "log", res.stdout, "default-provider-authorization-implicit-consent")
	ak, gh := w.writes()
	if ak != 0 || gh != 0 {
		t.Errorf("writes: authentik %d, GitHub %d; want none", ak, gh)
	}
}

func TestApplyEnvironmentSecrets(t *testing.T) {
	w := newWorld(t, []byte(baseConfig))
	if err := w.sb.GitHub.AddEnvironment(sandbox.Repository, "production"); err != nil {
		t.Fatal(err)
	}
	w.run(map[string]string{"secrets-environment": "production"}).mustSucceed(t)
	p, _ := w.sb.Authentik.Provider("Provider for MeshCentral")
	got, ok := w.sb.GitHub.SecretPlaintext(sandbox.Repository, "production", "MESHCENTRAL_OIDC_CLIENT_SECRET")
	if !ok || got != p.ClientSecret {
		t.Error("environment secret missing or not authentik's client secret")
	}
	if _, ok := w.sb.GitHub.SecretPlaintext(sandbox.Repository, "", "MESHCENTRAL_OIDC_CLIENT_SECRET"); ok {
		t.Error("a repository secret was written although secrets-environment was set")
	}
}

// withoutMasks drops ::add-mask:: commands, which the runner consumes and
// never prints: they are how a secret gets masked.
func withoutMasks(log string) string {
	var keep []string
	for _, line := range strings.Split(log, "\n") {
		if !strings.HasPrefix(line, "::add-mask::") {
			keep = append(keep, line)
		}
	}
	return strings.Join(keep, "\n")
}

// TestApplyKeepsInvalidUTF8 commits a config.json that carries a Latin-1
// byte outside the oidc block: the pull request must keep it byte for byte,
// and a rerun must find the branch up to date.
func TestApplyKeepsInvalidUTF8(t *testing.T) {
	config := strings.Replace(baseConfig, `"title": "Support"`, "\"title\": \"Caf\xe9\"", 1)
	w := newWorld(t, []byte(config))
	w.run(nil).mustSucceed(t)
	content := w.committed(t, 1, sandbox.ConfigPath)
	if !strings.Contains(string(content), "Caf\xe9") {
		t.Errorf("the Latin-1 byte was not kept:\n%q", content)
	}
	res := w.run(nil).mustSucceed(t)
	if op := res.outputs["pull-request-operation"]; op != "none" {
		t.Errorf("rerun pull-request-operation = %q, want none", op)
	}
}

// TestApplyAfterOutOfBandRotation: when the secret was changed in
// authentik by hand, apply copies it to GitHub and reports
// client-secret-rotated, so the workflow deploys it.
func TestApplyAfterOutOfBandRotation(t *testing.T) {
	w := newWorld(t, []byte(baseConfig))
	w.run(nil).mustSucceed(t)
	secret, err := w.sb.Authentik.RotateClientSecret("Provider for MeshCentral")
	if err != nil {
		t.Fatal(err)
	}
	res := w.run(nil).mustSucceed(t)
	if got := res.outputs["client-secret-rotated"]; got != "true" {
		t.Errorf("client-secret-rotated = %q, want true", got)
	}
	if stored, _ := w.sb.GitHub.SecretPlaintext(sandbox.Repository, "", "MESHCENTRAL_OIDC_CLIENT_SECRET"); stored != secret {
		t.Error("GitHub does not hold authentik's new secret")
	}
	again := w.run(nil).mustSucceed(t)
	if got := again.outputs["client-secret-rotated"]; got != "false" {
		t.Errorf("client-secret-rotated on the next run = %q, want false", got)
	}
}
