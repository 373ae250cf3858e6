package signin

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"testing"

	"github.com/meshauth/meshcentral-authentik-action/internal/fakes/authentikfake"
	"github.com/meshauth/meshcentral-authentik-action/internal/fakes/oidcfake"
	"github.com/meshauth/meshcentral-authentik-action/internal/fakes/sandbox"
)

// Users who sign in at the authentik fake.
var (
	alice = oidcfake.User{Username: "alice", Email: "alice@example.test", Name: "Alice Liddell", Groups: []string{"staff", "mesh-admins"}}
	bob   = oidcfake.User{Username: "bob", Email: "bob@example.test", Name: "Bob Builder", Groups: []string{"staff", "mesh-users"}}
	eve   = oidcfake.User{Username: "eve", Email: "eve@example.test", Name: "Eve Outsider", Groups: []string{"staff"}}
)

// localConfig returns a config.json for MeshCentral at
// https://localhost:port with a default domain. settings and domains are
// extra JSON members of those objects, without a trailing comma.
func localConfig(port int, settings, domains string) []byte {
	if settings != "" {
		settings = ",\n    " + settings
	}
	if domains != "" {
		domains = ",\n    " + domains
	}
	return fmt.Appendf(nil, `{
  "settings": {
    "cert": "localhost",
    "port": %d%s
  },
  "domains": {
    "": {
      "title": "Support"
    }%s
  }
}
`, port, settings, domains)
}

// wantOutput fails the test unless the run's output name equals want.
func wantOutput(t *testing.T, res result, name, want string) {
	t.Helper()
	if got := res.outputs[name]; got != want {
		t.Fatalf("output %s = %q, want %q\nlog:\n%s", name, got, want, res.log)
	}
}

func TestDefaultDomain(t *testing.T) {
	requireMeshCentral(t)
	t.Parallel()

	port := freePort(t)
	w := newWorld(t, localConfig(port, "", ""))
	origin := "https://localhost:" + strconv.Itoa(port)
	res, committed := w.apply(map[string]string{"meshcentral-url": origin})
	wantOutput(t, res, "redirect-uri", origin+"/auth-oidc-callback")

	inst := w.startMesh(w.render(committed), "localhost", port)
	w.setUser(alice)
	v := visit{redirectURI: res.outputs["redirect-uri"]}
	u := v.signedIn(t, inst, alice)
	if u.IsSiteAdmin() {
		t.Errorf("user %q is a site admin without admin-groups", u.ID)
	}

	// A second sign-in finds the same user instead of creating another.
	again := v.login(t, inst)
	if !again.SignedIn || again.Created || again.User == nil || again.User.ID != u.ID {
		t.Errorf("second sign-in: signed in %v, created %v, user %+v; want the existing user %q",
			again.SignedIn, again.Created, again.User, u.ID)
	}
}

func TestNamedDomain(t *testing.T) {
	requireMeshCentral(t)
	t.Parallel()

	port := freePort(t)
	w := newWorld(t, localConfig(port, "", `"support": {
      "title": "Customer support"
    }`))
	origin := "https://localhost:" + strconv.Itoa(port)
	res, committed := w.apply(map[string]string{"meshcentral-url": origin, "meshcentral-domain": "support"})
	wantOutput(t, res, "redirect-uri", origin+"/support/auth-oidc-callback")

	inst := w.startMesh(w.render(committed), "localhost", port)
	w.setUser(alice)
	v := visit{domainPath: "support", domainID: "support", redirectURI: res.outputs["redirect-uri"]}
	v.signedIn(t, inst, alice)
	if users, err := inst.Users(""); err != nil || len(users) != 0 {
		t.Errorf("default domain users = %+v, %v; want none", users, err)
	}
}

// TestNamedDomainMixedCaseKey signs in to a domain whose key is "Support"
// with meshcentral-domain "support". MeshCentral lower-cases domain names,
// so the action must edit that key and write the lower-case path.
func TestNamedDomainMixedCaseKey(t *testing.T) {
	requireMeshCentral(t)
	t.Parallel()

	port := freePort(t)
	w := newWorld(t, localConfig(port, "", `"Support": {
      "title": "Customer support"
    }`))
	origin := "https://localhost:" + strconv.Itoa(port)
	res, committed := w.apply(map[string]string{"meshcentral-url": origin, "meshcentral-domain": "support"})
	wantOutput(t, res, "redirect-uri", origin+"/support/auth-oidc-callback")
	var doc struct{ Domains map[string]json.RawMessage }
	if err := json.Unmarshal(committed, &doc); err != nil {
		t.Fatal(err)
	}
	for key := range doc.Domains {
		if key != "Support" && strings.EqualFold(key, "support") {
			t.Errorf("the committed config.json has a second domain key %q beside \"Support\":\n%s", key, committed)
		}
	}

	inst := w.startMesh(w.render(committed), "localhost", port)
	w.setUser(alice)
	visit{domainPath: "support", domainID: "support", redirectURI: res.outputs["redirect-uri"]}.signedIn(t, inst, alice)
}

