package authentik

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/meshauth/meshcentral-authentik-action/internal/change"
	"github.com/meshauth/meshcentral-authentik-action/internal/fakes/authentikfake"
)

// startFake serves a seeded fake over TLS on loopback and returns it with a
// client that trusts its CA through Config.CACertPEM. The client asks for
// pages of two items, so every list with more than two objects pages.
func startFake(t *testing.T) (*authentikfake.Server, *Client) {
	t.Helper()
	srv, err := authentikfake.Start(authentikfake.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		srv.Close()
		for _, v := range srv.Violations() {
			t.Errorf("contract violation: %s", v)
		}
	})
	return srv, newFakeClient(t, srv, authentikfake.DefaultToken)
}

func newFakeClient(t *testing.T, srv *authentikfake.Server, token string) *Client {
	t.Helper()
	u, err := url.Parse(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	c, err := New(Config{URL: u, Token: token, CACertPEM: string(srv.CACertPEM)})
	if err != nil {
		t.Fatal(err)
	}
	c.pageSize = 2
	return c
}

// raw sends one request to the fake as an admin would, outside the client
// under test, and decodes the JSON response.
func raw(t *testing.T, srv *authentikfake.Server, c *Client, method, path string, body any) map[string]any {
	t.Helper()
	var rd *bytes.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			t.Fatal(err)
		}
		rd = bytes.NewReader(b)
	} else {
		rd = bytes.NewReader(nil)
	}
	req, err := http.NewRequest(method, srv.URL+"/api/v3"+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+authentikfake.DefaultToken)
	req.Header.Set("Content-Type", "application/json")
	resp, err := c.api.GetConfig().HTTPClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&out)
	if resp.StatusCode >= 300 {
		t.Fatalf("%s %s: status %d: %v", method, path, resp.StatusCode, out)
	}
	return out
}

// writes returns the fake's non-GET API requests as "METHOD path".
func writes(srv *authentikfake.Server) []string {
	var out []string
	for _, r := range srv.Requests() {
		if r.Method != http.MethodGet {
			out = append(out, r.Method+" "+r.Path)
		}
	}
	return out
}

// bodyOf decodes the body of the last request matching method and path.
func bodyOf(t *testing.T, srv *authentikfake.Server, method, prefix string) map[string]any {
	t.Helper()
	reqs := srv.Requests()
	for i := len(reqs) - 1; i >= 0; i-- {
		if reqs[i].Method == method && strings.HasPrefix(reqs[i].Path, prefix) {
			var m map[string]any
			if err := json.Unmarshal(reqs[i].Body, &m); err != nil {
				t.Fatal(err)
			}
			return m
		}
	}
	t.Fatalf("no %s %s request", method, prefix)
	return nil
}

func keys(m map[string]any) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func pending(p *Plan) []string {
	var out []string
	for _, e := range p.Changes {
		if e.Changed() {
			out = append(out, e.Kind+" "+e.Field+" "+string(e.Action))
		}
	}
	return out
}

func mustPlan(t *testing.T, c *Client, d Desired) *Plan {
	t.Helper()
	p, err := c.Plan(context.Background(), d)
	if err != nil {
		t.Fatalf("Plan: %v", err)
	}
	return p
}

func mustApply(t *testing.T, c *Client, p *Plan) *Result {
	t.Helper()
	r, err := c.Apply(context.Background(), p)
	if err != nil {
		t.Fatalf("Apply: %v", err)
	}
	return r
}

