package authentik

import (
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/meshauth/meshcentral-authentik-action/internal/change"
	api "goauthentik.io/api/v3"
)

// The kinds of the change entries this package makes.
const (
	KindProvider    = "authentik provider"
	KindApplication = "authentik application"
	KindBinding     = "authentik policy binding"
)

// providerWant is the desired provider with names resolved to keys.
type providerWant struct {
	name        string
	authFlow    string // flow pk
	invFlow     string // flow pk
	key         string // keypair pk
	redirectURI string
	scopes      []string // scope mapping pks that must be attached
	newSecret   string   // non-empty: set this client secret
}

// appWant is the desired application.
type appWant struct {
	slug, name, launchURL string
	group                 string // empty: not managed
}

// field makes an entry for one field that exists: None when before equals
// after, Update otherwise.
func field(kind, name, f, before, after string) change.Entry {
	a := change.Update
	if before == after {
		a = change.None
	}
	return change.Entry{Kind: kind, Name: name, Field: f, Before: before, After: after, Action: a}
}

// created makes an entry for a field of an object that will be created.
func created(kind, name, f, after string) change.Entry {
	return change.Entry{Kind: kind, Name: name, Field: f, After: after, Action: change.Create}
}

func (r *resolved) flowText(pk string) string {
	if s, ok := r.flowSlug[pk]; ok {
		return s
	}
	return pk
}

func (r *resolved) keyText(pk *string) string {
	if pk == nil || *pk == "" {
		return ""
	}
	if n, ok := r.keyName[*pk]; ok {
		return n
	}
	return *pk
}

func (r *resolved) mappingsText(pks []string) string {
	names := make([]string, len(pks))
	for i, pk := range pks {
		names[i] = pk
		if n, ok := r.mappingName[pk]; ok {
			names[i] = n
		}
	}
	sort.Strings(names)
	return strings.Join(names, ", ")
}

func redirectText(uris []api.RedirectURI) string {
	parts := make([]string, len(uris))
	for i, u := range uris {
		parts[i] = string(u.MatchingMode) + " " + u.Url
	}
	return strings.Join(parts, ", ")
}

func (w providerWant) redirects() []api.RedirectURIRequest {
	return []api.RedirectURIRequest{{MatchingMode: api.MATCHINGMODEENUM_STRICT, Url: w.redirectURI}}
}

// providerCreate returns the entries and the request body for a provider
// that does not exist yet.
func providerCreate(w providerWant, r *resolved, clientID, secret string) ([]change.Entry, api.OAuth2ProviderRequest) {
	k, n := KindProvider, w.name
	entries := []change.Entry{
		created(k, n, "name", w.name),
		created(k, n, "client_type", string(api.CLIENTTYPEENUM_CONFIDENTIAL)),
		created(k, n, "client_id", clientID),
		{Kind: k, Name: n, Field: "client_secret", Action: change.Create, Sensitive: true},
		created(k, n, "redirect_uris", "strict "+w.redirectURI),
		created(k, n, "authorization_flow", r.flowText(w.authFlow)),
		created(k, n, "invalidation_flow", r.flowText(w.invFlow)),
		created(k, n, "signing_key", r.keyText(&w.key)),
		created(k, n, "property_mappings", r.mappingsText(w.scopes)),
		created(k, n, "include_claims_in_id_token", "true"),
	}

	body := *api.NewOAuth2ProviderRequest(w.name, w.authFlow, w.invFlow, w.redirects())
	body.SetClientType(api.CLIENTTYPEENUM_CONFIDENTIAL)
	body.SetClientId(clientID)
	body.SetClientSecret(secret)
	body.SetSigningKey(w.key)
	body.SetPropertyMappings(slices.Clone(w.scopes))
	body.SetIncludeClaimsInIdToken(true)
	return entries, body
}

