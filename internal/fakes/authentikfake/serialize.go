package authentikfake

import (
	"crypto/sha1"
	"crypto/sha256"
	"encoding/hex"
	"net/url"
	"time"
)

// The functions below turn stored objects into the JSON objects authentik's
// serializers produce, with every field the schema requires. The caller
// holds state.mu.

// providerKinds maps a provider type to authentik's component, model name
// and verbose names.
var providerKinds = map[string][4]string{
	"oauth2": {"ak-provider-oauth2-form", "authentik_providers_oauth2.oauth2provider", "OAuth2/OpenID Provider", "OAuth2/OpenID Providers"},
	"saml":   {"ak-provider-saml-form", "authentik_providers_saml.samlprovider", "SAML Provider", "SAML Providers"},
	"proxy":  {"ak-provider-proxy-form", "authentik_providers_proxy.proxyprovider", "Proxy Provider", "Proxy Providers"},
}

func nullable(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// providerJSON is the Provider serializer shared by every provider type.
func (s *state) providerJSON(p *Provider) map[string]any {
	kind := providerKinds[p.Type]
	appSlug, appName := "", ""
	if app := s.applicationOf(p.PK); app != nil {
		appSlug, appName = app.Slug, app.Name
	}
	return map[string]any{
		"pk":                                    p.PK,
		"name":                                  p.Name,
		"authentication_flow":                   nullable(p.AuthenticationFlow),
		"authorization_flow":                    p.AuthorizationFlow,
		"invalidation_flow":                     p.InvalidationFlow,
		"property_mappings":                     nonNil(p.PropertyMappings),
		"component":                             kind[0],
		"meta_model_name":                       kind[1],
		"verbose_name":                          kind[2],
		"verbose_name_plural":                   kind[3],
		"assigned_application_slug":             appSlug,
		"assigned_application_name":             appName,
		"assigned_backchannel_application_slug": "",
		"assigned_backchannel_application_name": "",
	}
}

func (s *state) oauth2ProviderJSON(p *Provider) map[string]any {
	m := s.providerJSON(p)
	uris := make([]map[string]any, 0, len(p.RedirectURIs))
	for _, u := range p.RedirectURIs {
		uris = append(uris, map[string]any{"matching_mode": u.MatchingMode, "url": u.URL})
	}
	m["client_type"] = p.ClientType
	m["client_id"] = p.ClientID
	m["client_secret"] = p.ClientSecret
	m["redirect_uris"] = uris
	m["signing_key"] = nullable(p.SigningKey)
	m["encryption_key"] = nullable(p.EncryptionKey)
	m["include_claims_in_id_token"] = p.IncludeClaimsInIDToken
	m["issuer_mode"] = p.IssuerMode
	m["sub_mode"] = p.SubMode
	m["access_code_validity"] = p.AccessCodeValidity
	m["access_token_validity"] = p.AccessTokenValidity
	m["refresh_token_validity"] = p.RefreshTokenValidity
	m["refresh_token_threshold"] = p.RefreshTokenThreshold
	m["logout_uri"] = p.LogoutURI
	m["logout_method"] = p.LogoutMethod
	m["jwt_federation_sources"] = []string{}
	m["jwt_federation_providers"] = []int{}
	return m
}

func (s *state) applicationJSON(a *Application) map[string]any {
	var provider, providerObj any
	launch := a.MetaLaunchURL
	if p := s.providerByPK(a.Provider); p != nil {
		provider, providerObj = p.PK, s.providerJSON(p)
		if launch == "" {
			launch = providerLaunchURL(p)
		}
	}
	return map[string]any{
		"pk":                        a.PK,
		"name":                      a.Name,
		"slug":                      a.Slug,
		"provider":                  provider,
		"provider_obj":              providerObj,
		"backchannel_providers":     []int{},
		"backchannel_providers_obj": []any{},
		"launch_url":                nullable(launch),
		"open_in_new_tab":           a.OpenInNewTab,
		"meta_launch_url":           a.MetaLaunchURL,
		"meta_icon":                 nil,
		"meta_description":          a.MetaDescription,
		"meta_publisher":            a.MetaPublisher,
		"policy_engine_mode":        a.PolicyEngineMode,
		"group":                     a.Group,
	}
}

// providerLaunchURL is the launch URL authentik derives from an OAuth2
// provider without one of its own: the origin of its first strict redirect
// URI.
func providerLaunchURL(p *Provider) string {
	for _, r := range p.RedirectURIs {
		if r.MatchingMode != "strict" {
			continue
		}
		u, err := url.Parse(r.URL)
		if err != nil || u.Scheme == "" || u.Host == "" {
			continue
		}
		return u.Scheme + "://" + u.Host
	}
	return ""
}

func flowJSON(f *Flow) map[string]any {
	auth := "none"
	if f.Designation == DesignationAuthorization {
		auth = "require_authenticated"
	}
	return map[string]any{
		"pk":                        f.PK,
		"policybindingmodel_ptr_id": f.PK,
		"name":                      f.Name,
		"slug":                      f.Slug,
		"title":                     f.Title,
		"designation":               f.Designation,
		"background":                "/static/dist/assets/images/flow_background.jpg",
		"stages":                    []string{},
		"policies":                  []string{},
		"cache_count":               0,
		"policy_engine_mode":        "any",
		"compatibility_mode":        false,
		"export_url":                "/api/v3/flows/instances/" + f.Slug + "/export/",
		"layout":                    "stacked",
		"denied_action":             "message_continue",
		"authentication":            auth,
	}
}

// keypairJSON leaves the certificate details null when details is false,
// as authentik does for include_details=false.
func keypairJSON(k *Keypair, details bool) map[string]any {
	m := map[string]any{
		"pk":                       k.PK,
		"name":                     k.Name,
		"private_key_available":    k.Key != nil,
		"managed":                  nullable(k.Managed),
		"certificate_download_url": "/api/v3/crypto/certificatekeypairs/" + k.PK + "/view_certificate/?download",
		"private_key_download_url": "/api/v3/crypto/certificatekeypairs/" + k.PK + "/view_private_key/?download",
		"fingerprint_sha256":       nil,
		"fingerprint_sha1":         nil,
		"cert_expiry":              nil,
		"cert_subject":             nil,
		"key_type":                 nil,
	}
	if details {
		s256 := sha256.Sum256(k.Cert.Raw)
		s1 := sha1.Sum(k.Cert.Raw)
		m["fingerprint_sha256"] = hex.EncodeToString(s256[:])
		m["fingerprint_sha1"] = hex.EncodeToString(s1[:])
		m["cert_expiry"] = k.Cert.NotAfter.UTC().Format(time.RFC3339)
		m["cert_subject"] = k.Cert.Subject.String()
		m["key_type"] = "rsa"
	}
	return m
}

func mappingJSON(m *ScopeMapping) map[string]any {
	return map[string]any{
		"pk":                  m.PK,
		"managed":             nullable(m.Managed),
		"name":                m.Name,
		"expression":          m.Expression,
		"component":           "ak-property-mapping-provider-scope-form",
		"verbose_name":        "Scope Mapping",
		"verbose_name_plural": "Scope Mappings",
		"meta_model_name":     "authentik_providers_oauth2.scopemapping",
		"scope_name":          m.ScopeName,
		"description":         m.Description,
	}
}

func groupJSON(g *Group, includeUsers, includeChildren bool) map[string]any {
	var users, children any
	if includeUsers {
		users = []any{}
	}
	if includeChildren {
		children = []any{}
	}
	return map[string]any{
		"pk":           g.PK,
		"num_pk":       g.NumPK,
		"name":         g.Name,
		"is_superuser": false,
		"parent":       nil,
		"parent_name":  nil,
		"users":        []int{},
		"users_obj":    users,
		"attributes":   map[string]any{},
		"roles":        []string{},
		"roles_obj":    []any{},
		"children":     []string{},
		"children_obj": children,
	}
}

func (s *state) bindingJSON(b *Binding) map[string]any {
	m := map[string]any{
		"pk":             b.PK,
		"policy":         nullable(b.Policy),
		"group":          nullable(b.Group),
		"user":           nil,
		"policy_obj":     nil,
		"group_obj":      nil,
		"user_obj":       nil,
		"target":         b.Target,
		"negate":         b.Negate,
		"enabled":        b.Enabled,
		"order":          b.Order,
		"timeout":        b.Timeout,
		"failure_result": b.FailureResult,
	}
	if b.User != 0 {
		m["user"] = b.User
		m["user_obj"] = map[string]any{
			"pk": b.User, "username": "akadmin", "name": "authentik Default Admin",
			"uid":       "0f9a1b2c3d4e5f60718293a4b5c6d7e8f9a0b1c2d3e4f5a6b7c8d9e0f1a2b3c4",
			"is_active": true, "email": "akadmin@example.com", "attributes": map[string]any{}, "last_login": nil,
		}
	}
	if g := s.groupByPK(b.Group); g != nil {
		m["group_obj"] = map[string]any{
			"pk": g.PK, "num_pk": g.NumPK, "name": g.Name, "is_superuser": false,
			"parent": nil, "parent_name": nil, "attributes": map[string]any{},
		}
	}
	return m
}

func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}
