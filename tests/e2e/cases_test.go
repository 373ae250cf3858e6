package e2e

import (
	"bufio"
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/meshauth/meshcentral-authentik-action/internal/fakes/sandbox"
	"github.com/meshauth/meshcentral-authentik-action/internal/testutil"
)

// loadCase reads a shared case: its config.json and its inputs. The
// authentik URL of the inputs is replaced by the fake's, so the issuer is
// the fake's too.
func loadCase(t *testing.T, name string) (config []byte, inputs map[string]string) {
	t.Helper()
	dir := filepath.Join(testutil.SharedDir(t), "cases", name)
	config, err := os.ReadFile(filepath.Join(dir, "config.json"))
	if err != nil {
		t.Fatal(err)
	}
	raw, err := os.ReadFile(filepath.Join(dir, "inputs.env"))
	if err != nil {
		t.Fatal(err)
	}
	inputs = map[string]string{}
	sc := bufio.NewScanner(bytes.NewReader(raw))
	for sc.Scan() {
		k, v, ok := strings.Cut(strings.TrimSpace(sc.Text()), "=")
		if ok && k != "authentik-url" {
			inputs[k] = v
		}
	}
	return config, inputs
}

func (w *world) issuer(slug string) string {
	return w.sb.Authentik.URL + "/application/o/" + slug + "/"
}

// onlyPull returns the one pull request, failing otherwise.
func (w *world) onlyPull(t *testing.T) (number int, body string) {
	t.Helper()
	pulls := w.pulls()
	if len(pulls) != 1 {
		t.Fatalf("%d pull requests, want 1", len(pulls))
	}
	return pulls[0].Number, pulls[0].Body
}

// lowered decodes a config as MeshCentral reads it, keys lower-cased.
func lowered(t *testing.T, content []byte) map[string]any {
	t.Helper()
	var doc any
	if err := json.Unmarshal(bytes.TrimPrefix(content, []byte("\xef\xbb\xbf")), &doc); err != nil {
		t.Fatalf("not strict JSON: %v", err)
	}
	return lower(doc).(map[string]any)
}

func TestCaseMisplacedAuthStrategies(t *testing.T) {
	config, inputs := loadCase(t, "misplaced-authstrategies")
	w := newWorld(t, config)
	res := w.run(inputs).mustSucceed(t)

	number, body := w.onlyPull(t)
	content := w.committed(t, number, sandbox.ConfigPath)
	doc := lowered(t, content)
	domains := doc["domains"].(map[string]any)
	if _, ok := domains["authstrategies"]; ok {
		t.Error(`domains still has a key "authstrategies"`)
	}
	oidc := oidcBlock(t, content, "")
	p, _ := w.sb.Authentik.Provider("Provider for MeshCentral")
	if oidc["issuer"] != w.issuer("meshcentral") {
		t.Errorf("issuer = %v", oidc["issuer"])
	}
	if id := clientIDOf(oidc); id != p.ClientID {
		t.Errorf("client ID = %q, want authentik's %q", id, p.ClientID)
	}
	if secret := clientSecretOf(oidc); secret != "${MESHCENTRAL_OIDC_CLIENT_SECRET}" {
		t.Errorf("client secret = %q, want the placeholder", secret)
	}
	if uri := redirectOf(oidc); uri != "https://mesh.example.com/auth-oidc-callback" {
		t.Errorf("redirect URI = %q", uri)
	}
	if oidc["newaccounts"] != true {
		t.Errorf("oidc newAccounts = %#v, want true", oidc["newaccounts"])
	}
	if domain := domains[""].(map[string]any); domain["newaccounts"] != false {
		t.Errorf(`domain "" newAccounts = %#v, want false kept`, domain["newaccounts"])
	}
	if bytes.Contains(content, []byte("old-client-secret-value")) {
		t.Error("the old client secret is still in the file")
	}
	contains(t, "log", res.stdout, "rotate-client-secret: true")
	if !strings.Contains(strings.ToLower(body), "authstrategies") || !strings.Contains(body, "domain") {
		t.Errorf("pull request body does not explain the move:\n%s", body)
	}
	if err := checkOnlyOIDCLinesChanged(config, content, ""); err != nil {
		t.Error(err)
	}
}