// providerDiff compares an existing provider with the desired one and
// returns one entry per managed field and a patch of the fields that
// differ, nil when none does. Property mappings an admin added are kept.
//
// NOTE: sub_mode is not managed. Changing it changes every user's sub
// claim, which a relying party may use as the account key.
func providerDiff(cur *api.OAuth2Provider, w providerWant, r *resolved) ([]change.Entry, *api.PatchedOAuth2ProviderRequest) {
	k, n := KindProvider, w.name
	patch := api.NewPatchedOAuth2ProviderRequest()
	dirty := false
	var entries []change.Entry
	add := func(e change.Entry, set func()) {
		entries = append(entries, e)
		if e.Changed() {
			set()
			dirty = true
		}
	}

	add(field(k, n, "name", cur.Name, w.name), func() { patch.SetName(w.name) })
	add(field(k, n, "client_type", string(cur.GetClientType()), string(api.CLIENTTYPEENUM_CONFIDENTIAL)),
		func() { patch.SetClientType(api.CLIENTTYPEENUM_CONFIDENTIAL) })
	entries = append(entries, field(k, n, "client_id", cur.GetClientId(), cur.GetClientId()))
	secret := change.Entry{Kind: k, Name: n, Field: "client_secret", Action: change.None, Sensitive: true}
	if w.newSecret != "" && w.newSecret != cur.GetClientSecret() {
		secret.Action = change.Update
	}
	add(secret, func() { patch.SetClientSecret(w.newSecret) })

	wantRedirect := "strict " + w.redirectURI
	add(field(k, n, "redirect_uris", redirectText(cur.RedirectUris), wantRedirect),
		func() { patch.SetRedirectUris(w.redirects()) })
	add(field(k, n, "authorization_flow", r.flowText(cur.AuthorizationFlow), r.flowText(w.authFlow)),
		func() { patch.SetAuthorizationFlow(w.authFlow) })
	add(field(k, n, "invalidation_flow", r.flowText(cur.InvalidationFlow), r.flowText(w.invFlow)),
		func() { patch.SetInvalidationFlow(w.invFlow) })
	add(field(k, n, "signing_key", r.keyText(cur.SigningKey.Get()), r.keyText(&w.key)),
		func() { patch.SetSigningKey(w.key) })
	add(field(k, n, "encryption_key", r.keyText(cur.EncryptionKey.Get()), ""),
		func() { patch.SetEncryptionKeyNil() })

	mappings := slices.Clone(cur.PropertyMappings)
	for _, pk := range w.scopes {
		if !slices.Contains(mappings, pk) {
			mappings = append(mappings, pk)
		}
	}
	add(field(k, n, "property_mappings", r.mappingsText(cur.PropertyMappings), r.mappingsText(mappings)),
		func() { patch.SetPropertyMappings(mappings) })
	add(field(k, n, "include_claims_in_id_token", strconv.FormatBool(cur.GetIncludeClaimsInIdToken()), "true"),
		func() { patch.SetIncludeClaimsInIdToken(true) })

	if !dirty {
		return entries, nil
	}
	return entries, patch
}

// appCreate returns the entries and the request body for an application
// that does not exist yet. providerPK is 0 while the provider is still to
// be created, so Plan uses the entries only and Apply builds the body.
func appCreate(w appWant, providerName string, providerPK int32) ([]change.Entry, api.ApplicationRequest) {
	k, n := KindApplication, w.slug
	entries := []change.Entry{
		created(k, n, "slug", w.slug),
		created(k, n, "name", w.name),
		created(k, n, "provider", providerName),
		created(k, n, "meta_launch_url", w.launchURL),
	}
	body := *api.NewApplicationRequest(w.name, w.slug)
	body.SetProvider(providerPK)
	body.SetMetaLaunchUrl(w.launchURL)
	if w.group != "" {
		entries = append(entries, created(k, n, "group", w.group))
		body.SetGroup(w.group)
	}
	return entries, body
}

