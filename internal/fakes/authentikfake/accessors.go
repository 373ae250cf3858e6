package authentikfake

import (
	"crypto/rand"
	"crypto/rsa"
	"fmt"
	"slices"
)

// The methods below read, seed and tamper with the fake's objects behind
// the API's back, as an admin clicking in authentik would. They return
// copies: changing a returned value changes nothing in the fake.

func (p Provider) clone() Provider {
	p.PropertyMappings = slices.Clone(p.PropertyMappings)
	p.RedirectURIs = slices.Clone(p.RedirectURIs)
	return p
}

// Provider returns the provider with the given name.
func (f *Fake) Provider(name string) (Provider, bool) {
	f.state.mu.Lock()
	defer f.state.mu.Unlock()
	if p := f.state.providerByName(name); p != nil {
		return p.clone(), true
	}
	return Provider{}, false
}

// Providers returns every provider in order of creation.
func (f *Fake) Providers() []Provider {
	f.state.mu.Lock()
	defer f.state.mu.Unlock()
	out := make([]Provider, 0, len(f.state.providers))
	for _, p := range f.state.providers {
		out = append(out, p.clone())
	}
	return out
}

// Application returns the application with the given slug.
func (f *Fake) Application(slug string) (Application, bool) {
	f.state.mu.Lock()
	defer f.state.mu.Unlock()
	if a := f.state.applicationBySlug(slug); a != nil {
		return *a, true
	}
	return Application{}, false
}

// Applications returns every application in order of creation.
func (f *Fake) Applications() []Application {
	f.state.mu.Lock()
	defer f.state.mu.Unlock()
	out := make([]Application, 0, len(f.state.applications))
	for _, a := range f.state.applications {
		out = append(out, *a)
	}
	return out
}

// Bindings returns the policy bindings whose target is the application
// with the given slug.
func (f *Fake) Bindings(slug string) []Binding {
	f.state.mu.Lock()
	defer f.state.mu.Unlock()
	app := f.state.applicationBySlug(slug)
	if app == nil {
		return nil
	}
	var out []Binding
	for _, b := range f.state.bindings {
		if b.Target == app.PK {
			out = append(out, *b)
		}
	}
	return out
}

// Flow returns the flow with the given slug.
func (f *Fake) Flow(slug string) (Flow, bool) {
	f.state.mu.Lock()
	defer f.state.mu.Unlock()
	if fl := f.state.flowBySlug(slug); fl != nil {
		return *fl, true
	}
	return Flow{}, false
}

// Keypair returns the keypair with the given name.
func (f *Fake) Keypair(name string) (Keypair, bool) {
	f.state.mu.Lock()
	defer f.state.mu.Unlock()
	if k := f.state.keypairByName(name); k != nil {
		return *k, true
	}
	return Keypair{}, false
}

// ScopeMappings returns every scope mapping.
func (f *Fake) ScopeMappings() []ScopeMapping {
	f.state.mu.Lock()
	defer f.state.mu.Unlock()
	out := make([]ScopeMapping, 0, len(f.state.mappings))
	for _, m := range f.state.mappings {
		out = append(out, *m)
	}
	return out
}

// Group returns the group with the given name.
func (f *Fake) Group(name string) (Group, bool) {
	f.state.mu.Lock()
	defer f.state.mu.Unlock()
	if g := f.state.groupByName(name); g != nil {
		return *g, true
	}
	return Group{}, false
}

// AddGroup creates a group, or returns the existing one of that name.
func (f *Fake) AddGroup(name string) Group {
	f.state.mu.Lock()
	defer f.state.mu.Unlock()
	if g := f.state.groupByName(name); g != nil {
		return *g
	}
	return *f.state.addGroup(name)
}

// AddFlow creates a flow with the given slug and designation, such as
// "authorization".
func (f *Fake) AddFlow(slug, designation string) (Flow, error) {
	f.state.mu.Lock()
	defer f.state.mu.Unlock()
	if f.state.flowBySlug(slug) != nil {
		return Flow{}, fmt.Errorf("flow %q already exists", slug)
	}
	return *f.state.addFlow(slug, slug, designation), nil
}

// AddKeypair creates a keypair with a new self-signed certificate and a
// new RSA-2048 key. With withKey false the private key is dropped, as for
// an imported certificate.
func (f *Fake) AddKeypair(name string, withKey bool) (Keypair, error) {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return Keypair{}, fmt.Errorf("generate key for keypair %q: %w", name, err)
	}
	f.state.mu.Lock()
	defer f.state.mu.Unlock()
	if f.state.keypairByName(name) != nil {
		return Keypair{}, fmt.Errorf("keypair %q already exists", name)
	}
	kp, err := f.state.addKeypair(name, key)
	if err != nil {
		return Keypair{}, err
	}
	if !withKey {
		kp.Key = nil
	}
	return *kp, nil
}