// TestRenderEscapesSecret adopts a provider whose client secret contains
// characters that JSON escapes. MeshCentral must send authentik exactly that
// secret after render.
func TestRenderEscapesSecret(t *testing.T) {
	requireMeshCentral(t)
	t.Parallel()

	port := freePort(t)
	w := newWorld(t, localConfig(port, "", ""))
	secret := `quote" backslash\ slash/ <tag> & apostrophe' é ${x}` + "\u2028end"
	if _, err := w.sb.Authentik.AddProvider(authentikfake.Provider{Name: "Provider for MeshCentral", ClientSecret: secret}); err != nil {
		t.Fatal(err)
	}
	if _, err := w.sb.Authentik.AddApplication("meshcentral", "MeshCentral", "Provider for MeshCentral"); err != nil {
		t.Fatal(err)
	}
	origin := "https://localhost:" + strconv.Itoa(port)
	res, committed := w.apply(map[string]string{"meshcentral-url": origin})
	if stored, _ := w.sb.GitHub.SecretPlaintext(sandbox.Repository, "", defaultSecretName); stored != secret {
		t.Fatalf("the GitHub secret differs from authentik's client secret")
	}

	inst := w.startMesh(w.render(committed), "localhost", port)
	w.setUser(alice)
	visit{redirectURI: res.outputs["redirect-uri"]}.signedIn(t, inst, alice)
}

// TestAliasPort runs MeshCentral on an internal port behind a proxy that
// users reach on 443 (settings.aliasPort). The redirect URI leaves the
// default port out and must never name the internal one.
func TestAliasPort(t *testing.T) {
	requireMeshCentral(t)
	t.Parallel()

	port := freePort(t)
	w := newWorld(t, localConfig(port, `"aliasPort": 443`, ""))
	res, committed := w.apply(map[string]string{"meshcentral-url": "https://localhost"})
	wantOutput(t, res, "redirect-uri", "https://localhost/auth-oidc-callback")
	if strings.Contains(res.outputs["redirect-uri"], strconv.Itoa(port)) {
		t.Fatalf("redirect-uri %q names the internal port %d", res.outputs["redirect-uri"], port)
	}

	// meshtest sends connections for aliasPort to the real port, as the
	// proxy would.
	inst := w.startMesh(w.render(committed), "localhost", port)
	if inst.AliasPort != 443 {
		t.Fatalf("MeshCentral runs with aliasPort %d, want 443", inst.AliasPort)
	}
	w.setUser(alice)
	visit{redirectURI: res.outputs["redirect-uri"]}.signedIn(t, inst, alice)
}

func TestAdminGroups(t *testing.T) {
	requireMeshCentral(t)
	t.Parallel()

	port := freePort(t)
	w := newWorld(t, localConfig(port, "", ""))
	origin := "https://localhost:" + strconv.Itoa(port)
	res, committed := w.apply(map[string]string{"meshcentral-url": origin, "admin-groups": "mesh-admins"})

	inst := w.startMesh(w.render(committed), "localhost", port)
	v := visit{redirectURI: res.outputs["redirect-uri"]}

	w.setUser(bob)
	if u := v.signedIn(t, inst, bob); u.IsSiteAdmin() {
		t.Errorf("%q, outside mesh-admins, is a site admin (rights %#x)", u.ID, u.SiteAdmin)
	}
	w.setUser(alice)
	if u := v.signedIn(t, inst, alice); !u.IsSiteAdmin() {
		t.Errorf("%q, a member of mesh-admins, has rights %#x, want a site admin", u.ID, u.SiteAdmin)
	}
}

func TestRequiredGroups(t *testing.T) {
	requireMeshCentral(t)
	t.Parallel()

	port := freePort(t)
	w := newWorld(t, localConfig(port, "", ""))
	origin := "https://localhost:" + strconv.Itoa(port)
	res, committed := w.apply(map[string]string{"meshcentral-url": origin, "required-groups": "mesh-users"})

	inst := w.startMesh(w.render(committed), "localhost", port)
	v := visit{redirectURI: res.outputs["redirect-uri"]}

	w.setUser(eve)
	out := v.rejected(t, inst, eve)
	if !strings.Contains(strings.Join(out.AuthLog, "\n"), "Login denied") {
		t.Errorf("auth log does not deny %q:\n%s", eve.Username, strings.Join(out.AuthLog, "\n"))
	}
	w.setUser(bob)
	v.signedIn(t, inst, bob)
}
