package faults

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/meshauth/meshcentral-authentik-action/internal/action"
	"github.com/meshauth/meshcentral-authentik-action/internal/fakes/authentikfake"
	"github.com/meshauth/meshcentral-authentik-action/internal/fakes/sandbox"
)

// endState is the deployment as the fakes hold it, with the generated
// identifiers (primary keys, client ID and secret) left out so that two
// sandboxes can be compared.
type endState struct {
	Provider     providerShape
	Application  authentikfake.Application
	BoundGroups  []string
	PullTitle    string
	PullHead     string
	PullBase     string
	Config       string
	SecretNames  []string
	HasVariable  bool
	OpenPulls    int
	Providers    int
	Applications int
}

// snapshot reads the end state, with the client ID in config.json replaced
// by <client-id>.
func (w *world) snapshot(t *testing.T) endState {
	t.Helper()
	ak, gh := w.sb.Authentik, w.sb.GitHub
	var st endState
	st.Providers, st.Applications = len(ak.Providers()), len(ak.Applications())
	p, _ := ak.Provider(providerName)
	clientID := p.ClientID
	st.Provider = w.shape(p)
	app, _ := ak.Application(appSlug)
	app.PK, app.Provider = "", 0
	st.Application = app
	st.BoundGroups = w.boundGroups()
	pulls := w.openPulls()
	st.OpenPulls = len(pulls)
	if len(pulls) > 0 {
		st.PullTitle, st.PullHead, st.PullBase = pulls[0].Title, pulls[0].Head, pulls[0].Base
		content := gh.PullRequestFile(sandbox.Repository, pulls[0].Number, sandbox.ConfigPath)
		st.Config = strings.ReplaceAll(string(content), clientID, "<client-id>")
		st.Config = strings.ReplaceAll(st.Config, ak.URL, "<authentik-url>")
	}
	st.SecretNames = gh.SecretNames(sandbox.Repository, "")
	sort.Strings(st.SecretNames)
	_, st.HasVariable = gh.Variable(sandbox.Repository, "", action.FingerprintVariableName(secretName))
	return st
}

// providerShape is a provider with references by name instead of by
// primary key, since each sandbox seeds its objects with new keys.
type providerShape struct {
	authentikfake.Provider
	AuthorizationFlowSlug string
	InvalidationFlowSlug  string
	SigningKeyName        string
	ScopeMappings         []string
}

func (w *world) shape(p authentikfake.Provider) providerShape {
	ak := w.sb.Authentik
	s := providerShape{}
	for _, f := range []string{"default-provider-authorization-implicit-consent", "default-provider-authorization-explicit-consent", "default-provider-invalidation-flow"} {
		if fl, ok := ak.Flow(f); ok && fl.PK == p.AuthorizationFlow {
			s.AuthorizationFlowSlug = f
		}
		if fl, ok := ak.Flow(f); ok && fl.PK == p.InvalidationFlow {
			s.InvalidationFlowSlug = f
		}
	}
	if k, ok := ak.Keypair(authentikfake.KeypairSelfSigned); ok && k.PK == p.SigningKey {
		s.SigningKeyName = k.Name
	}
	for _, pk := range p.PropertyMappings {
		name := "unknown mapping " + pk
		for _, m := range ak.ScopeMappings() {
			if m.PK == pk {
				name = m.Managed + " " + m.Name
			}
		}
		s.ScopeMappings = append(s.ScopeMappings, name)
	}
	sort.Strings(s.ScopeMappings)
	p.PK, p.ClientID, p.ClientSecret = 0, "", ""
	p.AuthorizationFlow, p.InvalidationFlow, p.SigningKey, p.PropertyMappings = "", "", "", nil
	s.Provider = p
	return s
}

