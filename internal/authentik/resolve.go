package authentik

import (
	"fmt"
	"sort"
	"strings"

	api "goauthentik.io/api/v3"
)

// The managed scope mappings every provider gets, in this order.
var managedScopes = []string{
	"goauthentik.io/providers/oauth2/scope-openid",
	"goauthentik.io/providers/oauth2/scope-email",
	"goauthentik.io/providers/oauth2/scope-profile",
}

// resolved is the desired state with names turned into primary keys, and
// the lookups that turn keys back into names for the change list.
type resolved struct {
	authFlow, invFlow api.Flow
	key               api.CertificateKeyPair
	scopes            []api.ScopeMapping // managedScopes, in order
	groups            []api.Group        // Desired.AllowedGroups, in order
	// claimWarnings name ClaimGroups that authentik does not have.
	claimWarnings []string

	flowSlug    map[string]string // flow pk → slug
	keyName     map[string]string // keypair pk → name
	mappingName map[string]string // scope mapping pk → name
}

// resolveFlow finds the flow with the slug and checks its designation.
func resolveFlow(flows []api.Flow, slug string, want api.FlowDesignationEnum, input string) (api.Flow, error) {
	var ofKind []string
	for _, f := range flows {
		if f.Designation == want {
			ofKind = append(ofKind, f.Slug)
		}
	}
	for _, f := range flows {
		if f.Slug != slug {
			continue
		}
		if f.Designation != want {
			return api.Flow{}, resolveErrorf("resolve %s %q: the flow's designation is %q, not %q; %s flows: %s",
				input, slug, f.Designation, want, want, nameList(ofKind))
		}
		return f, nil
	}
	return api.Flow{}, resolveErrorf("resolve %s %q: no such flow; %s flows: %s", input, slug, want, nameList(ofKind))
}

// resolveKey finds the keypair with the name. It must have a private key,
// and an RSA one when authentik reports the key type, so tokens are RS256.
func resolveKey(keys []api.CertificateKeyPair, name string) (api.CertificateKeyPair, error) {
	var usable []string
	for _, k := range keys {
		if k.PrivateKeyAvailable {
			usable = append(usable, k.Name)
		}
	}
	var found []api.CertificateKeyPair
	for _, k := range keys {
		if k.Name == name {
			found = append(found, k)
		}
	}
	switch {
	case len(found) == 0:
		return api.CertificateKeyPair{}, resolveErrorf("resolve signing-key %q: no such certificate-keypair; keypairs with a private key: %s",
			name, nameList(usable))
	case len(found) > 1:
		return api.CertificateKeyPair{}, resolveErrorf("resolve signing-key %q: %d certificate-keypairs have this name; rename all but one", name, len(found))
	}
	k := found[0]
	if !k.PrivateKeyAvailable {
		return api.CertificateKeyPair{}, resolveErrorf("resolve signing-key %q: the certificate-keypair has no private key, so it cannot sign tokens; keypairs with a private key: %s",
			name, nameList(usable))
	}
	if t, ok := k.GetKeyTypeOk(); ok && t != nil && *t != api.KEYTYPEENUM_RSA {
		return api.CertificateKeyPair{}, resolveErrorf("resolve signing-key %q: its key type is %q; MeshCentral accepts only RS256 tokens, which need an RSA key",
			name, string(*t))
	}
	return k, nil
}

// resolveScopes finds the managed scope mappings for openid, email and
// profile.
func resolveScopes(all []api.ScopeMapping) ([]api.ScopeMapping, error) {
	out := make([]api.ScopeMapping, 0, len(managedScopes))
	for _, managed := range managedScopes {
		var hit *api.ScopeMapping
		for i := range all {
			if m, ok := all[i].GetManagedOk(); ok && m != nil && *m == managed {
				hit = &all[i]
				break
			}
		}
		if hit == nil {
			return nil, resolveErrorf("resolve scope mappings: the managed scope mapping %q is missing; authentik's default blueprints create it", managed)
		}
		out = append(out, *hit)
	}
	return out, nil
}

// resolveGroups finds each named group.
func resolveGroups(all []api.Group, names []string) ([]api.Group, error) {
	existing := make([]string, 0, len(all))
	byName := map[string][]api.Group{}
	for _, g := range all {
		existing = append(existing, g.Name)
		byName[g.Name] = append(byName[g.Name], g)
	}
	var out []api.Group
	var unknown []string
	for _, n := range names {
		switch hits := byName[n]; len(hits) {
		case 0:
			unknown = append(unknown, n)
		case 1:
			out = append(out, hits[0])
		default:
			return nil, resolveErrorf("resolve allowed-groups: %d groups are named %q; rename all but one", len(hits), n)
		}
	}
	if len(unknown) > 0 {
		// The error can reach a pull request comment, so it lists groups
		// that look like the missing ones first, and at most a few others.
		hint := "groups: " + nameList(existing)
		if similar := similarNames(existing, unknown); len(similar) > 0 {
			hint = "similar groups: " + nameList(similar)
		}
		return nil, resolveErrorf("resolve allowed-groups: no such group %s; %s", quoteJoin(unknown), hint)
	}
	return out, nil
}

// similarNames returns the names that share a case-insensitive prefix of
// three or more characters with one of wanted, or contain it, or are
// contained in it.
func similarNames(names, wanted []string) []string {
	var out []string
	for _, n := range names {
		ln := strings.ToLower(n)
		for _, w := range wanted {
			lw := strings.ToLower(w)
			prefix := 0
			for prefix < len(ln) && prefix < len(lw) && ln[prefix] == lw[prefix] {
				prefix++
			}
			if prefix >= 3 || (lw != "" && (strings.Contains(ln, lw) || strings.Contains(lw, ln))) {
				out = append(out, n)
				break
			}
		}
	}
	return out
}

// maxListed bounds how many names an error lists.
const maxListed = 10

// nameList formats names sorted and quoted, "none" when empty, and at most
// maxListed of them.
func nameList(names []string) string {
	if len(names) == 0 {
		return "none"
	}
	s := append([]string(nil), names...)
	sort.Strings(s)
	more := 0
	if len(s) > maxListed {
		more = len(s) - maxListed
		s = s[:maxListed]
	}
	out := quoteJoin(s)
	if more > 0 {
		out += fmt.Sprintf(" and %d more", more)
	}
	return out
}

func quoteJoin(names []string) string {
	q := make([]string, len(names))
	for i, n := range names {
		q[i] = fmt.Sprintf("%q", n)
	}
	return strings.Join(q, ", ")
}

// ResolveError reports that a flow, signing key, scope mapping or group the
// inputs name does not exist in authentik, or is unusable. A run cannot
// repair it: an admin must create or fix the object, or the inputs change.
type ResolveError struct{ msg string }

func (e *ResolveError) Error() string { return e.msg }

func resolveErrorf(format string, args ...any) error {
	return &ResolveError{msg: fmt.Sprintf(format, args...)}
}

// claimWarnings returns a warning for each name authentik has no group for.
func claimWarnings(all []api.Group, names []string) []string {
	have := map[string]bool{}
	var existing []string
	for _, g := range all {
		have[g.Name] = true
		existing = append(existing, g.Name)
	}
	var out []string
	for _, n := range names {
		if have[n] {
			continue
		}
		w := fmt.Sprintf("admin-groups or required-groups names group %q, which authentik does not have, so no user's groups claim can match it", n)
		if similar := similarNames(existing, []string{n}); len(similar) > 0 {
			w += "; similar groups: " + nameList(similar)
		}
		out = append(out, w)
	}
	return out
}
