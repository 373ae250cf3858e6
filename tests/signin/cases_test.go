package signin

import (
	"bufio"
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/meshauth/meshcentral-authentik-action/internal/fakes/sandbox"
	"github.com/meshauth/meshcentral-authentik-action/internal/testutil"
	"github.com/meshauth/meshcentral-authentik-action/tests/meshtest"
)

// readCase returns the config.json and the inputs of a shared case. The
// case's authentik-url is dropped, so the sandbox points it at its fake.
func readCase(t *testing.T, name string) ([]byte, map[string]string) {
	t.Helper()
	dir := filepath.Join(testutil.SharedDir(t), "cases", name)
	config, err := os.ReadFile(filepath.Join(dir, "config.json"))
	if err != nil {
		t.Fatal(err)
	}
	env, err := os.ReadFile(filepath.Join(dir, "inputs.env"))
	if err != nil {
		t.Fatal(err)
	}
	inputs := map[string]string{}
	sc := bufio.NewScanner(bytes.NewReader(env))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		k, v, ok := strings.Cut(line, "=")
		if !ok {
			t.Fatalf("case %s: inputs.env line %q is not name=value", name, line)
		}
		inputs[k] = v
	}
	delete(inputs, "authentik-url")
	return config, inputs
}

// behindProxy makes Login reach inst on port 443, the port of the cases'
// public URLs, as a reverse proxy in front of MeshCentral would. meshtest
// sends connections for Instance.AliasPort to the port MeshCentral uses.
func behindProxy(inst *meshtest.Instance) {
	inst.AliasPort = 443
}

// TestProxyPortCase runs MeshCentral on an internal port without aliasPort.
// MeshCentral must send authentik the public redirect URI the action wrote,
// and without it would send one with the internal port.
func TestProxyPortCase(t *testing.T) {
	requireMeshCentral(t)
	t.Parallel()

	config, inputs := readCase(t, "proxy-port")
	w := newWorld(t, config)
	res, committed := w.apply(inputs)
	const public = "https://mesh.example.com/auth-oidc-callback"
	wantOutput(t, res, "redirect-uri", public)
	if !strings.Contains(res.log, `"aliasPort": 443`) {
		t.Errorf("the log does not suggest \"aliasPort\": 443:\n%s", res.log)
	}
	p, ok := w.sb.Authentik.Provider("Provider for MeshCentral")
	if !ok {
		t.Fatal("authentik provider not created")
	}
	if len(p.RedirectURIs) != 1 || p.RedirectURIs[0].MatchingMode != "strict" || p.RedirectURIs[0].URL != public {
		t.Errorf("provider redirect URIs = %+v, want only strict %q", p.RedirectURIs, public)
	}

	rendered := w.render(committed)
	inst := w.startMesh(rendered, "mesh.example.com", 0)
	behindProxy(inst)
	w.setUser(alice)
	visit{redirectURI: public}.signedIn(t, inst, alice)

	// The control: the same file without the explicit redirect URI makes
	// MeshCentral build its callback with the port it listens on, and the
	// strict redirect URI rejects it. This shows the check above can fail.
	t.Run("own callback leaks the internal port", func(t *testing.T) {
		bare := withoutRedirectURI(t, rendered)
		inst := w.startMesh(bare, "mesh.example.com", 0)
		behindProxy(inst)
		out, err := meshtest.Login(t.Context(), inst, "", "")
		if err != nil {
			t.Fatal(err)
		}
		leaked := strings.Replace(public, "mesh.example.com", "mesh.example.com:"+strconv.Itoa(inst.Port), 1)
		if out.RedirectURI != leaked {
			t.Errorf("MeshCentral sent redirect_uri %q, want its own callback %q", out.RedirectURI, leaked)
		}
		if out.AuthorizeStatus != 400 || out.SignedIn {
			t.Errorf("authorize %d, signed in %v; want 400 for a redirect URI mismatch", out.AuthorizeStatus, out.SignedIn)
		}
	})
}