func TestFreshCreateThenNoOp(t *testing.T) {
	t.Parallel()
	srv, c := startFake(t)
	d := testDesired()

	p := mustPlan(t, c, d)
	if p.ProviderExists {
		t.Error("ProviderExists = true on an empty server")
	}
	if p.ApplicationExists {
		t.Error("ApplicationExists = true on an empty server")
	}
	for _, e := range p.Changes {
		if e.Action != change.Create {
			t.Errorf("entry %s %s %s: action %s, want create", e.Kind, e.Name, e.Field, e.Action)
		}
	}
	if len(p.ClientID) != 40 {
		t.Errorf("client ID length = %d, want 40", len(p.ClientID))
	}
	if len(p.ClientSecret) != 128 {
		t.Errorf("client secret length = %d, want 128", len(p.ClientSecret))
	}
	if want := srv.URL + "/application/o/meshcentral/"; p.Issuer != want {
		t.Errorf("Issuer = %q, want %q", p.Issuer, want)
	}
	if n := len(writes(srv)); n != 0 {
		t.Fatalf("Plan made %d writes: %v", n, writes(srv))
	}
	assertNoRepeatedRequest(t, srv)

	res := mustApply(t, c, p)
	if !res.Changed {
		t.Error("Result.Changed = false after creating everything")
	}
	if res.ClientID != p.ClientID {
		t.Errorf("Result.ClientID = %q, want the plan's %q", res.ClientID, p.ClientID)
	}
	if res.ClientSecret != p.ClientSecret {
		t.Error("Result.ClientSecret differs from the plan's")
	}
	wantWrites := []string{"POST /api/v3/providers/oauth2/", "POST /api/v3/core/applications/", "POST /api/v3/policies/bindings/"}
	if got := writes(srv); !slices.Equal(got, wantWrites) {
		t.Errorf("writes = %v, want %v", got, wantWrites)
	}

	body := bodyOf(t, srv, http.MethodPost, "/api/v3/providers/oauth2/")
	if got := body["redirect_uris"]; !jsonEqual(got, []any{map[string]any{"matching_mode": "strict", "url": d.RedirectURI}}) {
		t.Errorf("redirect_uris = %v", got)
	}
	if body["client_type"] != "confidential" {
		t.Errorf("client_type = %v, want confidential", body["client_type"])
	}
	if body["include_claims_in_id_token"] != true {
		t.Errorf("include_claims_in_id_token = %v, want true", body["include_claims_in_id_token"])
	}
	if m, _ := body["property_mappings"].([]any); len(m) != 3 {
		t.Errorf("property_mappings = %v, want the three managed scopes", body["property_mappings"])
	}
	if body["signing_key"] == nil {
		t.Error("signing_key not sent")
	}
	if body["invalidation_flow"] == nil {
		t.Error("invalidation_flow not sent")
	}
	if body["client_id"] != p.ClientID {
		t.Errorf("client_id sent = %v, want the plan's", body["client_id"])
	}
	app := bodyOf(t, srv, http.MethodPost, "/api/v3/core/applications/")
	if app["meta_launch_url"] != d.LaunchURL {
		t.Errorf("meta_launch_url = %v, want %s", app["meta_launch_url"], d.LaunchURL)
	}
	if app["slug"] != d.ApplicationSlug {
		t.Errorf("slug = %v, want %s", app["slug"], d.ApplicationSlug)
	}

	// A second run finds everything in place and writes nothing.
	before := srv.WriteCount()
	again := mustPlan(t, c, d)
	if got := pending(again); len(got) != 0 {
		t.Errorf("second plan has pending changes: %v", got)
	}
	if again.ClientID != p.ClientID {
		t.Errorf("second plan ClientID = %q, want %q", again.ClientID, p.ClientID)
	}
	if again.ClientSecret != p.ClientSecret {
		t.Error("second plan reads another client secret")
	}
	if again.ProviderPK != res.ProviderPK {
		t.Errorf("second plan ProviderPK = %d, want %d", again.ProviderPK, res.ProviderPK)
	}
	res2 := mustApply(t, c, again)
	if res2.Changed {
		t.Error("second Apply reports a change")
	}
	if n := srv.WriteCount() - before; n != 0 {
		t.Errorf("second run made %d writes", n)
	}
}