// appDiff compares an existing application with the desired one. The
// provider entry compares primary keys but shows names; providerPK 0 means
// the provider is to be created.
func appDiff(cur *api.Application, w appWant, providerName string, providerPK int32) ([]change.Entry, *api.PatchedApplicationRequest) {
	k, n := KindApplication, w.slug
	patch := api.NewPatchedApplicationRequest()
	dirty := false
	var entries []change.Entry
	add := func(e change.Entry, set func()) {
		entries = append(entries, e)
		if e.Changed() {
			set()
			dirty = true
		}
	}

	add(field(k, n, "name", cur.Name, w.name), func() { patch.SetName(w.name) })

	curProvider := ""
	if pk := cur.Provider.Get(); pk != nil {
		curProvider = cur.ProviderObj.Name
		if curProvider == "" {
			curProvider = strconv.Itoa(int(*pk))
		}
	}
	// A provider renamed in the same run keeps its key: compare keys, and
	// show the rename on the provider's own entry only.
	pe := change.Entry{Kind: k, Name: n, Field: "provider", Before: curProvider, After: providerName, Action: change.Update}
	if pk := cur.Provider.Get(); pk != nil && providerPK != 0 && *pk == providerPK {
		pe.Before, pe.Action = providerName, change.None
	}
	add(pe, func() { patch.SetProvider(providerPK) })

	add(field(k, n, "meta_launch_url", cur.GetMetaLaunchUrl(), w.launchURL),
		func() { patch.SetMetaLaunchUrl(w.launchURL) })
	if w.group != "" {
		add(field(k, n, "group", cur.GetGroup(), w.group), func() { patch.SetGroup(w.group) })
	}

	if !dirty {
		return entries, nil
	}
	return entries, patch
}

// bindingOp is one policy binding to create.
type bindingOp struct {
	group api.Group
	order int32
	// remove is the primary key of a duplicate binding to delete; when set,
	// the op deletes instead of creating.
	remove string
}

// bindingsDiff returns one entry per allowed group, the bindings to create,
// and a warning for each binding of a group that is not allowed. Those
// bindings are left alone because an admin may have added them on purpose.
func bindingsDiff(slug string, groups []api.Group, existing []api.PolicyBinding) ([]change.Entry, []bindingOp, []string) {
	bound := map[string]bool{}
	var duplicates []api.PolicyBinding
	next := int32(0)
	var ineffective []api.PolicyBinding
	for _, b := range existing {
		if g := b.Group.Get(); g != nil {
			// A disabled or negated binding does not let the group in;
			// authentik treats a binding without "enabled" as enabled.
			effective := (b.Enabled == nil || *b.Enabled) && !b.GetNegate()
			switch {
			case !effective:
				ineffective = append(ineffective, b)
			case bound[*g]:
				duplicates = append(duplicates, b)
			}
			if effective {
				bound[*g] = true
			}
		}
		if b.Order >= next {
			next = b.Order + 1
		}
	}

	var entries []change.Entry
	var ops []bindingOp
	allowed := map[string]bool{}
	for _, g := range groups {
		allowed[g.Pk] = true
		if bound[g.Pk] {
			entries = append(entries, field(KindBinding, g.Name, "application", slug, slug))
			continue
		}
		entries = append(entries, created(KindBinding, g.Name, "application", slug))
		ops = append(ops, bindingOp{group: g, order: next})
		next++
	}

	// Two runs that create the same binding at once leave two bindings of
	// one group; authentik does not prevent it. The later ones go.
	for _, b := range duplicates {
		g := *b.Group.Get()
		if !allowed[g] {
			continue
		}
		name := b.GroupObj.Name
		if name == "" {
			name = g
		}
		entries = append(entries, change.Entry{Kind: KindBinding, Name: name, Field: "duplicate binding " + b.Pk, Before: slug, Action: change.Delete})
		ops = append(ops, bindingOp{remove: b.Pk})
	}

	var warnings []string
	for _, b := range ineffective {
		if g := *b.Group.Get(); allowed[g] {
			name := b.GroupObj.Name
			if name == "" {
				name = g
			}
			warnings = append(warnings, "the policy binding "+b.Pk+" of allowed group "+strconv.Quote(name)+" to application "+
				strconv.Quote(slug)+" is disabled or negated, so it does not let the group in; a binding that does is added, and this one is left alone")
		}
	}
	for _, b := range existing {
		g := b.Group.Get()
		if g == nil || allowed[*g] {
			continue
		}
		name := b.GroupObj.Name
		if name == "" {
			name = *g
		}
		warnings = append(warnings, "the policy binding of group "+strconv.Quote(name)+" to application "+
			strconv.Quote(slug)+" is not in allowed-groups; it is left alone")
	}
	return entries, ops, warnings
}