// AddProvider stores a provider as given, for seeding: Type "oauth2" when
// empty, with authentik's defaults for empty OAuth2 settings and a
// generated client ID and secret when those are empty. Names must be
// unique across types. It returns the stored provider with its PK.
func (f *Fake) AddProvider(p Provider) (Provider, error) {
	f.state.mu.Lock()
	defer f.state.mu.Unlock()
	st := f.state
	if st.providerByName(p.Name) != nil {
		return Provider{}, fmt.Errorf("provider %q already exists", p.Name)
	}
	if p.Type == "" {
		p.Type = "oauth2"
	}
	if _, ok := providerKinds[p.Type]; !ok {
		return Provider{}, fmt.Errorf("provider type %q is not one of oauth2, saml or proxy", p.Type)
	}
	if p.Type == "oauth2" {
		d := newOAuth2Provider()
		for _, field := range []struct {
			dst *string
			def string
		}{
			{&p.ClientType, d.ClientType}, {&p.IssuerMode, d.IssuerMode}, {&p.SubMode, d.SubMode},
			{&p.AccessCodeValidity, d.AccessCodeValidity}, {&p.AccessTokenValidity, d.AccessTokenValidity},
			{&p.RefreshTokenValidity, d.RefreshTokenValidity}, {&p.RefreshTokenThreshold, d.RefreshTokenThreshold},
			{&p.LogoutMethod, d.LogoutMethod}, {&p.ClientID, randomID(40)}, {&p.ClientSecret, randomID(128)},
		} {
			if *field.dst == "" {
				*field.dst = field.def
			}
		}
	}
	if p.AuthorizationFlow == "" {
		p.AuthorizationFlow = st.flowBySlug(FlowImplicitConsent).PK
	}
	if p.InvalidationFlow == "" {
		p.InvalidationFlow = st.flowBySlug(FlowInvalidation).PK
	}
	p = p.clone()
	p.PK = st.nextProvider
	st.nextProvider++
	st.providers = append(st.providers, &p)
	return p.clone(), nil
}

// AddApplication stores an application that uses the provider with the
// given name ("" for none).
func (f *Fake) AddApplication(slug, name, providerName string) (Application, error) {
	f.state.mu.Lock()
	defer f.state.mu.Unlock()
	st := f.state
	if st.applicationBySlug(slug) != nil {
		return Application{}, fmt.Errorf("application %q already exists", slug)
	}
	a := &Application{PK: newUUID(), Slug: slug, Name: name, PolicyEngineMode: "any"}
	if providerName != "" {
		p := st.providerByName(providerName)
		if p == nil {
			return Application{}, fmt.Errorf("provider %q not found", providerName)
		}
		if st.applicationOf(p.PK) != nil {
			return Application{}, fmt.Errorf("provider %q already belongs to an application", providerName)
		}
		a.Provider = p.PK
	}
	st.applications = append(st.applications, a)
	return *a, nil
}

// BindGroup binds the named group to the application with the given slug.
func (f *Fake) BindGroup(slug, group string) (Binding, error) {
	f.state.mu.Lock()
	defer f.state.mu.Unlock()
	st := f.state
	app, g := st.applicationBySlug(slug), st.groupByName(group)
	if app == nil {
		return Binding{}, fmt.Errorf("application %q not found", slug)
	}
	if g == nil {
		return Binding{}, fmt.Errorf("group %q not found", group)
	}
	b := &Binding{PK: newUUID(), Target: app.PK, Group: g.PK, Enabled: true, Timeout: 30}
	st.bindings = append(st.bindings, b)
	return *b, nil
}

// UpdateBinding changes the policy binding with the primary key through fn,
// without any of the API's checks.
func (f *Fake) UpdateBinding(pk string, fn func(*Binding)) error {
	f.state.mu.Lock()
	defer f.state.mu.Unlock()
	for _, b := range f.state.bindings {
		if b.PK == pk {
			fn(b)
			return nil
		}
	}
	return fmt.Errorf("policy binding %q not found", pk)
}

// UpdateProvider changes the provider with the given name through fn,
// without any of the API's checks.
func (f *Fake) UpdateProvider(name string, fn func(*Provider)) error {
	f.state.mu.Lock()
	defer f.state.mu.Unlock()
	p := f.state.providerByName(name)
	if p == nil {
		return fmt.Errorf("provider %q not found", name)
	}
	fn(p)
	return nil
}

