package authentikfake

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/meshauth/meshcentral-authentik-action/internal/fakes/oidcfake"
	api "goauthentik.io/api/v3"
)

// newAPIClient returns authentik's generated client aimed at s.
func newAPIClient(t *testing.T, s *Server) *api.APIClient {
	t.Helper()
	u, err := url.Parse(s.URL)
	if err != nil {
		t.Fatal(err)
	}
	cfg := api.NewConfiguration()
	cfg.Host = u.Host
	cfg.Scheme = u.Scheme
	cfg.HTTPClient = s.Client()
	cfg.AddDefaultHeader("Authorization", "Bearer "+DefaultToken)
	return api.NewAPIClient(cfg)
}

// allPages calls list for page 1, 2, ... until the pagination object has
// no next page, and returns every result.
func allPages[T any](t *testing.T, list func(page int32) ([]T, api.Pagination, error)) []T {
	t.Helper()
	var out []T
	for page := int32(1); ; {
		items, p, err := list(page)
		if err != nil {
			t.Fatalf("list page %d: %v", page, err)
		}
		out = append(out, items...)
		if p.Next == 0 {
			return out
		}
		page = int32(p.Next)
	}
}

// TestClientHappyPath drives the whole MeshCentral setup through the
// generated client, following pagination everywhere, and requires that
// the fake saw no contract violation on the way.
func TestClientHappyPath(t *testing.T) {
	s := startFake(t, Options{})
	c := newAPIClient(t, s)
	ctx := context.Background()

	version, _, err := c.AdminApi.AdminVersionRetrieve(ctx).Execute()
	if err != nil || version.VersionCurrent != DefaultVersion {
		t.Fatalf("version = %v, %v; want %s", version, err, DefaultVersion)
	}
	me, _, err := c.CoreApi.CoreUsersMeRetrieve(ctx).Execute()
	if err != nil || !me.User.IsSuperuser {
		t.Fatalf("users/me = %v, %v; want a superuser", me, err)
	}

	flows := allPages(t, func(page int32) ([]api.Flow, api.Pagination, error) {
		l, _, err := c.FlowsApi.FlowsInstancesList(ctx).Designation("authorization").Page(page).Execute()
		if err != nil {
			return nil, api.Pagination{}, err
		}
		return l.Results, l.Pagination, nil
	})
	if len(flows) != 2 {
		t.Errorf("authorization flows = %d, want 2", len(flows))
	}
	authz, _, err := c.FlowsApi.FlowsInstancesRetrieve(ctx, FlowImplicitConsent).Execute()
	if err != nil {
		t.Fatal(err)
	}
	inval, _, err := c.FlowsApi.FlowsInstancesList(ctx).Slug(FlowInvalidation).Execute()
	if err != nil || len(inval.Results) != 1 {
		t.Fatalf("invalidation flow: %v, %v", inval, err)
	}

	keys, _, err := c.CryptoApi.CryptoCertificatekeypairsList(ctx).Name(KeypairSelfSigned).HasKey(true).Execute()
	if err != nil || len(keys.Results) != 1 {
		t.Fatalf("signing key: %v, %v", keys, err)
	}
	key := keys.Results[0]

	mappings := allPages(t, func(page int32) ([]api.ScopeMapping, api.Pagination, error) {
		l, _, err := c.PropertymappingsApi.PropertymappingsProviderScopeList(ctx).
			Managed([]string{ScopeOpenID, ScopeEmail, ScopeProfile}).Page(page).Execute()
		if err != nil {
			return nil, api.Pagination{}, err
		}
		return l.Results, l.Pagination, nil
	})
	var mappingPKs []string
	for _, m := range mappings {
		mappingPKs = append(mappingPKs, m.Pk)
	}
	if len(mappingPKs) != 3 {
		t.Fatalf("managed mappings = %d, want 3", len(mappingPKs))
	}

	all, _, err := c.ProvidersApi.ProvidersAllList(ctx).Search("Provider for MeshCentral").Execute()
	if err != nil || len(all.Results) != 0 {
		t.Fatalf("providers/all before create: %v, %v", all, err)
	}

	req := api.NewOAuth2ProviderRequest("Provider for MeshCentral", authz.Pk, inval.Results[0].Pk,
		[]api.RedirectURIRequest{*api.NewRedirectURIRequest(api.MATCHINGMODEENUM_STRICT, "https://mesh.example.com/auth-oidc-callback")})
	req.SetClientType(api.CLIENTTYPEENUM_CONFIDENTIAL)
	req.SetSigningKey(key.Pk)
	req.SetPropertyMappings(mappingPKs)
	provider, _, err := c.ProvidersApi.ProvidersOauth2Create(ctx).OAuth2ProviderRequest(*req).Execute()
	if err != nil {
		t.Fatalf("create provider: %v", err)
	}

	appReq := api.NewApplicationRequest("MeshCentral", "meshcentral")
	appReq.SetProvider(provider.Pk)
	appReq.SetMetaLaunchUrl("https://mesh.example.com/")
	app, _, err := c.CoreApi.CoreApplicationsCreate(ctx).ApplicationRequest(*appReq).Execute()
	if err != nil {
		t.Fatalf("create application: %v", err)
	}
	if app.ProviderObj.Name != "Provider for MeshCentral" {
		t.Errorf("provider_obj.name = %q", app.ProviderObj.Name)
	}

	groups, _, err := c.CoreApi.CoreGroupsList(ctx).Name("admins").Execute()
	if err != nil || len(groups.Results) != 1 {
		t.Fatalf("group: %v, %v", groups, err)
	}
	binding := api.NewPolicyBindingRequest(app.Pk, 0)
	binding.SetGroup(groups.Results[0].Pk)
	created, _, err := c.PoliciesApi.PoliciesBindingsCreate(ctx).PolicyBindingRequest(*binding).Execute()
	if err != nil {
		t.Fatalf("create binding: %v", err)
	}
	bindings, _, err := c.PoliciesApi.PoliciesBindingsList(ctx).Target(app.Pk).Execute()
	if err != nil || len(bindings.Results) != 1 || bindings.Results[0].GroupObj.Name != "admins" {
		t.Fatalf("bindings of the application: %v, %v", bindings, err)
	}

	// A later run adopts what exists and changes one field.
	found, _, err := c.ProvidersApi.ProvidersOauth2List(ctx).Name("Provider for MeshCentral").Execute()
	if err != nil || len(found.Results) != 1 || found.Results[0].AssignedApplicationSlug != "meshcentral" {
		t.Fatalf("provider by name: %v, %v", found, err)
	}
	patch := api.NewPatchedOAuth2ProviderRequest()
	patch.SetRedirectUris([]api.RedirectURIRequest{*api.NewRedirectURIRequest(api.MATCHINGMODEENUM_STRICT, "https://mesh.example.com:8443/auth-oidc-callback")})
	if _, _, err := c.ProvidersApi.ProvidersOauth2PartialUpdate(ctx, provider.Pk).PatchedOAuth2ProviderRequest(*patch).Execute(); err != nil {
		t.Fatalf("patch provider: %v", err)
	}
	req.SetName("Provider for MeshCentral")
	if _, _, err := c.ProvidersApi.ProvidersOauth2Update(ctx, provider.Pk).OAuth2ProviderRequest(*req).Execute(); err != nil {
		t.Fatalf("put provider: %v", err)
	}
	urls, _, err := c.ProvidersApi.ProvidersOauth2SetupUrlsRetrieve(ctx, provider.Pk).Execute()
	if err != nil || urls.Issuer != s.URL+"/application/o/meshcentral/" {
		t.Fatalf("setup urls: %v, %v", urls, err)
	}
	if _, err := c.PoliciesApi.PoliciesBindingsDestroy(ctx, created.Pk).Execute(); err != nil {
		t.Fatalf("delete binding: %v", err)
	}
	if _, _, err := c.CoreApi.CoreApplicationsRetrieve(ctx, "meshcentral").Execute(); err != nil {
		t.Fatalf("retrieve application: %v", err)
	}

	assertNoViolations(t, s)

	stored, _ := s.Provider("Provider for MeshCentral")
	clients := s.OIDCClients()
	if len(clients) != 1 {
		t.Fatalf("OIDC clients = %d, want 1", len(clients))
	}
	got := clients[0]
	if got.Slug != "meshcentral" || got.ClientID != stored.ClientID || got.ClientSecret != stored.ClientSecret {
		t.Errorf("OIDC client = %+v, want slug meshcentral and the provider's credentials", got)
	}
	if got.SigningKey == nil || got.KeyID == "" {
		t.Error("OIDC client has no signing key; want the self-signed RSA key")
	}
	wantScopes := []string{"email", "openid", "profile"}
	slices.Sort(got.Scopes)
	if diff := cmp.Diff(wantScopes, got.Scopes); diff != "" {
		t.Errorf("scopes (-want +got):\n%s", diff)
	}
	wantURIs := []oidcfake.RedirectURI{{MatchingMode: "strict", URL: "https://mesh.example.com/auth-oidc-callback"}}
	if diff := cmp.Diff(wantURIs, got.RedirectURIs); diff != "" {
		t.Errorf("redirect URIs after the PUT (-want +got):\n%s", diff)
	}
	if len(got.AllowedGroups) != 0 {
		t.Errorf("allowed groups after deleting the binding = %q, want none", got.AllowedGroups)
	}
}

func TestClientSeesNotFound(t *testing.T) {
	s := startFake(t, Options{})
	c := newAPIClient(t, s)
	_, resp, err := c.CoreApi.CoreApplicationsRetrieve(context.Background(), "missing").Execute()
	if err == nil || resp == nil || resp.StatusCode != http.StatusNotFound {
		t.Fatalf("retrieve missing application: %v, %v; want 404", resp, err)
	}
	var body map[string]string
	if gerr, ok := err.(*api.GenericOpenAPIError); !ok || json.Unmarshal(gerr.Body(), &body) != nil || body["detail"] != "Not found." {
		t.Errorf("error body = %v, want detail Not found.", err)
	}
	assertNoViolations(t, s)
}