// assertNoRepeatedRequest fails when the same request was sent twice.
func assertNoRepeatedRequest(t *testing.T, srv *authentikfake.Server) {
	t.Helper()
	seen := map[string]bool{}
	for _, r := range srv.Requests() {
		k := r.Method + " " + r.Path + "?" + r.Query
		if seen[k] {
			t.Errorf("request sent twice: %s", k)
		}
		seen[k] = true
	}
}

func jsonEqual(a, b any) bool {
	x, _ := json.Marshal(a)
	y, _ := json.Marshal(b)
	return bytes.Equal(x, y)
}

func TestPlanFollowsPagination(t *testing.T) {
	t.Parallel()
	srv, c := startFake(t)

	// The seed has four flows, so pages of two make two pages.
	mustPlan(t, c, testDesired())

	pages := map[string]bool{}
	for _, r := range srv.Requests() {
		if r.Path == "/api/v3/flows/instances/" {
			q, _ := url.ParseQuery(r.Query)
			pages[q.Get("page")] = true
		}
	}
	if !pages["1"] || !pages["2"] {
		t.Errorf("flow pages requested: %v, want 1 and 2", pages)
	}
}

func TestAdoptExistingAppAndProvider(t *testing.T) {
	t.Parallel()
	srv, c := startFake(t)
	d := testDesired()
	flows, _ := c.listFlows(context.Background())
	pk := func(slug string) string {
		for _, f := range flows {
			if f.Slug == slug {
				return f.Pk
			}
		}
		t.Fatalf("no flow %q", slug)
		return ""
	}

	// An admin made the provider by hand: explicit consent, no signing key,
	// no scope mappings, a regex redirect, and an application without a
	// launch URL.
	prov := raw(t, srv, c, http.MethodPost, "/providers/oauth2/", map[string]any{
		"name":               d.ProviderName,
		"authorization_flow": pk("default-provider-authorization-explicit-consent"),
		"invalidation_flow":  pk(d.InvalidationFlow),
		"redirect_uris":      []any{map[string]any{"matching_mode": "regex", "url": ".*"}},
	})
	raw(t, srv, c, http.MethodPost, "/core/applications/", map[string]any{
		"name": "Mesh", "slug": d.ApplicationSlug, "provider": prov["pk"],
	})
	wrote := srv.WriteCount()

	p := mustPlan(t, c, d)
	if !p.ProviderExists {
		t.Error("ProviderExists = false for an existing provider")
	}
	if !p.ApplicationExists {
		t.Error("ApplicationExists = false for an existing application")
	}
	if p.ClientID != prov["client_id"] {
		t.Errorf("ClientID = %q, want the existing %v", p.ClientID, prov["client_id"])
	}
	if p.ClientSecret != prov["client_secret"] {
		t.Error("ClientSecret is not the existing secret")
	}
	wantPending := []string{
		"authentik provider redirect_uris update",
		"authentik provider authorization_flow update",
		"authentik provider signing_key update",
		"authentik provider property_mappings update",
		"authentik application name update",
		"authentik application meta_launch_url update",
		"authentik policy binding application create",
	}
	if got := pending(p); !slices.Equal(got, wantPending) {
		t.Errorf("pending =\n%v\nwant\n%v", got, wantPending)
	}

	res := mustApply(t, c, p)
	if res.ProviderPK != int32(prov["pk"].(float64)) {
		t.Errorf("Result.ProviderPK = %d, want the existing %v", res.ProviderPK, prov["pk"])
	}
	if res.ClientID != p.ClientID {
		t.Errorf("Result.ClientID = %q, want the existing %q", res.ClientID, p.ClientID)
	}
	got := writes(srv)[wrote:]
	want := []string{
		"PATCH /api/v3/providers/oauth2/" + jsonNumber(prov["pk"]) + "/",
		"PATCH /api/v3/core/applications/meshcentral/",
		"POST /api/v3/policies/bindings/",
	}
	if !slices.Equal(got, want) {
		t.Errorf("writes = %v, want %v", got, want)
	}
	patch := bodyOf(t, srv, http.MethodPatch, "/api/v3/providers/oauth2/")
	if k := keys(patch); !slices.Equal(k, []string{"authorization_flow", "property_mappings", "redirect_uris", "signing_key"}) {
		t.Errorf("provider patch fields = %v", k)
	}
	if got := pending(mustPlan(t, c, d)); len(got) != 0 {
		t.Errorf("pending after apply: %v", got)
	}
}

