package authentikfake

import (
	"net/http"
	"net/http/httptest"
	"slices"

	"github.com/meshauth/meshcentral-authentik-action/internal/fakes/oidcfake"
)

// serveOIDC passes a request under /application/o/ to the OIDC handler,
// built on first use with the base URL known by then.
func (f *Fake) serveOIDC(r *http.Request) *response {
	f.mu.Lock()
	if f.oidc == nil {
		f.oidc = oidcfake.NewHandler(f.baseURL, f.OIDCClients, f.User)
	}
	h := f.oidc
	f.mu.Unlock()

	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, r)
	header := rec.Header().Clone()
	contentType := header.Get("Content-Type")
	header.Del("Content-Type")
	return &response{status: rec.Code, contentType: contentType, body: rec.Body.Bytes(), header: header}
}

// OIDCClients returns the OAuth2 view of every application that has an
// OAuth2 provider: its credentials and redirect URIs, the signing
// keypair's key when it has a private key, the scope names of its property
// mappings, and the groups bound to the application by enabled,
// non-negated bindings.
func (f *Fake) OIDCClients() []oidcfake.Client {
	st := f.state
	st.mu.Lock()
	defer st.mu.Unlock()
	var clients []oidcfake.Client
	for _, app := range st.applications {
		p := st.providerByPK(app.Provider)
		if p == nil || p.Type != "oauth2" {
			continue
		}
		c := oidcfake.Client{
			Slug:         app.Slug,
			ClientID:     p.ClientID,
			ClientSecret: p.ClientSecret,
			ClientType:   p.ClientType,
		}
		for _, u := range p.RedirectURIs {
			c.RedirectURIs = append(c.RedirectURIs, oidcfake.RedirectURI{MatchingMode: u.MatchingMode, URL: u.URL})
		}
		if kp := st.keypairByPK(p.SigningKey); kp != nil && kp.Key != nil {
			c.SigningKey, c.KeyID = kp.Key, kp.KeyID()
		}
		for _, pk := range p.PropertyMappings {
			if m := st.mappingByPK(pk); m != nil && !slices.Contains(c.Scopes, m.ScopeName) {
				c.Scopes = append(c.Scopes, m.ScopeName)
			}
		}
		for _, b := range st.bindings {
			if b.Target != app.PK || !b.Enabled || b.Negate {
				continue
			}
			if g := st.groupByPK(b.Group); g != nil {
				c.AllowedGroups = append(c.AllowedGroups, g.Name)
			}
		}
		clients = append(clients, c)
	}
	return clients
}

// SetUser changes who signs in through the OIDC endpoints. The default is
// "akadmin", a member of "admins".
func (f *Fake) SetUser(u oidcfake.User) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.user = u
}

// User returns who signs in through the OIDC endpoints.
func (f *Fake) User() oidcfake.User {
	f.mu.Lock()
	defer f.mu.Unlock()
	u := f.user
	u.Groups = slices.Clone(u.Groups)
	return u
}