// withoutRedirectURI returns a config.json with client.redirect_uri
// removed from the default domain's oidc block.
func withoutRedirectURI(t *testing.T, config []byte) []byte {
	t.Helper()
	var doc map[string]any
	if err := json.Unmarshal(config, &doc); err != nil {
		t.Fatal(err)
	}
	client := doc
	for _, k := range []string{"domains", "", "authstrategies", "oidc", "client"} {
		next, ok := member(client, k).(map[string]any)
		if !ok {
			t.Fatalf("config.json has no object %q on the way to the oidc client:\n%s", k, config)
		}
		client = next
	}
	for k := range client {
		if strings.EqualFold(k, "redirect_uri") {
			delete(client, k)
		}
	}
	out, err := json.Marshal(doc)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// member returns the value of m under name, matching keys without regard
// to case as MeshCentral does.
func member(m map[string]any, name string) any {
	for k, v := range m {
		if strings.EqualFold(k, name) {
			return v
		}
	}
	return nil
}

// TestMisplacedAuthStrategiesCase signs in with a file whose oidc block sat
// directly under domains, where MeshCentral reads it as a domain.
func TestMisplacedAuthStrategiesCase(t *testing.T) {
	requireMeshCentral(t)
	t.Parallel()

	config, inputs := readCase(t, "misplaced-authstrategies")
	w := newWorld(t, config)
	res, committed := w.apply(inputs)
	wantOutput(t, res, "redirect-uri", "https://mesh.example.com/auth-oidc-callback")
	if bytes.Contains(committed, []byte("old-client-secret-value")) {
		t.Errorf("the committed config.json still contains the old client secret")
	}

	inst := w.startMesh(w.render(committed), "mesh.example.com", 0)
	behindProxy(inst)
	w.setUser(alice)
	visit{redirectURI: res.outputs["redirect-uri"]}.signedIn(t, inst, alice)
}

// TestMixedCaseKeysCase signs in with a file whose existing oidc block uses
// mixed-case keys in the flat form, edited in place by the action.
func TestMixedCaseKeysCase(t *testing.T) {
	requireMeshCentral(t)
	t.Parallel()

	config, inputs := readCase(t, "mixed-case-keys")
	w := newWorld(t, config)
	res, committed := w.apply(inputs)
	wantOutput(t, res, "redirect-uri", "https://mesh.example.com/auth-oidc-callback")
	if bytes.Contains(committed, []byte("stale-secret")) {
		t.Errorf("the committed config.json still contains the stale client secret")
	}

	inst := w.startMesh(w.render(committed), "mesh.example.com", 0)
	behindProxy(inst)
	w.setUser(alice)
	visit{redirectURI: res.outputs["redirect-uri"]}.signedIn(t, inst, alice)
}

// TestDNSDomainOnlyCase checks that apply rejects an oidc block for a
// domain with its own dns while the default domain has none, and that
// after an apply for the default domain the same inputs sign in through the
// dns host.
func TestDNSDomainOnlyCase(t *testing.T) {
	requireMeshCentral(t)
	t.Parallel()

	config, inputs := readCase(t, "dns-domain-only")
	w := newWorld(t, config)

	// The file this apply would write crashes MeshCentral, so it must fail
	// before any write.
	akWrites, ghWrites := w.sb.Authentik.WriteCount(), w.sb.GitHub.WriteCount()
	rejectedRun := w.run(inputs, "")
	if rejectedRun.err == nil {
		t.Fatalf("apply for the dns domain succeeded while the default domain has no oidc block:\n%s", rejectedRun.log)
	}
	if n := w.sb.Authentik.WriteCount() - akWrites; n != 0 {
		t.Errorf("%d write requests to authentik, want none", n)
	}
	if n := w.sb.GitHub.WriteCount() - ghWrites; n != 0 {
		t.Errorf("%d write requests to GitHub, want none", n)
	}
	if pulls := w.sb.GitHub.PullRequests(sandbox.Repository); len(pulls) != 0 {
		t.Errorf("%d pull requests, want none", len(pulls))
	}
	for _, want := range []string{`the default domain "" needs an oidc block too`, "crashes at start", `meshcentral-domain ""`} {
		if !strings.Contains(rejectedRun.log, want) {
			t.Errorf("the error does not contain %q:\n%s", want, rejectedRun.log)
		}
	}

	// Apply for the default domain first, with its own secret names, so the
	// case's inputs with the default names stay free for the dns domain.
	const mainSecret = "MESHCENTRAL_MAIN_OIDC_CLIENT_SECRET"
	mainRes, mainFile := w.apply(map[string]string{
		"meshcentral-url":           "https://mesh.example.com",
		"client-id-secret-name":     "MESHCENTRAL_MAIN_OIDC_CLIENT_ID",
		"client-secret-secret-name": mainSecret,
	})
	wantOutput(t, mainRes, "redirect-uri", "https://mesh.example.com/auth-oidc-callback")
	w.merge(mainFile)

	supportRes, supportFile := w.apply(inputs)
	wantOutput(t, supportRes, "redirect-uri", "https://support.example.com/auth-oidc-callback")

	// The case's settings have aliasPort 443, so Login reaches both host
	// names on 443 as users would.
	rendered := w.render(supportFile, mainSecret, "MESHCENTRAL_SUPPORT_OIDC_CLIENT_SECRET")
	inst := w.startMesh(rendered, "mesh.example.com", 0)
	if inst.AliasPort != 443 {
		t.Fatalf("MeshCentral runs with aliasPort %d, want 443", inst.AliasPort)
	}
	w.setUser(alice)
	visit{host: "support.example.com", domainID: "support", redirectURI: supportRes.outputs["redirect-uri"]}.signedIn(t, inst, alice)
	visit{redirectURI: mainRes.outputs["redirect-uri"]}.signedIn(t, inst, alice)

	// The control: the file the rejected apply would have written has the
	// dns domain's block only, and MeshCentral crashes with it.
	t.Run("dns domain alone crashes MeshCentral", func(t *testing.T) {
		alone := withoutDefaultOIDC(t, rendered)
		inst, err := meshtest.Start(t.Context(), meshtest.Options{
			Config:         alone,
			Cert:           "mesh.example.com",
			ExtraCACertPEM: w.sb.Authentik.CACertPEM,
			DataDir:        t.TempDir(),
		})
		if err == nil {
			inst.Stop()
			t.Fatal("MeshCentral started with an oidc block on the dns domain only, want a crash")
		}
		for _, want := range []string{"crashed during start", "Cannot read properties of undefined (reading 'client')"} {
			if !strings.Contains(err.Error(), want) {
				t.Errorf("the start error does not contain %q:\n%v", want, err)
			}
		}
	})
}

// withoutDefaultOIDC returns a config.json with the default domain's
// authStrategies removed.
func withoutDefaultOIDC(t *testing.T, config []byte) []byte {
	t.Helper()
	var doc map[string]any
	if err := json.Unmarshal(config, &doc); err != nil {
		t.Fatal(err)
	}
	domains, _ := member(doc, "domains").(map[string]any)
	def, ok := member(domains, "").(map[string]any)
	if !ok {
		t.Fatalf("config.json has no default domain:\n%s", config)
	}
	for k := range def {
		if strings.EqualFold(k, "authstrategies") {
			delete(def, k)
		}
	}
	out, err := json.Marshal(doc)
	if err != nil {
		t.Fatal(err)
	}
	return out
}