func jsonNumber(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

func TestDriftedFieldPatchedAlone(t *testing.T) {
	t.Parallel()
	srv, c := startFake(t)
	d := testDesired()
	res := mustApply(t, c, mustPlan(t, c, d))

	// Someone edits the redirect URI and the launch URL in the admin UI.
	path := "/providers/oauth2/" + jsonNumber(res.ProviderPK) + "/"
	raw(t, srv, c, http.MethodPatch, path, map[string]any{
		"redirect_uris": []any{map[string]any{"matching_mode": "strict", "url": "https://old.example.test/cb"}},
	})
	raw(t, srv, c, http.MethodPatch, "/core/applications/meshcentral/", map[string]any{"meta_launch_url": "https://old.example.test/"})
	wrote := srv.WriteCount()

	p := mustPlan(t, c, d)
	want := []string{"authentik provider redirect_uris update", "authentik application meta_launch_url update"}
	if got := pending(p); !slices.Equal(got, want) {
		t.Fatalf("pending = %v, want %v", got, want)
	}
	for _, e := range p.Changes {
		if e.Field != "redirect_uris" {
			continue
		}
		if e.Before != "strict https://old.example.test/cb" {
			t.Errorf("redirect_uris Before = %q", e.Before)
		}
		if e.After != "strict "+d.RedirectURI {
			t.Errorf("redirect_uris After = %q", e.After)
		}
	}

	mustApply(t, c, p)
	if n := srv.WriteCount() - wrote; n != 2 {
		t.Errorf("writes = %d, want 2", n)
	}
	if k := keys(bodyOf(t, srv, http.MethodPatch, "/api/v3/providers/oauth2/")); !slices.Equal(k, []string{"redirect_uris"}) {
		t.Errorf("provider patch fields = %v, want [redirect_uris]", k)
	}
	if k := keys(bodyOf(t, srv, http.MethodPatch, "/api/v3/core/applications/")); !slices.Equal(k, []string{"meta_launch_url"}) {
		t.Errorf("application patch fields = %v, want [meta_launch_url]", k)
	}
}

func TestUnknownNamesListExistingOnes(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		edit  func(*Desired)
		parts []string
	}{
		{
			name: "unknown authorization flow",
			edit: func(d *Desired) { d.AuthorizationFlow = "no-such-flow" },
			parts: []string{`authorization-flow "no-such-flow": no such flow`,
				`"default-provider-authorization-explicit-consent", "default-provider-authorization-implicit-consent"`},
		},
		{
			name:  "invalidation flow used for authorization",
			edit:  func(d *Desired) { d.AuthorizationFlow = "default-provider-invalidation-flow" },
			parts: []string{`designation is "invalidation", not "authorization"`, "default-provider-authorization-implicit-consent"},
		},
		{
			name:  "unknown signing key",
			edit:  func(d *Desired) { d.SigningKey = "missing key" },
			parts: []string{`signing-key "missing key": no such certificate-keypair`, `"authentik Self-signed Certificate"`},
		},
		{
			name:  "signing key without private key",
			edit:  func(d *Desired) { d.SigningKey = authentikfake.KeypairCertOnly },
			parts: []string{"has no private key", `"authentik Self-signed Certificate"`},
		},
		{
			name:  "unknown group",
			edit:  func(d *Desired) { d.AllowedGroups = []string{"admins", "nobody"} },
			parts: []string{`no such group "nobody"; groups: "admins", "staff"`},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv, c := startFake(t)
			d := testDesired()
			tt.edit(&d)

			_, err := c.Plan(context.Background(), d)

			if err == nil {
				t.Fatal("Plan succeeded")
			}
			for _, part := range tt.parts {
				if !strings.Contains(err.Error(), part) {
					t.Errorf("error %q lacks %q", err, part)
				}
			}
			if n := srv.WriteCount(); n != 0 {
				t.Errorf("Plan made %d writes", n)
			}
		})
	}
}

