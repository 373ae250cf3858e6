package meshconfig

import (
	"bufio"
	"bytes"
	"errors"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const casesDir = "/work/shared/cases"

// caseRun is one case folder read into the editor's inputs.
type caseRun struct {
	src     []byte
	inputs  map[string]string
	meshURL *url.URL
	domain  string
}

func loadCase(t *testing.T, name string) caseRun {
	t.Helper()
	dir := filepath.Join(casesDir, name)
	src, err := os.ReadFile(filepath.Join(dir, "config.json"))
	if errors.Is(err, os.ErrNotExist) {
		t.Skipf("case %s is not available", name)
	}
	if err != nil {
		t.Fatal(err)
	}
	env, err := os.ReadFile(filepath.Join(dir, "inputs.env"))
	if err != nil {
		t.Fatal(err)
	}
	inputs := map[string]string{"application-slug": "meshcentral"}
	sc := bufio.NewScanner(bytes.NewReader(env))
	for sc.Scan() {
		if k, v, ok := strings.Cut(sc.Text(), "="); ok {
			inputs[k] = v
		}
	}
	u, err := url.Parse(inputs["meshcentral-url"])
	if err != nil {
		t.Fatal(err)
	}
	return caseRun{src: src, inputs: inputs, meshURL: u, domain: inputs["meshcentral-domain"]}
}

func (c caseRun) issuer() string {
	return strings.TrimSuffix(c.inputs["authentik-url"], "/") + "/application/o/" + c.inputs["application-slug"] + "/"
}

// edit runs RedirectURI and Edit as an apply run does.
func (c caseRun) edit(t *testing.T, src []byte, domain string, meshURL *url.URL) (string, []string, Desired, *Result, error) {
	t.Helper()
	uri, warnings, err := RedirectURI(src, meshURL, domain)
	if err != nil {
		t.Fatalf("RedirectURI: %v", err)
	}
	d := desired(domain, c.issuer(), uri)
	res, err := Edit("meshcentral-data/config.json", src, d)
	return uri, warnings, d, res, err
}

func oidcOf(t *testing.T, content []byte, domain string) map[string]any {
	t.Helper()
	return effectiveOIDC(dig(meshView(t, content), "domains", domain, "authstrategies", "oidc"))
}

func TestCaseMisplacedBlock(t *testing.T) {
	c := loadCase(t, "misplaced-authstrategies")
	uri, _, d, res, err := c.edit(t, c.src, "", c.meshURL)
	if err != nil {
		t.Fatal(err)
	}
	view := meshView(t, res.Content)

	if _, ok := view["domains"].(map[string]any)["authstrategies"]; ok {
		t.Error(`domains still has a key "authstrategies"`)
	}
	oidc := oidcOf(t, res.Content, "")
	for k, want := range map[string]any{
		"issuer":        "https://auth.example.com/application/o/meshcentral/",
		"client_id":     d.ClientID,
		"client_secret": "${MESHCENTRAL_OIDC_CLIENT_SECRET}",
		"redirect_uri":  "https://mesh.example.com/auth-oidc-callback",
		"newaccounts":   true,
	} {
		if oidc[k] != want {
			t.Errorf(`domains[""].authstrategies.oidc %s = %v, want %v`, k, oidc[k], want)
		}
	}
	if uri != "https://mesh.example.com/auth-oidc-callback" {
		t.Errorf("redirect URI = %q", uri)
	}
	if got := dig(view, "domains", "", "newaccounts"); got != false {
		t.Errorf(`domains[""].newaccounts = %v, want false as before`, got)
	}
	if bytes.Contains(res.Content, []byte("old-client-secret-value")) {
		t.Error("the old client secret is still in the file")
	}

	warned := false
	for _, w := range append(append([]string{}, res.Warnings...), res.Notes...) {
		if strings.Contains(w, "old-client-secret-value") {
			t.Errorf("a warning or note shows the secret: %s", w)
		}
		warned = warned || (strings.Contains(w, "committed") && strings.Contains(w, "rotate-client-secret: true"))
	}
	if !warned {
		t.Errorf("no warning recommends rotate-client-secret: true; warnings: %q", res.Warnings)
	}
	if len(res.Notes) != 1 {
		t.Fatalf("notes = %q, want one explaining the move", res.Notes)
	}
	if n := strings.Count(res.Notes[0], ". ") + 1; n > 2 || !strings.Contains(res.Notes[0], "domains") {
		t.Errorf("note %q should explain the move in one or two sentences", res.Notes[0])
	}
	for _, e := range res.Changes {
		if strings.Contains(e.Before+e.After, "old-client-secret-value") {
			t.Errorf("change %s carries the secret", e.Field)
		}
	}
	checkConfined(t, c.src, res.Content, "")
	checkIdempotent(t, "config.json", res, d)
	checkGolden(t, "case-misplaced-authstrategies.golden", []byte(formatResult("case misplaced-authstrategies", c.src, res, nil)))
}

func TestCaseMixedCaseKeys(t *testing.T) {
	c := loadCase(t, "mixed-case-keys")
	uri, _, d, res, err := c.edit(t, c.src, "", c.meshURL)
	if err != nil {
		t.Fatal(err)
	}
	text, _ := stripBOM(res.Content)
	root, err := parse("out", text)
	if err != nil {
		t.Fatal(err)
	}

	// The block keeps its spelling and its flat form.
	block := root.members[1].value.members[0].value.effective("AuthStrategies").value.effective("OIDC").value
	want := map[string]string{
		"Issuer":       "https://auth.example.com/application/o/mesh/",
		"ClientID":     d.ClientID,
		"ClientSecret": "${MESHCENTRAL_OIDC_CLIENT_SECRET}",
		"callbackURL":  "https://mesh.example.com/auth-oidc-callback",
	}
	for key, v := range want {
		ms := block.find(key)
		if len(ms) != 1 || ms[0].key != key || ms[0].value.str != v {
			t.Errorf("OIDC.%s: got %d keys, want one spelled %q with %q", key, len(ms), key, v)
		}
	}
	if uri != want["callbackURL"] {
		t.Errorf("redirect URI = %q", uri)
	}
	for _, k := range []string{"client", "redirect_uri"} {
		if len(block.find(k)) != 0 {
			t.Errorf("the flat block gained a %q key", k)
		}
	}
	if twins := caseTwins(t, res.Content); len(twins) != 0 {
		t.Errorf("keys that differ only in case: %v", twins)
	}
	if oidc := oidcOf(t, res.Content, ""); oidc["redirect_uri"] != want["callbackURL"] || oidc["client_id"] != d.ClientID {
		t.Errorf("MeshCentral would read %v", oidc)
	}

	warned := false
	for _, w := range res.Warnings {
		if strings.Contains(w, "stale-secret") {
			t.Errorf("a warning shows the secret: %s", w)
		}
		warned = warned || strings.Contains(w, `domains[""].AuthStrategies.OIDC.ClientSecret`)
	}
	if !warned {
		t.Errorf("no warning names the committed ClientSecret; warnings: %q", res.Warnings)
	}
	checkConfined(t, c.src, res.Content, "")
	checkIdempotent(t, "config.json", res, d)
	checkGolden(t, "case-mixed-case-keys.golden", []byte(formatResult("case mixed-case-keys", c.src, res, nil)))
}

func TestCaseProxyPort(t *testing.T) {
	c := loadCase(t, "proxy-port")
	uri, warnings, d, res, err := c.edit(t, c.src, "", c.meshURL)
	if err != nil {
		t.Fatal(err)
	}
	const want = "https://mesh.example.com/auth-oidc-callback"
	if uri != want {
		t.Errorf("redirect URI = %q, want %q", uri, want)
	}
	view := meshView(t, res.Content)
	if got := dig(view, "domains", "", "authstrategies", "oidc", "client", "redirect_uri"); got != want {
		t.Errorf("client.redirect_uri = %v, want %q in the nested form", got, want)
	}
	if len(warnings) != 1 || !strings.Contains(warnings[0], "4430") || !strings.Contains(warnings[0], `"aliasPort": 443`) {
		t.Errorf("warnings = %q, want one about port 4430 suggesting \"aliasPort\": 443", warnings)
	}
	if got := dig(view, "settings", "aliasport"); got != nil {
		t.Errorf("settings.aliasPort = %v, want it left unset", got)
	}
	checkConfined(t, c.src, res.Content, "")
	checkIdempotent(t, "config.json", res, d)
	title := "case proxy-port\nredirect URI " + uri + "\nredirect warning: " + strings.Join(warnings, "\nredirect warning: ")
	checkGolden(t, "case-proxy-port.golden", []byte(formatResult(title, c.src, res, nil)))
}

func TestCaseDNSDomainOnly(t *testing.T) {
	c := loadCase(t, "dns-domain-only")
	_, _, _, res, err := c.edit(t, c.src, c.domain, c.meshURL)
	var dnsErr *DNSDomainError
	if !errors.As(err, &dnsErr) {
		t.Fatalf("Edit = %v, %v; want a *DNSDomainError", res, err)
	}
	for _, part := range []string{`default domain ""`, `meshcentral-domain ""`, "crashes at start", "TypeError"} {
		if !strings.Contains(err.Error(), part) {
			t.Errorf("error %q does not mention %q", err, part)
		}
	}
	golden := formatResult("case dns-domain-only: domain "+c.domain, c.src, nil, err)

	// Once the default domain has a block, the same inputs succeed.
	mainURL, _ := url.Parse("https://mesh.example.com")
	_, _, _, first, err := c.edit(t, c.src, "", mainURL)
	if err != nil {
		t.Fatalf("edit the default domain: %v", err)
	}
	uri, _, d, res, err := c.edit(t, first.Content, c.domain, c.meshURL)
	if err != nil {
		t.Fatalf("edit %q after the default domain: %v", c.domain, err)
	}
	if uri != "https://support.example.com/auth-oidc-callback" {
		t.Errorf("redirect URI = %q, want https://support.example.com/auth-oidc-callback", uri)
	}
	if got := oidcOf(t, res.Content, "support")["redirect_uri"]; got != uri {
		t.Errorf("support's redirect_uri = %v", got)
	}
	if got := oidcOf(t, res.Content, "")["redirect_uri"]; got != "https://mesh.example.com/auth-oidc-callback" {
		t.Errorf("the default domain's redirect_uri = %v", got)
	}
	checkConfined(t, first.Content, res.Content, c.domain)
	checkIdempotent(t, "config.json", res, d)
	golden += formatResult(`then domain "" and again domain `+c.domain, c.src, res, nil)
	checkGolden(t, "case-dns-domain-only.golden", []byte(golden))
}
