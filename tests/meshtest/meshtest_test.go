package meshtest

import (
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"net/http/httptest"
	"os"
	"os/exec"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/meshauth/meshcentral-authentik-action/internal/fakes/oidcfake"
)

// requireMeshCentral skips when node or the npm install is missing, except
// under CI=true, where the test must run.
func requireMeshCentral(t *testing.T) {
	t.Helper()
	_, nodeErr := exec.LookPath("node")
	_, dirErr := meshcentralDir("")
	if nodeErr == nil && dirErr == nil {
		return
	}
	if os.Getenv("CI") == "true" {
		t.Fatalf("MeshCentral cannot run: node: %v; install: %v", nodeErr, dirErr)
	}
	t.Skipf("MeshCentral cannot run (run npm ci in tests/meshcentral): node: %v; install: %v", nodeErr, dirErr)
}

// idp is the OIDC fake on a TLS test server, with a user tests may switch.
type idp struct {
	srv     *httptest.Server
	clients []oidcfake.Client

	mu   sync.Mutex
	user oidcfake.User
}

func newIDP(t *testing.T, clients []oidcfake.Client, user oidcfake.User) *idp {
	t.Helper()
	p := &idp{clients: clients, user: user}
	p.srv = httptest.NewUnstartedServer(nil)
	p.srv.StartTLS()
	t.Cleanup(p.srv.Close)
	p.srv.Config.Handler = oidcfake.NewHandler(p.srv.URL,
		func() []oidcfake.Client {
			p.mu.Lock()
			defer p.mu.Unlock()
			return slices.Clone(p.clients)
		},
		func() oidcfake.User {
			p.mu.Lock()
			defer p.mu.Unlock()
			return p.user
		})
	return p
}

func (p *idp) setUser(u oidcfake.User) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.user = u
}

func (p *idp) certPEM() []byte {
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: p.srv.Certificate().Raw})
}

func (p *idp) issuer(slug string) string {
	return p.srv.URL + "/application/o/" + slug + "/"
}

// oidcBlock is a nested-form oidc block as the action writes it.
func oidcBlock(issuer, clientID, secret, redirectURI string, groups map[string]any) map[string]any {
	block := map[string]any{
		"issuer": issuer,
		"client": map[string]any{
			"client_id":     clientID,
			"client_secret": secret,
			"redirect_uri":  redirectURI,
		},
		"newAccounts": true,
	}
	if groups != nil {
		block["groups"] = groups
	}
	return block
}

