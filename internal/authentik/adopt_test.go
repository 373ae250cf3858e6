package authentik

import (
	"context"
	"net/http"
	"strings"
	"testing"
)

// minimalRoutes serves the lookups Plan needs from a server that has the
// default flows, keypair, scope mappings and group, and nothing else.
func minimalRoutes() map[string]func(http.ResponseWriter, *http.Request) {
	empty := `{"pagination":{"next":0},"results":[]}`
	return map[string]func(http.ResponseWriter, *http.Request){
		"GET /api/v3/admin/version/": reply(http.StatusOK, `{"version_current":"2025.12.0"}`),
		"GET /api/v3/flows/instances/": reply(http.StatusOK, `{"pagination":{"next":0},"results":[
			{"pk":"f1","slug":"default-provider-authorization-implicit-consent","designation":"authorization"},
			{"pk":"f2","slug":"default-provider-invalidation-flow","designation":"invalidation"}]}`),
		"GET /api/v3/crypto/certificatekeypairs/": reply(http.StatusOK, `{"pagination":{"next":0},"results":[
			{"pk":"k1","name":"authentik Self-signed Certificate","private_key_available":true,"key_type":"rsa"},
			{"pk":"k2","name":"ec key","private_key_available":true,"key_type":"ec"}]}`),
		"GET /api/v3/propertymappings/provider/scope/": reply(http.StatusOK, `{"pagination":{"next":0},"results":[
			{"pk":"m1","name":"openid","managed":"goauthentik.io/providers/oauth2/scope-openid"},
			{"pk":"m2","name":"email","managed":"goauthentik.io/providers/oauth2/scope-email"},
			{"pk":"m3","name":"profile","managed":"goauthentik.io/providers/oauth2/scope-profile"}]}`),
		"GET /api/v3/core/groups/":       reply(http.StatusOK, `{"pagination":{"next":0},"results":[{"pk":"g1","name":"admins"}]}`),
		"GET /api/v3/providers/oauth2/":  reply(http.StatusOK, empty),
		"GET /api/v3/providers/all/":     reply(http.StatusOK, empty),
		"GET /api/v3/policies/bindings/": reply(http.StatusOK, empty),
	}
}

func TestPlanAdoptionErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		routes map[string]func(http.ResponseWriter, *http.Request)
		edit   func(*Desired)
		want   string
	}{
		{
			name: "application uses a SAML provider",
			routes: map[string]func(http.ResponseWriter, *http.Request){
				"GET /api/v3/core/applications/meshcentral/": reply(http.StatusOK, `{"pk":"a1","slug":"meshcentral","name":"Mesh",
					"provider":4,"provider_obj":{"pk":4,"name":"Mesh SAML","verbose_name":"SAML Provider",
					"meta_model_name":"authentik_providers_saml.samlprovider"}}`),
			},
			want: `adopt authentik application "meshcentral": it uses provider "Mesh SAML" of type "SAML Provider", not an OAuth2/OpenID provider`,
		},
		{
			name: "provider name taken by another type",
			routes: map[string]func(http.ResponseWriter, *http.Request){
				"GET /api/v3/providers/all/": reply(http.StatusOK, `{"pagination":{"next":0},"results":[
					{"pk":9,"name":"Provider for MeshCentral","verbose_name":"Proxy Provider",
					 "meta_model_name":"authentik_providers_proxy.proxyprovider"}]}`),
			},
			want: `adopt authentik provider "Provider for MeshCentral": the name belongs to a provider of type "Proxy Provider" (pk 9)`,
		},
		{
			name: "application provider differs from the named one",
			routes: map[string]func(http.ResponseWriter, *http.Request){
				"GET /api/v3/core/applications/meshcentral/": reply(http.StatusOK, `{"pk":"a1","slug":"meshcentral","name":"Mesh",
					"provider":4,"provider_obj":{"pk":4,"name":"Old provider",
					"meta_model_name":"authentik_providers_oauth2.oauth2provider"}}`),
				"GET /api/v3/providers/all/": reply(http.StatusOK, `{"pagination":{"next":0},"results":[
					{"pk":5,"name":"Provider for MeshCentral","assigned_application_slug":"grafana",
					 "meta_model_name":"authentik_providers_oauth2.oauth2provider"}]}`),
			},
			want: `it uses provider "Old provider", and the provider-name "Provider for MeshCentral" belongs to provider pk 5, which application "grafana" uses`,
		},
		{
			name: "EC signing key",
			edit: func(d *Desired) { d.SigningKey = "ec key" },
			want: `resolve signing-key "ec key": its key type is "ec"`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			routes := minimalRoutes()
			for k, v := range tt.routes {
				routes[k] = v
			}
			c, rec := newRecorded(t, routes)
			d := testDesired()
			if tt.edit != nil {
				tt.edit(&d)
			}

			_, err := c.Plan(context.Background(), d)

			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error = %v\nwant it to contain %s", err, tt.want)
			}
			for _, r := range rec.requests() {
				if !strings.HasPrefix(r, "GET ") {
					t.Errorf("Plan sent %s", r)
				}
			}
		})
	}
}

func TestPlanAppWithoutProviderAdoptsNamedOne(t *testing.T) {
	t.Parallel()
	routes := minimalRoutes()
	routes["GET /api/v3/core/applications/meshcentral/"] = reply(http.StatusOK,
		`{"pk":"a1","slug":"meshcentral","name":"MeshCentral","provider":null,"meta_launch_url":"https://mesh.example.test/"}`)
	routes["GET /api/v3/providers/all/"] = reply(http.StatusOK, `{"pagination":{"next":0},"results":[
		{"pk":5,"name":"Provider for MeshCentral","meta_model_name":"authentik_providers_oauth2.oauth2provider"}]}`)
	routes["GET /api/v3/providers/oauth2/5/"] = reply(http.StatusOK, `{"pk":5,"name":"Provider for MeshCentral","client_id":"existing-id","client_secret":"existing-secret",
		 "client_type":"confidential","authorization_flow":"f1","invalidation_flow":"f2","signing_key":"k1",
		 "property_mappings":["m1","m2","m3","extra"],"include_claims_in_id_token":true,
		 "redirect_uris":[{"matching_mode":"strict","url":"https://mesh.example.test/auth-oidc-callback"}]}`)
	c, _ := newRecorded(t, routes)

	p, err := c.Plan(context.Background(), testDesired())
	if err != nil {
		t.Fatal(err)
	}

	if p.ProviderPK != 5 {
		t.Errorf("ProviderPK = %d, want 5", p.ProviderPK)
	}
	if p.ClientID != "existing-id" {
		t.Errorf("ClientID = %q, want existing-id", p.ClientID)
	}
	want := []string{"authentik application provider update", "authentik policy binding application create"}
	got := pending(p)
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("pending = %v, want %v", got, want)
	}
	for _, e := range p.Changes {
		if e.Field == "property_mappings" && !strings.Contains(e.After, "extra") {
			t.Errorf("property_mappings After = %q, want the extra mapping kept", e.After)
		}
	}
}
