package authentik

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"

	"github.com/meshauth/meshcentral-authentik-action/internal/change"
	api "goauthentik.io/api/v3"
)

// oauth2Model is the meta_model_name of OAuth2/OpenID providers.
const oauth2Model = "authentik_providers_oauth2.oauth2provider"

// Desired is the authentik state MeshCentral needs.
type Desired struct {
	ApplicationName string
	ApplicationSlug string
	// ApplicationGroup is the application's group label in authentik's
	// library; empty leaves the current label alone.
	ApplicationGroup string
	ProviderName     string
	// AuthorizationFlow and InvalidationFlow are flow slugs.
	AuthorizationFlow string
	InvalidationFlow  string
	// SigningKey is the name of a certificate-keypair with an RSA private
	// key.
	SigningKey string
	// AllowedGroups are group names; each gets a policy binding to the
	// application. Bindings of other groups are left alone and reported as
	// warnings.
	AllowedGroups []string
	// ClaimGroups are the group names MeshCentral compares with the groups
	// claim (admin-groups and required-groups). A name authentik lacks gets
	// a warning, because no user can then match it.
	ClaimGroups []string
	// LaunchURL is the MeshCentral URL.
	LaunchURL string
	// RedirectURI is the one strict redirect URI of the provider.
	RedirectURI string
	// NewClientSecret, when not empty, becomes the client secret (rotation,
	// or a chosen secret for a new provider). When empty, an existing
	// provider keeps its secret and a new provider gets a generated one.
	NewClientSecret string
}

func (d Desired) validate() error {
	required := []struct{ name, value string }{
		{"application-name", d.ApplicationName},
		{"application-slug", d.ApplicationSlug},
		{"provider-name", d.ProviderName},
		{"authorization-flow", d.AuthorizationFlow},
		{"invalidation-flow", d.InvalidationFlow},
		{"signing-key", d.SigningKey},
		{"launch URL", d.LaunchURL},
		{"redirect URI", d.RedirectURI},
	}
	for _, r := range required {
		if strings.TrimSpace(r.value) == "" {
			return fmt.Errorf("plan authentik changes: %s is empty", r.name)
		}
	}
	return nil
}

// Plan is the result of [Client.Plan]: the change list and the state
// that [Client.Apply] writes.
type Plan struct {
	// Changes has one entry per managed field of the provider and the
	// application, and one per allowed group. The client secret entry is
	// Sensitive and carries no value.
	Changes []change.Entry
	// Warnings are findings that need no write, such as bindings of groups
	// that are not in AllowedGroups.
	Warnings []string
	// ProviderExists and ProviderPK describe the provider found; ProviderPK
	// is 0 when it will be created.
	ProviderExists bool
	ProviderPK     int32
	// ApplicationExists reports whether the application was found.
	ApplicationExists bool
	// ClientID is the current client ID, or the one generated for the new
	// provider.
	ClientID string
	// ClientSecret is the secret the provider will have after Apply: the
	// current one, Desired.NewClientSecret, or one generated for the new
	// provider. It is never part of Changes.
	ClientSecret string
	// Issuer is <url>/application/o/<slug>/.
	Issuer string
	// AfterProvider, when set, is called by Apply once the provider is in
	// place (written, or already right) and before the application is
	// written. A caller can wait for it to start writes elsewhere only once
	// authentik has accepted the token's first write.
	AfterProvider func()

	desired  Desired
	res      *resolved
	provider *api.OAuth2Provider // current; nil: create
	app      *api.Application    // current; nil: create
	bindings []api.PolicyBinding // current bindings on the application
	client   *Client
}

// Pending reports whether Apply has anything to write.
func (p *Plan) Pending() bool {
	for _, e := range p.Changes {
		if e.Changed() {
			return true
		}
	}
	return false
}

// stage1 holds the reads that depend on nothing.
type stage1 struct {
	version string
	flows   []api.Flow
	keys    []api.CertificateKeyPair
	scopes  []api.ScopeMapping
	groups  []api.Group
	app     *api.Application
	// named is the provider of any type with the provider name, or nil.
	named *api.Provider
}

