package signin

import (
	"regexp"
	"strings"
	"testing"

	"github.com/meshauth/meshcentral-authentik-action/internal/fakes/sandbox"
)

// placeholderRE matches a client secret placeholder such as
// ${MESHCENTRAL_OIDC_CLIENT_SECRET}.
var placeholderRE = regexp.MustCompile(`\$\{([A-Za-z_][A-Za-z0-9_]*)\}`)

// secretNames returns the secret names of the placeholders in content, each
// once, in order of appearance.
func placeholderNames(content []byte) []string {
	var names []string
	seen := map[string]bool{}
	for _, m := range placeholderRE.FindAllSubmatch(content, -1) {
		if name := string(m[1]); !seen[name] {
			seen[name] = true
			names = append(names, name)
		}
	}
	return names
}

// TestSecondDomainKeepsFirstSignIn applies for the default domain, then
// for a dns domain, with the default secret names both times. The second
// run must either fail before any write or leave both domains signing in.
func TestSecondDomainKeepsFirstSignIn(t *testing.T) {
	requireMeshCentral(t)
	t.Parallel()

	config, inputs := readCase(t, "dns-domain-only")
	w := newWorld(t, config)
	mainRes, mainFile := w.apply(map[string]string{"meshcentral-url": "https://mesh.example.com"})
	w.merge(mainFile)

	akWrites, ghWrites := w.sb.Authentik.WriteCount(), w.sb.GitHub.WriteCount()
	second := w.run(inputs, "")
	if second.err != nil {
		if n := w.sb.Authentik.WriteCount() - akWrites; n != 0 {
			t.Errorf("the rejected run sent %d write requests to authentik, want none", n)
		}
		if n := w.sb.GitHub.WriteCount() - ghWrites; n != 0 {
			t.Errorf("the rejected run sent %d write requests to GitHub, want none", n)
		}
		if !strings.Contains(second.log, "client-secret-secret-name") {
			t.Errorf("the rejection does not name the input client-secret-secret-name to change:\n%s", second.log)
		}
		return
	}

	pulls := w.sb.GitHub.PullRequests(sandbox.Repository)
	if len(pulls) != 2 {
		t.Fatalf("%d pull requests, want one per domain", len(pulls))
	}
	supportFile := w.sb.GitHub.PullRequestFile(sandbox.Repository, pulls[1].Number, sandbox.ConfigPath)
	names := placeholderNames(supportFile)
	t.Logf("the pull request for the dns domain has the placeholders of %q", names)
	rendered := w.render(supportFile, names...)

	inst := w.startMesh(rendered, "mesh.example.com", 0)
	w.setUser(alice)
	visit{host: "support.example.com", domainID: "support", redirectURI: second.outputs["redirect-uri"]}.signedIn(t, inst, alice)
	t.Run("default domain still signs in", func(t *testing.T) {
		visit{redirectURI: mainRes.outputs["redirect-uri"]}.signedIn(t, inst, alice)
	})
}