func TestOldVersionRejected(t *testing.T) {
	t.Parallel()
	srv, c := startFake(t)
	srv.SetVersion("2024.10.2")

	_, err := c.Plan(context.Background(), testDesired())

	if err == nil || !strings.Contains(err.Error(), "authentik 2024.10.2 is older than 2024.10.3") {
		t.Errorf("error = %v, want a version error naming both versions", err)
	}
	if n := srv.WriteCount(); n != 0 {
		t.Errorf("Plan made %d writes", n)
	}
}

func TestConflictOnCreateAdopted(t *testing.T) {
	t.Parallel()
	srv, c := startFake(t)
	d := testDesired()

	// Both runs plan against an empty server; the other one applies first.
	mine := mustPlan(t, c, d)
	other := newFakeClient(t, srv, authentikfake.DefaultToken)
	theirs := mustApply(t, other, mustPlan(t, other, d))

	res, err := c.Apply(context.Background(), mine)
	if err != nil {
		t.Fatalf("Apply after a concurrent create: %v", err)
	}
	if res.ProviderPK != theirs.ProviderPK {
		t.Errorf("Result.ProviderPK = %d, want the concurrent run's %d", res.ProviderPK, theirs.ProviderPK)
	}
	if res.ClientID != theirs.ClientID {
		t.Errorf("Result.ClientID = %q, want the concurrent run's %q", res.ClientID, theirs.ClientID)
	}
	if res.ClientSecret != theirs.ClientSecret {
		t.Error("Result.ClientSecret is not the concurrent run's secret")
	}
	providers := raw(t, srv, c, http.MethodGet, "/providers/oauth2/?page_size=50", nil)
	if n := len(providers["results"].([]any)); n != 1 {
		t.Errorf("providers = %d, want 1", n)
	}
	bindings := raw(t, srv, c, http.MethodGet, "/policies/bindings/?page_size=50", nil)
	if n := len(bindings["results"].([]any)); n != 1 {
		t.Errorf("bindings = %d, want 1", n)
	}
}

func TestProviderOfAnotherAppRejected(t *testing.T) {
	t.Parallel()
	srv, c := startFake(t)
	d := testDesired()
	d.ApplicationSlug = "other-app"
	mustApply(t, c, mustPlan(t, c, d))
	wrote := srv.WriteCount()

	_, err := c.Plan(context.Background(), testDesired())

	if err == nil || !strings.Contains(err.Error(), `application "other-app" uses it already`) {
		t.Errorf("error = %v, want it to name the other application", err)
	}
	if n := srv.WriteCount() - wrote; n != 0 {
		t.Errorf("Plan made %d writes", n)
	}
}

func TestRotationPatchesSecretOnly(t *testing.T) {
	t.Parallel()
	srv, c := startFake(t)
	d := testDesired()
	first := mustApply(t, c, mustPlan(t, c, d))

	d.NewClientSecret = strings.Repeat("n", 64)
	p := mustPlan(t, c, d)

	want := []string{"authentik provider client_secret update"}
	if got := pending(p); !slices.Equal(got, want) {
		t.Fatalf("pending = %v, want %v", got, want)
	}
	for _, e := range p.Changes {
		if strings.Contains(e.Before+e.After, d.NewClientSecret) || strings.Contains(e.Before+e.After, first.ClientSecret) {
			t.Errorf("entry %s %s carries a secret", e.Kind, e.Field)
		}
	}
	res := mustApply(t, c, p)
	if res.ClientSecret != d.NewClientSecret {
		t.Error("Result.ClientSecret is not the new secret")
	}
	if k := keys(bodyOf(t, srv, http.MethodPatch, "/api/v3/providers/oauth2/")); !slices.Equal(k, []string{"client_secret"}) {
		t.Errorf("patch fields = %v, want [client_secret]", k)
	}
}