// Plan reads the server's state and computes the changes. It makes no
// write. It rejects authentik older than [MinVersion], and fails
// when a flow, the signing key, a scope mapping or a group is unknown, or
// when adopting the existing objects would steal or duplicate one.
func (c *Client) Plan(ctx context.Context, d Desired) (*Plan, error) {
	if err := d.validate(); err != nil {
		return nil, err
	}
	p, err := c.Read(ctx, d)
	if err != nil {
		return nil, err
	}
	p.Compute(d.RedirectURI, d.LaunchURL)
	return p, nil
}

// Read performs every read of [Client.Plan] but computes no changes, so a
// caller can start it before it has the redirect URI (which depends on
// config.json) and finish with [Plan.Compute]. d.RedirectURI is ignored.
func (c *Client) Read(ctx context.Context, d Desired) (*Plan, error) {
	d.RedirectURI = "-"
	if err := d.validate(); err != nil {
		return nil, err
	}
	d.RedirectURI = ""
	d.AllowedGroups = dedupe(d.AllowedGroups)

	s, err := c.readStage1(ctx, d)
	if err != nil {
		return nil, err
	}
	res, err := resolve(s, d)
	if err != nil {
		return nil, err
	}

	p := &Plan{desired: d, res: res, app: s.app, Issuer: c.Issuer(d.ApplicationSlug), client: c}
	if err := c.locate(ctx, p, s.named); err != nil {
		return nil, err
	}
	return p, nil
}

// Compute fills the change list for the provider's one redirect URI and the
// application's launch URL (empty keeps the one given to Read). It sends no
// request; calling it again replaces the earlier result.
func (p *Plan) Compute(redirectURI, launchURL string) {
	p.desired.RedirectURI = redirectURI
	if launchURL != "" {
		p.desired.LaunchURL = launchURL
	}
	p.compute()
	p.client.addSecret(p.ClientSecret)
}

// readStage1 runs the independent reads concurrently. The version error
// comes first: an old server may fail the other reads in confusing ways.
func (c *Client) readStage1(ctx context.Context, d Desired) (*stage1, error) {
	var s stage1
	errs := parallel(
		func() (err error) { s.version, err = c.readVersion(ctx); return },
		func() (err error) { s.flows, err = c.listFlows(ctx); return },
		func() (err error) { s.keys, err = c.listKeypairs(ctx); return },
		func() (err error) { s.scopes, err = c.listScopeMappings(ctx); return },
		func() (err error) {
			if len(d.AllowedGroups) > 0 || len(d.ClaimGroups) > 0 {
				s.groups, err = c.listGroups(ctx)
			}
			return
		},
		func() (err error) { s.app, err = c.readApplication(ctx, d.ApplicationSlug); return },
		func() (err error) { s.named, err = c.anyProviderNamed(ctx, d.ProviderName); return },
	)
	if errs[0] != nil {
		return nil, errs[0]
	}
	if err := checkVersion(s.version); err != nil {
		return nil, err
	}
	if err := errors.Join(errs[1:]...); err != nil {
		return nil, err
	}
	return &s, nil
}