// UpdateApplication changes the application with the given slug through
// fn, without any of the API's checks.
func (f *Fake) UpdateApplication(slug string, fn func(*Application)) error {
	f.state.mu.Lock()
	defer f.state.mu.Unlock()
	a := f.state.applicationBySlug(slug)
	if a == nil {
		return fmt.Errorf("application %q not found", slug)
	}
	fn(a)
	return nil
}

// SetRedirectURIs replaces the redirect URIs of the named provider.
func (f *Fake) SetRedirectURIs(provider string, uris []RedirectURI) error {
	return f.UpdateProvider(provider, func(p *Provider) { p.RedirectURIs = slices.Clone(uris) })
}

// SetSigningKey makes the named provider sign with the named keypair, or
// with none (HS256 tokens) when keypair is "".
func (f *Fake) SetSigningKey(provider, keypair string) error {
	pk := ""
	if keypair != "" {
		k, ok := f.Keypair(keypair)
		if !ok {
			return fmt.Errorf("keypair %q not found", keypair)
		}
		pk = k.PK
	}
	return f.UpdateProvider(provider, func(p *Provider) { p.SigningKey = pk })
}

// RotateClientSecret gives the named provider a new 128-character client
// secret and returns it.
func (f *Fake) RotateClientSecret(provider string) (string, error) {
	secret := randomID(128)
	return secret, f.UpdateProvider(provider, func(p *Provider) { p.ClientSecret = secret })
}

// RemoveScopeMapping deletes the scope mapping whose managed key or name
// is key. Providers lose it from their property mappings.
func (f *Fake) RemoveScopeMapping(key string) error {
	f.state.mu.Lock()
	defer f.state.mu.Unlock()
	st := f.state
	var found *ScopeMapping
	for _, m := range st.mappings {
		if m.Managed == key || m.Name == key {
			found = m
			break
		}
	}
	if found == nil {
		return fmt.Errorf("scope mapping %q not found", key)
	}
	st.mappings = removeWhere(st.mappings, func(m *ScopeMapping) bool { return m == found })
	for _, p := range st.providers {
		p.PropertyMappings = removeWhere(p.PropertyMappings, func(pk string) bool { return pk == found.PK })
	}
	return nil
}

// DeleteApplication deletes the application with the given slug and its
// policy bindings.
func (f *Fake) DeleteApplication(slug string) error {
	f.state.mu.Lock()
	defer f.state.mu.Unlock()
	if !f.state.deleteApplication(slug) {
		return fmt.Errorf("application %q not found", slug)
	}
	return nil
}

// DeleteProvider deletes the named provider. Its application keeps
// existing without a provider.
func (f *Fake) DeleteProvider(name string) error {
	f.state.mu.Lock()
	defer f.state.mu.Unlock()
	p := f.state.providerByName(name)
	if p == nil {
		return fmt.Errorf("provider %q not found", name)
	}
	f.state.deleteProvider(p.PK)
	return nil
}

// DeleteGroup deletes the named group and its policy bindings.
func (f *Fake) DeleteGroup(name string) error {
	f.state.mu.Lock()
	defer f.state.mu.Unlock()
	st := f.state
	g := st.groupByName(name)
	if g == nil {
		return fmt.Errorf("group %q not found", name)
	}
	st.groups = removeWhere(st.groups, func(x *Group) bool { return x == g })
	st.bindings = removeWhere(st.bindings, func(b *Binding) bool { return b.Group == g.PK })
	return nil
}

// DeleteKeypair deletes the named keypair. Providers that signed or
// encrypted with it are left without a key, as authentik's SET_NULL does.
func (f *Fake) DeleteKeypair(name string) error {
	f.state.mu.Lock()
	defer f.state.mu.Unlock()
	st := f.state
	k := st.keypairByName(name)
	if k == nil {
		return fmt.Errorf("keypair %q not found", name)
	}
	st.keypairs = removeWhere(st.keypairs, func(x *Keypair) bool { return x == k })
	for _, p := range st.providers {
		if p.SigningKey == k.PK {
			p.SigningKey = ""
		}
		if p.EncryptionKey == k.PK {
			p.EncryptionKey = ""
		}
	}
	return nil
}

// DeleteBinding deletes the policy binding with the given PK.
func (f *Fake) DeleteBinding(pk string) error {
	f.state.mu.Lock()
	defer f.state.mu.Unlock()
	if f.state.bindingByPK(pk) == nil {
		return fmt.Errorf("policy binding %q not found", pk)
	}
	f.state.bindings = removeWhere(f.state.bindings, func(b *Binding) bool { return b.PK == pk })
	return nil
}