// boundGroups names the groups bound to the application, sorted, with
// duplicates kept.
func (w *world) boundGroups() []string {
	names := map[string]string{}
	for _, g := range []string{"staff", "admins"} {
		if grp, ok := w.sb.Authentik.Group(g); ok {
			names[grp.PK] = g
		}
	}
	var out []string
	for _, b := range w.sb.Authentik.Bindings(appSlug) {
		n := names[b.Group]
		if n == "" {
			n = fmt.Sprintf("binding %s (group %q, policy %q)", b.PK, b.Group, b.Policy)
		}
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

// checkConverged asserts the invariants of a finished deployment: one of
// each object, secrets and fingerprint equal to authentik's credentials,
// config.json carrying authentik's client ID, and the end state equal to
// want when want is not nil. It returns the problems instead of failing,
// so the sweep can report them with the crash point.
func (w *world) checkConverged(want *endState, groups ...string) []string {
	ak, gh := w.sb.Authentik, w.sb.GitHub
	var probs []string
	bad := func(format string, args ...any) { probs = append(probs, fmt.Sprintf(format, args...)) }

	if n := len(ak.Providers()); n != 1 {
		bad("%d providers, want 1", n)
	}
	if n := len(ak.Applications()); n != 1 {
		bad("%d applications, want 1", n)
	}
	sort.Strings(groups)
	if got := w.boundGroups(); !cmp.Equal(got, groups, cmpEmpty()) {
		bad("bound groups %q, want %q (one binding per group)", got, groups)
	}
	pulls := w.openPulls()
	if len(pulls) != 1 {
		bad("%d open pull requests, want 1", len(pulls))
	}
	p, ok := ak.Provider(providerName)
	if !ok {
		bad("provider %q missing", providerName)
		return probs
	}
	if id, ok := gh.SecretPlaintext(sandbox.Repository, "", idSecretName); !ok || id != p.ClientID {
		bad("secret %s = %q (stored %v), want authentik's client ID %q", idSecretName, id, ok, p.ClientID)
	}
	if s, ok := gh.SecretPlaintext(sandbox.Repository, "", secretName); !ok || s != p.ClientSecret {
		bad("secret %s (stored %v) does not decrypt to authentik's client secret", secretName, ok)
	}
	fp, ok := gh.Variable(sandbox.Repository, "", action.FingerprintVariableName(secretName))
	if !ok || !fingerprintMatches(fp, p.ClientID, p.ClientSecret) {
		bad("fingerprint variable (stored %v) does not match authentik's credentials", ok)
	}
	for _, pr := range pulls {
		content := gh.PullRequestFile(sandbox.Repository, pr.Number, sandbox.ConfigPath)
		if got := committedClientID(content); got != p.ClientID {
			bad("pull request #%d commits client ID %q, want authentik's %q", pr.Number, got, p.ClientID)
		}
		seen := map[string]bool{}
		for _, c := range gh.Comments(sandbox.Repository, pr.Number) {
			if seen[c.Body] {
				bad("pull request #%d has a duplicate comment: %.80q", pr.Number, c.Body)
			}
			seen[c.Body] = true
		}
	}
	if want != nil {
		got := w.snapshot(w.t)
		if d := cmp.Diff(*want, got, cmpEmpty()); d != "" {
			bad("end state differs from the fault-free run (-want +got):\n%s", d)
		}
	}
	return probs
}

func cmpEmpty() cmp.Option {
	return cmp.FilterValues(func(a, b []string) bool { return len(a) == 0 && len(b) == 0 }, cmp.Ignore())
}

// committedClientID reads domains[""].authStrategies.oidc.client.client_id
// as MeshCentral would (keys lower-cased).
func committedClientID(content []byte) string {
	var doc map[string]any
	if err := json.Unmarshal(content, &doc); err != nil {
		return "(not JSON: " + err.Error() + ")"
	}
	cur := any(doc)
	for _, k := range []string{"domains", "", "authstrategies", "oidc", "client", "client_id"} {
		m, ok := cur.(map[string]any)
		if !ok {
			return ""
		}
		cur = nil
		for key, v := range m {
			if strings.ToLower(key) == k {
				cur = v
			}
		}
	}
	s, _ := cur.(string)
	return s
}

// noWritesOnRerun runs apply again and returns a problem when it failed or
// sent any write request.
func (w *world) noWritesOnRerun(inputs map[string]string) []string {
	before := w.writes()
	akSeen, ghSeen := len(w.sb.Authentik.Requests()), len(w.sb.GitHub.Requests())
	res := w.apply(inputs)
	if res.err != nil {
		return []string{fmt.Sprintf("the following apply failed: %v\n%s", res.err, res.stdout)}
	}
	if n := w.writes() - before; n != 0 {
		var sent []string
		for _, r := range w.sb.Authentik.Requests()[akSeen:] {
			if r.Method != "GET" {
				sent = append(sent, "authentik "+r.Method+" "+r.Path)
			}
		}
		for _, r := range w.sb.GitHub.Requests()[ghSeen:] {
			if r.Method != "GET" && r.Method != "HEAD" {
				sent = append(sent, "GitHub "+r.Method+" "+r.Path)
			}
		}
		return []string{fmt.Sprintf("the following apply sent %d write requests, want none: %s", n, strings.Join(sent, ", "))}
	}
	return nil
}