// resolve turns the names of d into objects.
func resolve(s *stage1, d Desired) (*resolved, error) {
	r := &resolved{flowSlug: map[string]string{}, keyName: map[string]string{}, mappingName: map[string]string{}}
	for _, f := range s.flows {
		r.flowSlug[f.Pk] = f.Slug
	}
	for _, k := range s.keys {
		r.keyName[k.Pk] = k.Name
	}
	for _, m := range s.scopes {
		r.mappingName[m.Pk] = m.Name
	}

	var errs []error
	var err error
	if r.authFlow, err = resolveFlow(s.flows, d.AuthorizationFlow, api.FLOWDESIGNATIONENUM_AUTHORIZATION, "authorization-flow"); err != nil {
		errs = append(errs, err)
	}
	if r.invFlow, err = resolveFlow(s.flows, d.InvalidationFlow, api.FLOWDESIGNATIONENUM_INVALIDATION, "invalidation-flow"); err != nil {
		errs = append(errs, err)
	}
	if r.key, err = resolveKey(s.keys, d.SigningKey); err != nil {
		errs = append(errs, err)
	}
	if r.scopes, err = resolveScopes(s.scopes); err != nil {
		errs = append(errs, err)
	}
	if r.groups, err = resolveGroups(s.groups, d.AllowedGroups); err != nil {
		errs = append(errs, err)
	}
	r.claimWarnings = claimWarnings(s.groups, d.ClaimGroups)
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return r, nil
}

// locate finds the provider to adopt and the application's bindings.
//
// The application (by slug) decides: its provider is adopted if it is an
// OAuth2 provider. Without an application, or one without a provider, the
// OAuth2 provider named Desired.ProviderName is adopted unless another
// application uses it. A name taken by a provider of another type, or by
// another provider than the application's, is an error: authentik keeps
// provider names unique across types. The name lookup covers every
// provider type in one request, so a fresh setup needs no second lookup.
func (c *Client) locate(ctx context.Context, p *Plan, named *api.Provider) error {
	d := p.desired

	var appProvider int32
	if p.app != nil {
		if pk := p.app.Provider.Get(); pk != nil {
			if m := p.app.ProviderObj.MetaModelName; m != "" && m != oauth2Model {
				return fmt.Errorf("adopt authentik application %q: it uses provider %q of %s, not an OAuth2/OpenID provider; point it to an OAuth2/OpenID provider or choose another application-slug",
					d.ApplicationSlug, p.app.ProviderObj.Name, providerType(p.app.ProviderObj.VerboseName))
			}
			appProvider = *pk
		}
	}
	if named != nil && named.MetaModelName != "" && named.MetaModelName != oauth2Model {
		return fmt.Errorf("adopt authentik provider %q: the name belongs to a provider of %s (pk %d); provider names are unique across all types, so choose another provider-name",
			d.ProviderName, providerType(named.VerboseName), named.Pk)
	}
	// The application points at another provider while the provider of
	// provider-name serves no application: someone switched the application
	// by hand. The named provider is adopted and the application pointed
	// back at it, which the change list shows as drift.
	repoint := appProvider != 0 && named != nil && named.Pk != appProvider && named.AssignedApplicationSlug == ""
	if appProvider != 0 && named != nil && named.Pk != appProvider && !repoint {
		return fmt.Errorf("adopt authentik application %q: it uses provider %q, and the provider-name %q belongs to provider pk %d, which application %q uses; set provider-name to %q to keep the application's provider, or point application %q back to %q in authentik",
			d.ApplicationSlug, p.app.ProviderObj.Name, d.ProviderName, named.Pk, named.AssignedApplicationSlug, p.app.ProviderObj.Name, d.ApplicationSlug, d.ProviderName)
	}
	if repoint {
		appProvider = 0
	}

	// Second stage: the provider's OAuth2 settings and the application's
	// bindings.
	pk, name := appProvider, d.ProviderName
	if pk != 0 {
		name = p.app.ProviderObj.Name
	} else if named != nil {
		pk = named.Pk
	}
	var found *api.OAuth2Provider
	errs := parallel(
		func() (err error) {
			if pk != 0 {
				found, err = c.readProvider(ctx, pk, name)
			}
			return
		},
		func() (err error) {
			if p.app != nil {
				p.bindings, err = c.listBindings(ctx, p.app.Pk)
			}
			return
		},
	)
	if err := errors.Join(errs...); err != nil {
		return err
	}

	switch {
	case pk != 0 && found == nil:
		return fmt.Errorf("adopt authentik provider %q (pk %d): it cannot be read as an OAuth2/OpenID provider", name, pk)
	case appProvider == 0 && found != nil:
		if a := found.AssignedApplicationSlug; a != "" && a != d.ApplicationSlug {
			return fmt.Errorf("adopt authentik provider %q: application %q uses it already; a provider serves one application, so choose another provider-name",
				d.ProviderName, a)
		}
	}
	p.provider = found

	var onApp []api.PolicyBinding
	for _, b := range p.bindings {
		if p.app != nil && b.Target == p.app.Pk {
			onApp = append(onApp, b)
		}
	}
	p.bindings = onApp
	return nil
}