func TestSetClientSecretPatchesOnlySecret(t *testing.T) {
	t.Parallel()
	srv, c := startFake(t)
	res := mustApply(t, c, mustPlan(t, c, testDesired()))
	secret := strings.Repeat("z", 128)

	if err := c.SetClientSecret(context.Background(), res.ProviderPK, secret); err != nil {
		t.Fatal(err)
	}

	if k := keys(bodyOf(t, srv, http.MethodPatch, "/api/v3/providers/oauth2/")); !slices.Equal(k, []string{"client_secret"}) {
		t.Errorf("patch fields = %v, want [client_secret]", k)
	}
	if p := mustPlan(t, c, testDesired()); p.ClientSecret != secret {
		t.Error("the provider does not have the new secret")
	}
}

func TestOtherGroupBindingsWarnedAndKept(t *testing.T) {
	t.Parallel()
	srv, c := startFake(t)
	d := testDesired()
	d.AllowedGroups = []string{"admins", "staff"}
	mustApply(t, c, mustPlan(t, c, d))
	wrote := srv.WriteCount()

	d.AllowedGroups = []string{"admins"}
	p := mustPlan(t, c, d)
	res := mustApply(t, c, p)

	if got := pending(p); len(got) != 0 {
		t.Errorf("pending = %v, want none", got)
	}
	want := `the policy binding of group "staff" to application "meshcentral" is not in allowed-groups; it is left alone`
	if !slices.Contains(p.Warnings, want) {
		t.Errorf("warnings = %q, want %q", p.Warnings, want)
	}
	if res.Changed {
		t.Error("Result.Changed = true")
	}
	if srv.WriteCount() != wrote {
		t.Errorf("the staff binding was touched: writes %v", writes(srv)[wrote:])
	}
}

func TestNewBindingOrderAfterExisting(t *testing.T) {
	t.Parallel()
	srv, c := startFake(t)
	d := testDesired()
	mustApply(t, c, mustPlan(t, c, d))

	d.AllowedGroups = []string{"admins", "staff"}
	mustApply(t, c, mustPlan(t, c, d))

	body := bodyOf(t, srv, http.MethodPost, "/api/v3/policies/bindings/")
	if body["order"] != float64(1) {
		t.Errorf("order of the second binding = %v, want 1", body["order"])
	}
}

func TestPreflight(t *testing.T) {
	t.Parallel()
	srv, c := startFake(t)
	srv.SetToken("read-only", authentikfake.AccessReadOnly)
	srv.SetToken("no-access", authentikfake.AccessNone)

	id, err := c.Preflight(context.Background())
	if err != nil {
		t.Fatalf("Preflight with a full token: %v", err)
	}
	if id.Username != "akadmin" || id.Version != authentikfake.DefaultVersion {
		t.Errorf("Identity = %+v", id)
	}

	if _, err := newFakeClient(t, srv, "read-only").Preflight(context.Background()); err != nil {
		t.Errorf("Preflight with a read-only token: %v", err)
	}

	_, err = newFakeClient(t, srv, "no-access").Preflight(context.Background())
	if !isStatus(err, http.StatusForbidden) {
		t.Errorf("Preflight without access: %v, want a 403", err)
	}
	if err == nil || !strings.Contains(err.Error(), `lacks permission "authentik_flows.view_flow"`) {
		t.Errorf("Preflight without access: %v, want the permission named", err)
	}

	_, err = newFakeClient(t, srv, "wrong-token").Preflight(context.Background())
	if !isStatus(err, http.StatusUnauthorized) {
		t.Errorf("Preflight with a wrong token: %v, want a 401", err)
	}
	if err != nil && strings.Count(err.Error(), "401") != 1 {
		t.Errorf("Preflight with a wrong token: %v, want the 401 reported once", err)
	}
	if n := srv.WriteCount(); n != 0 {
		t.Errorf("Preflight made %d writes", n)
	}
}

