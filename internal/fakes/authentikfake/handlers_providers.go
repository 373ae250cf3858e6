package authentikfake

import (
	"net/http"
	"slices"
	"strconv"
)

func handleProviderList(c *call) *response {
	st, q := c.f.state, c.query
	var items []map[string]any
	for _, p := range st.providers {
		if p.Type != "oauth2" {
			continue
		}
		app := st.applicationOf(p.PK)
		appPK, appName := "", ""
		if app != nil {
			appPK, appName = app.PK, app.Name
		}
		if !matchAll(
			filterEq(q.Get("name"), p.Name),
			filterEq(q.Get("client_id"), p.ClientID),
			filterEq(q.Get("client_type"), p.ClientType),
			filterEq(q.Get("application"), appPK),
			filterEq(q.Get("authorization_flow"), p.AuthorizationFlow),
			filterEq(q.Get("signing_key"), p.SigningKey),
			filterEq(q.Get("issuer_mode"), p.IssuerMode),
			filterEq(q.Get("sub_mode"), p.SubMode),
		) {
			continue
		}
		if v := q.Get("search"); v != "" && !contains(v, p.Name, appName) {
			continue
		}
		if want := q["property_mappings"]; len(want) > 0 && !slices.ContainsFunc(p.PropertyMappings, func(m string) bool { return slices.Contains(want, m) }) {
			continue
		}
		if v, ok := c.boolQuery("include_claims_in_id_token"); ok && v != p.IncludeClaimsInIDToken {
			continue
		}
		items = append(items, st.oauth2ProviderJSON(p))
	}
	return c.paginate(items)
}

func handleAllProviderList(c *call) *response {
	st := c.f.state
	var items []map[string]any
	for _, p := range st.providers {
		if v, ok := c.boolQuery("application__isnull"); ok && v != (st.applicationOf(p.PK) == nil) {
			continue
		}
		// No provider of the fake is a backchannel provider.
		if v, ok := c.boolQuery("backchannel"); ok && v {
			continue
		}
		if v := c.query.Get("search"); v != "" && !contains(v, p.Name) {
			continue
		}
		items = append(items, st.providerJSON(p))
	}
	return c.paginate(items)
}

// oauth2Provider returns the OAuth2 provider of the path's id, or nil.
func (c *call) oauth2Provider() *Provider {
	pk, err := strconv.Atoi(c.params["id"])
	if err != nil {
		return nil
	}
	p := c.f.state.providerByPK(pk)
	if p == nil || p.Type != "oauth2" {
		return nil
	}
	return p
}

func handleProviderRetrieve(c *call) *response {
	p := c.oauth2Provider()
	if p == nil {
		return jsonResponse(http.StatusNotFound, errNotFound)
	}
	return jsonResponse(http.StatusOK, c.f.state.oauth2ProviderJSON(p))
}

func handleProviderCreate(c *call) *response {
	return c.writeProvider(nil)
}

func handleProviderUpdate(c *call) *response {
	p := c.oauth2Provider()
	if p == nil {
		return jsonResponse(http.StatusNotFound, errNotFound)
	}
	return c.writeProvider(p)
}

func handleProviderDestroy(c *call) *response {
	p := c.oauth2Provider()
	if p == nil {
		return jsonResponse(http.StatusNotFound, errNotFound)
	}
	c.f.state.deleteProvider(p.PK)
	return jsonResponse(http.StatusNoContent, nil)
}

func handleProviderSetupURLs(c *call) *response {
	p := c.oauth2Provider()
	if p == nil {
		return jsonResponse(http.StatusNotFound, errNotFound)
	}
	app := c.f.state.applicationOf(p.PK)
	if app == nil {
		return jsonResponse(http.StatusNotFound, errNotFound)
	}
	base := c.f.BaseURL() + "/application/o/"
	return jsonResponse(http.StatusOK, map[string]any{
		"issuer":        base + app.Slug + "/",
		"authorize":     base + "authorize/",
		"token":         base + "token/",
		"user_info":     base + "userinfo/",
		"provider_info": base + app.Slug + "/.well-known/openid-configuration",
		"logout":        base + app.Slug + "/end-session/",
		"jwks":          base + app.Slug + "/jwks/",
	})
}

// newOAuth2Provider returns a provider with authentik's model defaults.
func newOAuth2Provider() Provider {
	return Provider{
		Type:                   "oauth2",
		ClientType:             "confidential",
		IncludeClaimsInIDToken: true,
		IssuerMode:             "per_provider",
		SubMode:                "hashed_user_id",
		AccessCodeValidity:     "minutes=1",
		AccessTokenValidity:    "hours=1",
		RefreshTokenValidity:   "days=30",
		RefreshTokenThreshold:  "seconds=0",
		LogoutMethod:           "backchannel",
	}
}