func TestCaseMixedCaseKeys(t *testing.T) {
	config, inputs := loadCase(t, "mixed-case-keys")
	w := newWorld(t, config)
	res := w.run(inputs).mustSucceed(t)

	number, _ := w.onlyPull(t)
	content := w.committed(t, number, sandbox.ConfigPath)
	text := string(content)
	p, _ := w.sb.Authentik.Provider("Provider for MeshCentral (mesh)")
	for _, want := range []string{
		`"Issuer": "` + w.issuer("mesh") + `"`,
		`"ClientID": "` + p.ClientID + `"`,
		`"ClientSecret": "${MESHCENTRAL_OIDC_CLIENT_SECRET}"`,
	} {
		if !strings.Contains(text, want) {
			t.Errorf("config lacks %s:\n%s", want, text)
		}
	}
	for _, key := range []string{`"authStrategies"`, `"oidc"`, `"client"`, `"issuer"`, `"clientid"`} {
		if strings.Contains(text, key) {
			t.Errorf("config gained a case twin %s:\n%s", key, text)
		}
	}
	if n := strings.Count(strings.ToLower(text), `"callbackurl"`); n != 1 {
		t.Errorf("callbackURL appears %d times, want once", n)
	}
	oidc := oidcBlock(t, content, "")
	if oidc["callbackurl"] != "https://mesh.example.com/auth-oidc-callback" {
		t.Errorf("callbackURL = %v", oidc["callbackurl"])
	}
	contains(t, "log", res.stdout, "committed")
	if strings.Contains(withoutMasks(res.stdout), "stale-secret") {
		t.Error("the log repeats the committed secret")
	}
	if err := checkOnlyOIDCLinesChanged(config, content, ""); err != nil {
		t.Error(err)
	}
}

func TestCaseProxyPort(t *testing.T) {
	config, inputs := loadCase(t, "proxy-port")
	w := newWorld(t, config)
	res := w.run(inputs).mustSucceed(t)

	p, _ := w.sb.Authentik.Provider("Provider for MeshCentral")
	if len(p.RedirectURIs) != 1 || p.RedirectURIs[0].MatchingMode != "strict" || p.RedirectURIs[0].URL != "https://mesh.example.com/auth-oidc-callback" {
		t.Errorf("redirect URIs = %+v", p.RedirectURIs)
	}
	number, body := w.onlyPull(t)
	content := w.committed(t, number, sandbox.ConfigPath)
	oidc := oidcBlock(t, content, "")
	client, _ := oidc["client"].(map[string]any)
	if client["redirect_uri"] != "https://mesh.example.com/auth-oidc-callback" {
		t.Errorf("client.redirect_uri = %v", client["redirect_uri"])
	}
	for what, text := range map[string]string{"log": res.stdout, "pull request body": body} {
		contains(t, what, text, "4430")
		contains(t, what, text, `"aliasPort": 443`)
	}
	if strings.Contains(strings.ToLower(string(content)), "aliasport") {
		t.Error("the run added aliasPort itself")
	}
}

func TestCaseDNSDomainOnly(t *testing.T) {
	config, inputs := loadCase(t, "dns-domain-only")
	w := newWorld(t, config)

	res := w.run(inputs)
	if res.exitCode == 0 {
		t.Fatal("apply succeeded on a dns domain while the default domain has no oidc block")
	}
	contains(t, "log", res.stdout, `meshcentral-domain ""`)
	contains(t, "log", res.stdout, "crash")
	if ak, gh := w.writes(); ak != 0 || gh != 0 {
		t.Errorf("writes: authentik %d, GitHub %d; want none", ak, gh)
	}
	if n := len(w.pulls()); n != 0 {
		t.Errorf("%d pull requests, want none", n)
	}

	// Once the default domain signs in through authentik, the same inputs
	// succeed.
	w.run(map[string]string{"meshcentral-url": "https://mesh.example.com"}).mustSucceed(t)
	if err := w.sb.MergePullRequest(1); err != nil {
		t.Fatal(err)
	}
	res = w.run(inputs).mustSucceed(t)
	if got := res.outputs["redirect-uri"]; got != "https://support.example.com/auth-oidc-callback" {
		t.Errorf("redirect-uri = %q", got)
	}
	open := 0
	for _, pr := range w.pulls() {
		if pr.State == "open" && pr.Head == "meshcentral-authentik/support" {
			open++
			content := w.committed(t, pr.Number, sandbox.ConfigPath)
			if uri := redirectOf(oidcBlock(t, content, "support")); uri != "https://support.example.com/auth-oidc-callback" {
				t.Errorf("support redirect URI = %q", uri)
			}
		}
	}
	if open != 1 {
		t.Errorf("%d open pull requests from the support branch, want 1", open)
	}
}

func clientSecretOf(oidc map[string]any) string {
	if c, ok := oidc["client"].(map[string]any); ok {
		if s, ok := c["client_secret"].(string); ok {
			return s
		}
	}
	s, _ := oidc["clientsecret"].(string)
	return s
}

func redirectOf(oidc map[string]any) string {
	if c, ok := oidc["client"].(map[string]any); ok {
		if s, ok := c["redirect_uri"].(string); ok {
			return s
		}
	}
	s, _ := oidc["callbackurl"].(string)
	return s
}