func TestReadOnlyTokenApplyNamesPermission(t *testing.T) {
	t.Parallel()
	srv, _ := startFake(t)
	srv.SetToken("read-only", authentikfake.AccessReadOnly)
	c := newFakeClient(t, srv, "read-only")

	_, err := c.Apply(context.Background(), mustPlan(t, c, testDesired()))

	want := `create authentik provider "Provider for MeshCentral": 403 Forbidden: the token's user lacks permission "authentik_providers_oauth2.add_oauth2provider"`
	if err == nil || !strings.HasPrefix(err.Error(), want) {
		t.Errorf("error = %v\nwant prefix %s", err, want)
	}
}

func TestDuplicateBindingDeleted(t *testing.T) {
	t.Parallel()
	srv, c := startFake(t)
	d := testDesired()
	d.AllowedGroups = []string{"staff"}
	mustApply(t, c, mustPlan(t, c, d))
	// A concurrent run created the same binding again.
	if _, err := srv.BindGroup(d.ApplicationSlug, "staff"); err != nil {
		t.Fatal(err)
	}
	if n := len(srv.Bindings(d.ApplicationSlug)); n != 2 {
		t.Fatalf("%d bindings before the repair, want 2", n)
	}

	p := mustPlan(t, c, d)
	if got := pending(p); len(got) != 1 || !strings.Contains(got[0], "delete") {
		t.Errorf("pending = %v, want one delete", got)
	}
	mustApply(t, c, p)

	if n := len(srv.Bindings(d.ApplicationSlug)); n != 1 {
		t.Errorf("%d bindings after the repair, want 1", n)
	}
	if got := pending(mustPlan(t, c, d)); len(got) != 0 {
		t.Errorf("pending after the repair = %v, want none", got)
	}
}

func TestApplicationPointedBackAtItsProvider(t *testing.T) {
	t.Parallel()
	srv, c := startFake(t)
	d := testDesired()
	mustApply(t, c, mustPlan(t, c, d))
	if _, err := srv.AddProvider(authentikfake.Provider{Name: "Other"}); err != nil {
		t.Fatal(err)
	}
	other, _ := srv.Provider("Other")
	if err := srv.UpdateApplication(d.ApplicationSlug, func(a *authentikfake.Application) { a.Provider = other.PK }); err != nil {
		t.Fatal(err)
	}

	p := mustPlan(t, c, d)
	if got := pending(p); len(got) != 1 || !strings.Contains(got[0], "provider") {
		t.Errorf("pending = %v, want the application's provider updated", got)
	}
	mustApply(t, c, p)
	app, _ := srv.Application(d.ApplicationSlug)
	ours, _ := srv.Provider(d.ProviderName)
	if app.Provider != ours.PK {
		t.Errorf("application provider = %d, want %d", app.Provider, ours.PK)
	}
	if got := pending(mustPlan(t, c, d)); len(got) != 0 {
		t.Errorf("pending after the repair = %v", got)
	}
}

func TestUnknownClaimGroupWarns(t *testing.T) {
	t.Parallel()
	_, c := startFake(t)
	d := testDesired()
	d.ClaimGroups = []string{"admins", "admin"}
	p := mustPlan(t, c, d)
	joined := strings.Join(p.Warnings, "\n")
	if !strings.Contains(joined, `group "admin", which authentik does not have`) {
		t.Errorf("warnings = %q, want one for the unknown group", p.Warnings)
	}
	if !strings.Contains(joined, `similar groups: "admins"`) {
		t.Errorf("warnings = %q, want the similar group named", p.Warnings)
	}
	if strings.Contains(joined, `group "admins",`) {
		t.Errorf("warnings = %q name a group that exists", p.Warnings)
	}
}