// writeProvider creates an OAuth2 provider (existing nil) or updates one.
// Properties absent from the body keep their values. Create and PUT also
// require name, authorization_flow, invalidation_flow and redirect_uris.
func (c *call) writeProvider(existing *Provider) *response {
	fs, err := decodeFields(c.body)
	if err != nil {
		return badBody(err)
	}
	p := newOAuth2Provider()
	if existing != nil {
		p = *existing
		p.PropertyMappings = slices.Clone(existing.PropertyMappings)
		p.RedirectURIs = slices.Clone(existing.RedirectURIs)
	}
	errs := fieldErrors{}
	if c.r.Method != http.MethodPatch {
		for _, req := range []string{"name", "authorization_flow", "invalidation_flow", "redirect_uris"} {
			if _, ok := fs[req]; !ok {
				errs.add(req, "This field is required.")
			}
		}
	}

	var uris []struct {
		MatchingMode string `json:"matching_mode"`
		URL          string `json:"url"`
	}
	for name, dst := range map[string]any{
		"name": &p.Name, "authorization_flow": &p.AuthorizationFlow,
		"invalidation_flow": &p.InvalidationFlow, "authentication_flow": &p.AuthenticationFlow,
		"property_mappings": &p.PropertyMappings, "client_type": &p.ClientType,
		"client_id": &p.ClientID, "client_secret": &p.ClientSecret,
		"signing_key": &p.SigningKey, "encryption_key": &p.EncryptionKey,
		"include_claims_in_id_token": &p.IncludeClaimsInIDToken,
		"issuer_mode":                &p.IssuerMode, "sub_mode": &p.SubMode,
		"access_code_validity": &p.AccessCodeValidity, "access_token_validity": &p.AccessTokenValidity,
		"refresh_token_validity": &p.RefreshTokenValidity, "refresh_token_threshold": &p.RefreshTokenThreshold,
		"logout_uri": &p.LogoutURI, "logout_method": &p.LogoutMethod,
		"redirect_uris": &uris,
	} {
		// A JSON null must clear a nullable field, so reset it first.
		if raw, ok := fs[name]; ok && string(raw) == "null" {
			if s, isString := dst.(*string); isString {
				*s = ""
			}
		}
		if _, err := fs.get(name, dst); err != nil {
			return badBody(err)
		}
	}
	if _, ok := fs["redirect_uris"]; ok {
		p.RedirectURIs = make([]RedirectURI, 0, len(uris))
		for _, u := range uris {
			p.RedirectURIs = append(p.RedirectURIs, RedirectURI{MatchingMode: u.MatchingMode, URL: u.URL})
		}
	}

	st := c.f.state
	for field, pk := range map[string]string{
		"authorization_flow": p.AuthorizationFlow, "invalidation_flow": p.InvalidationFlow,
		"authentication_flow": p.AuthenticationFlow,
	} {
		if pk != "" && st.flowByPK(pk) == nil {
			errs.add(field, invalidPK(pk))
		}
	}
	for field, pk := range map[string]string{"signing_key": p.SigningKey, "encryption_key": p.EncryptionKey} {
		if pk != "" && st.keypairByPK(pk) == nil {
			errs.add(field, invalidPK(pk))
		}
	}
	for _, pk := range p.PropertyMappings {
		if st.mappingByPK(pk) == nil {
			errs.add("property_mappings", invalidPK(pk))
		}
	}
	if other := st.providerByName(p.Name); other != nil && other != existing {
		errs.add("name", "Provider with this name already exists.")
	}
	if p.ClientID != "" {
		for _, other := range st.providers {
			if other != existing && other.Type == "oauth2" && other.ClientID == p.ClientID {
				errs.add("client_id", "OAuth2/OpenID Provider with this Client ID already exists.")
			}
		}
	}
	if resp := errs.response(); resp != nil {
		return resp
	}

	if existing != nil {
		*existing = p
		return jsonResponse(http.StatusOK, st.oauth2ProviderJSON(existing))
	}
	if _, ok := fs["client_id"]; !ok {
		p.ClientID = randomID(40)
	}
	if _, ok := fs["client_secret"]; !ok {
		p.ClientSecret = randomID(128)
	}
	p.PK = st.nextProvider
	st.nextProvider++
	st.providers = append(st.providers, &p)
	return jsonResponse(http.StatusCreated, st.oauth2ProviderJSON(&p))
}

// filterEq is one exact-match filter: it matches when want is empty (the
// parameter is absent) or equal to got.
func filterEq(want, got string) bool {
	return want == "" || want == got
}

func matchAll(results ...bool) bool {
	for _, ok := range results {
		if !ok {
			return false
		}
	}
	return true
}