func TestSignInThroughOIDCFake(t *testing.T) {
	requireMeshCentral(t)

	port, err := FreePort()
	if err != nil {
		t.Fatal(err)
	}
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	origin := fmt.Sprintf("https://localhost:%d", port)
	dnsOrigin := fmt.Sprintf("https://mesh.localhost:%d", port)
	client := func(slug, redirectURI string, signed bool) oidcfake.Client {
		c := oidcfake.Client{
			Slug:         slug,
			ClientID:     "client-" + slug,
			ClientSecret: "secret-" + slug + "-0123456789abcdef0123456789abcdef",
			ClientType:   "confidential",
			RedirectURIs: []oidcfake.RedirectURI{{MatchingMode: "strict", URL: redirectURI}},
			Scopes:       []string{"openid", "email", "profile"},
		}
		if signed {
			c.SigningKey, c.KeyID = key, "meshtest-key"
		}
		return c
	}
	clients := []oidcfake.Client{
		client("plain", origin+"/auth-oidc-callback", true),
		client("admins", origin+"/admins/auth-oidc-callback", true),
		client("members", origin+"/members/auth-oidc-callback", true),
		client("hs", origin+"/hs/auth-oidc-callback", false),
		client("dns", dnsOrigin+"/auth-oidc-callback", true),
		client("strnew", origin+"/strnew/auth-oidc-callback", true),
	}
	alice := oidcfake.User{Username: "alice", Email: "alice@example.test", Name: "Alice Liddell", Groups: []string{"staff", "mesh-admins"}}
	p := newIDP(t, clients, alice)

	block := func(c oidcfake.Client, groups map[string]any) map[string]any {
		return oidcBlock(p.issuer(c.Slug), c.ClientID, c.ClientSecret, c.RedirectURIs[0].URL, groups)
	}
	stringNewAccounts := block(clients[5], nil)
	stringNewAccounts["newAccounts"] = "true"
	config, err := json.MarshalIndent(map[string]any{
		"settings": map[string]any{},
		"domains": map[string]any{
			"":        map[string]any{"title": "meshtest", "authStrategies": map[string]any{"oidc": block(clients[0], nil)}},
			"admins":  map[string]any{"authStrategies": map[string]any{"oidc": block(clients[1], map[string]any{"siteadmin": []string{"mesh-admins"}})}},
			"members": map[string]any{"authStrategies": map[string]any{"oidc": block(clients[2], map[string]any{"required": []string{"mesh-users"}})}},
			"hs":      map[string]any{"authStrategies": map[string]any{"oidc": block(clients[3], nil)}},
			"mesh":    map[string]any{"dns": "mesh.localhost", "authStrategies": map[string]any{"oidc": block(clients[4], nil)}},
			"strnew":  map[string]any{"authStrategies": map[string]any{"oidc": stringNewAccounts}},
		},
	}, "", "  ")
	if err != nil {
		t.Fatal(err)
	}

	inst, err := Start(t.Context(), Options{Config: config, Port: port, ExtraCACertPEM: p.certPEM(), DataDir: t.TempDir()})
	if err != nil {
		t.Fatalf("start MeshCentral: %v", err)
	}
	t.Cleanup(inst.Stop)
	t.Cleanup(func() {
		if t.Failed() || os.Getenv("MESHTEST_VERBOSE") != "" {
			t.Logf("MeshCentral output:\n%s\nauth log:\n%s", inst.Output(), inst.AuthLog())
		}
	})

	login := func(t *testing.T, domainPath, host string) *LoginResult {
		t.Helper()
		res, err := Login(t.Context(), inst, domainPath, host)
		if err != nil {
			t.Fatalf("login to domain %q on %q: %v", domainPath, host, err)
		}
		return res
	}
	signedIn := func(t *testing.T, res *LoginResult, wantRedirect string) {
		t.Helper()
		if res.RedirectURI != wantRedirect {
			t.Errorf("redirect_uri = %q, want %q", res.RedirectURI, wantRedirect)
		}
		if !res.SignedIn || res.User == nil {
			t.Fatalf("not signed in: callback %d %q, auth log:\n%s", res.CallbackStatus, res.CallbackLocation, strings.Join(res.AuthLog, "\n"))
		}
		if res.User.Name != alice.Name || res.User.Email != alice.Email {
			t.Errorf("user = %+v, want name %q and e-mail %q", res.User, alice.Name, alice.Email)
		}
	}
	rejected := func(t *testing.T, res *LoginResult, domainID, loginPath string) {
		t.Helper()
		if res.CallbackStatus != 302 {
			t.Errorf("callback status = %d, want 302 back to the login page", res.CallbackStatus)
		}
		if loc, _, _ := strings.Cut(res.CallbackLocation, "?"); loc != loginPath {
			t.Errorf("callback Location = %q, want the login page %q", res.CallbackLocation, loginPath)
		}
		if res.SignedIn || res.User != nil {
			t.Errorf("signed in as %+v, want a rejection", res.User)
		}
		users, err := inst.Users(domainID)
		if err != nil {
			t.Fatal(err)
		}
		if len(users) != 0 {
			t.Errorf("domain %q has users %+v, want none", domainID, users)
		}
	}

	t.Run("default domain creates the user", func(t *testing.T) {
		res := login(t, "", "")
		signedIn(t, res, origin+"/auth-oidc-callback")
		if !res.Created || !strings.HasPrefix(res.User.ID, "user//~oidc:") {
			t.Errorf("created = %v, ID = %q; want a new user of the default domain", res.Created, res.User.ID)
		}
		if res.User.IsSiteAdmin() {
			t.Errorf("user is site admin without a siteadmin group")
		}

		again := login(t, "", "")
		signedIn(t, again, origin+"/auth-oidc-callback")
		if again.Created || again.User.ID != res.User.ID {
			t.Errorf("second login: created = %v, ID = %q; want the existing user %q", again.Created, again.User.ID, res.User.ID)
		}
	})

	t.Run("siteadmin group grants site admin", func(t *testing.T) {
		res := login(t, "admins", "")
		signedIn(t, res, origin+"/admins/auth-oidc-callback")
		if !strings.HasPrefix(res.User.ID, "user/admins/~oidc:") || !res.User.IsSiteAdmin() {
			t.Errorf("user = %+v, want a site admin of domain admins", res.User)
		}
	})

	t.Run("required group rejects outsiders", func(t *testing.T) {
		res := login(t, "members", "")
		rejected(t, res, "members", "/members/")
		if !containsAny(res.AuthLog, "Login denied") {
			t.Errorf("auth log has no denial:\n%s", strings.Join(res.AuthLog, "\n"))
		}

		p.setUser(oidcfake.User{Username: "bob", Email: "bob@example.test", Name: "Bob", Groups: []string{"mesh-users"}})
		t.Cleanup(func() { p.setUser(alice) })
		member := login(t, "members", "")
		if !member.SignedIn || member.User == nil || member.User.Name != "Bob" {
			t.Errorf("member of the required group not signed in: %+v, auth log:\n%s", member.User, strings.Join(member.AuthLog, "\n"))
		}
	})

	t.Run("HS256 ID token is rejected", func(t *testing.T) {
		res := login(t, "hs", "")
		if res.AuthorizeStatus != 302 {
			t.Fatalf("authorize status = %d, want 302", res.AuthorizeStatus)
		}
		rejected(t, res, "hs", "/hs/")
	})

	t.Run("newAccounts as a string rejects new users", func(t *testing.T) {
		res := login(t, "strnew", "")
		rejected(t, res, "strnew", "/strnew/")
		if !containsAny(res.AuthLog, "New accounts are not allowed") {
			t.Errorf("auth log does not say new accounts are not allowed:\n%s", strings.Join(res.AuthLog, "\n"))
		}
	})

	t.Run("domain with its own dns", func(t *testing.T) {
		res := login(t, "", "mesh.localhost")
		signedIn(t, res, dnsOrigin+"/auth-oidc-callback")
		if !strings.HasPrefix(res.User.ID, "user/mesh/~oidc:") {
			t.Errorf("ID = %q, want a user of domain mesh", res.User.ID)
		}
	})

	t.Run("allowed groups reject at authorize", func(t *testing.T) {
		p.setUser(oidcfake.User{Username: "eve", Email: "eve@example.test", Name: "Eve"})
		t.Cleanup(func() { p.setUser(alice) })
		p.mu.Lock()
		p.clients[0].AllowedGroups = []string{"staff"}
		p.mu.Unlock()
		t.Cleanup(func() {
			p.mu.Lock()
			p.clients[0].AllowedGroups = nil
			p.mu.Unlock()
		})
		res := login(t, "", "")
		if res.AuthorizeStatus != 403 || res.CallbackStatus != 0 || res.SignedIn {
			t.Errorf("authorize %d, callback %d, signed in %v; want 403 and no callback", res.AuthorizeStatus, res.CallbackStatus, res.SignedIn)
		}
	})
}

func TestStartStopsModuleInstall(t *testing.T) {
	requireMeshCentral(t)

	// A captcha on new accounts makes MeshCentral install svg-captcha,
	// which tests/meshcentral does not pin.
	config := []byte(`{"domains": {"": {"newAccountsCaptcha": true}}}`)
	inst, err := Start(t.Context(), Options{Config: config, DataDir: t.TempDir()})
	if err == nil {
		inst.Stop()
		t.Fatal("Start succeeded, want an error about the module install")
	}
	if !strings.Contains(err.Error(), "tried to install npm modules") || !strings.Contains(err.Error(), "svg-captcha") {
		t.Errorf("error does not name the install and the module:\n%v", err)
	}
}