func TestSecondDomainSharingSecretNameRejected(t *testing.T) {
	config, inputs := loadCase(t, "dns-domain-only")
	w := newWorld(t, config)
	w.run(map[string]string{"meshcentral-url": "https://mesh.example.com"}).mustSucceed(t)
	if err := w.sb.MergePullRequest(1); err != nil {
		t.Fatal(err)
	}
	akBefore, ghBefore := w.writes()

	inputs["client-id-secret-name"] = "MESHCENTRAL_OIDC_CLIENT_ID"
	inputs["client-secret-secret-name"] = "MESHCENTRAL_OIDC_CLIENT_SECRET"
	res := w.run(inputs)
	if res.exitCode == 0 {
		t.Fatal("apply succeeded although the default domain already uses the secret name")
	}
	contains(t, "log", res.stdout, "client-secret-secret-name")
	contains(t, "log", res.stdout, "MESHCENTRAL_SUPPORT_OIDC_CLIENT_SECRET")
	if ak, gh := w.writes(); ak != akBefore || gh != ghBefore {
		t.Errorf("the rejected run sent %d authentik and %d GitHub writes", ak-akBefore, gh-ghBefore)
	}
}

func TestUnknownDomainRejected(t *testing.T) {
	w := newWorld(t, []byte(baseConfig))
	res := w.run(map[string]string{"meshcentral-domain": "suport"})
	if res.exitCode == 0 {
		t.Fatal("apply succeeded for a domain config.json does not have")
	}
	contains(t, "log", res.stdout, `input meshcentral-domain has invalid value "suport"`)
	contains(t, "log", res.stdout, `its domains: ""`)
	if ak, gh := w.writes(); ak != 0 || gh != 0 {
		t.Errorf("writes: authentik %d, GitHub %d; want none", ak, gh)
	}
}

func TestSecondDomainSharingSlugRejected(t *testing.T) {
	config, inputs := loadCase(t, "dns-domain-only")
	w := newWorld(t, config)
	w.run(map[string]string{"meshcentral-url": "https://mesh.example.com"}).mustSucceed(t)
	if err := w.sb.MergePullRequest(1); err != nil {
		t.Fatal(err)
	}
	akBefore, ghBefore := w.writes()

	inputs["application-slug"] = "meshcentral"
	res := w.run(inputs)
	if res.exitCode == 0 {
		t.Fatal("apply succeeded although the default domain signs in with the same application")
	}
	contains(t, "log", res.stdout, "input application-slug")
	if ak, gh := w.writes(); ak != akBefore || gh != ghBefore {
		t.Errorf("the rejected run sent %d authentik and %d GitHub writes", ak-akBefore, gh-ghBefore)
	}
	p, _ := w.sb.Authentik.Provider("Provider for MeshCentral")
	if len(p.RedirectURIs) != 1 || p.RedirectURIs[0].URL != "https://mesh.example.com/auth-oidc-callback" {
		t.Errorf("the default domain's redirect URI changed: %+v", p.RedirectURIs)
	}
}

func TestNamedDomainDefaultsToOwnApplication(t *testing.T) {
	config, _ := loadCase(t, "dns-domain-only")
	w := newWorld(t, config)
	w.run(map[string]string{"meshcentral-url": "https://mesh.example.com"}).mustSucceed(t)
	if err := w.sb.MergePullRequest(1); err != nil {
		t.Fatal(err)
	}
	res := w.run(map[string]string{"meshcentral-url": "https://support.example.com", "meshcentral-domain": "support"}).mustSucceed(t)
	if got := res.outputs["application-slug"]; got != "meshcentral-support" {
		t.Errorf("application-slug = %q, want meshcentral-support", got)
	}
	if _, ok := w.sb.Authentik.Provider("Provider for MeshCentral (meshcentral-support)"); !ok {
		t.Error("the support domain has no provider of its own")
	}
	if _, ok := w.sb.GitHub.SecretPlaintext(sandbox.Repository, "", "MESHCENTRAL_SUPPORT_OIDC_CLIENT_SECRET"); !ok {
		t.Error("the support domain has no secret of its own")
	}
}

func TestMissingBaseBranchNamesInput(t *testing.T) {
	w := newWorld(t, []byte(baseConfig))
	res := w.run(map[string]string{"base-branch": "nope"})
	if res.exitCode == 0 {
		t.Fatal("apply succeeded with a base branch that does not exist")
	}
	contains(t, "log", res.stdout, `input base-branch has invalid value "nope"`)
	if ak, gh := w.writes(); ak != 0 || gh != 0 {
		t.Errorf("writes: authentik %d, GitHub %d; want none", ak, gh)
	}
}