// compute fills the change list, the client credentials and the flags.
func (p *Plan) compute() {
	d, r := p.desired, p.res
	w := p.providerWant()
	var entries []change.Entry
	if p.provider == nil {
		// Generated once, so computing again keeps the same credentials.
		if p.ClientID == "" {
			p.ClientID = randomString(clientIDLength)
		}
		if d.NewClientSecret != "" {
			p.ClientSecret = d.NewClientSecret
		} else if p.ClientSecret == "" {
			p.ClientSecret = randomString(clientSecretLength)
		}
		e, _ := providerCreate(w, r, p.ClientID, p.ClientSecret)
		entries = append(entries, e...)
	} else {
		p.ProviderExists, p.ProviderPK = true, p.provider.Pk
		p.ClientID = p.provider.GetClientId()
		p.ClientSecret = p.provider.GetClientSecret()
		if d.NewClientSecret != "" {
			p.ClientSecret = d.NewClientSecret
		}
		e, _ := providerDiff(p.provider, w, r)
		entries = append(entries, e...)
	}

	if p.app == nil {
		e, _ := appCreate(p.appWant(), d.ProviderName, p.ProviderPK)
		entries = append(entries, e...)
	} else {
		p.ApplicationExists = true
		e, _ := appDiff(p.app, p.appWant(), d.ProviderName, p.ProviderPK)
		entries = append(entries, e...)
	}

	e, _, warnings := bindingsDiff(d.ApplicationSlug, r.groups, p.bindings)
	entries = append(entries, e...)

	var l change.List
	l.Add(entries...)
	for _, w := range warnings {
		l.Warn(w)
	}
	for _, w := range r.claimWarnings {
		l.Warn(w)
	}
	p.Changes, p.Warnings = l.Entries, l.Warnings
}

func (p *Plan) providerWant() providerWant {
	w := providerWant{
		name:        p.desired.ProviderName,
		authFlow:    p.res.authFlow.Pk,
		invFlow:     p.res.invFlow.Pk,
		key:         p.res.key.Pk,
		redirectURI: p.desired.RedirectURI,
		newSecret:   p.desired.NewClientSecret,
	}
	for _, m := range p.res.scopes {
		w.scopes = append(w.scopes, m.Pk)
	}
	return w
}

func (p *Plan) appWant() appWant {
	d := p.desired
	return appWant{slug: d.ApplicationSlug, name: d.ApplicationName, launchURL: d.LaunchURL, group: d.ApplicationGroup}
}

// providerType names a provider type for messages: type "SAML Provider".
func providerType(verbose string) string {
	if verbose == "" {
		return "another type"
	}
	return fmt.Sprintf("type %q", verbose)
}

// parallel runs fns concurrently and returns their errors in order.
func parallel(fns ...func() error) []error {
	errs := make([]error, len(fns))
	var wg sync.WaitGroup
	for i, fn := range fns {
		wg.Go(func() { errs[i] = fn() })
	}
	wg.Wait()
	return errs
}

// dedupe drops empty and repeated names, keeping the first occurrence.
func dedupe(names []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, n := range names {
		n = strings.TrimSpace(n)
		if n == "" || seen[n] {
			continue
		}
		seen[n] = true
		out = append(out, n)
	}
	return out
}

// addSecret makes the client scrub s from error text from now on.
func (c *Client) addSecret(s string) {
	if s == "" {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.secrets = append(c.secrets, s)
}
