package authentikfake

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// startFake serves a fresh fake over TLS for one test.
func startFake(t *testing.T, opts Options) *Server {
	t.Helper()
	s, err := Start(opts)
	if err != nil {
		t.Fatalf("start fake: %v", err)
	}
	t.Cleanup(s.Close)
	return s
}

// do sends one API request with the default token and returns the status
// and the decoded JSON body (nil when empty).
func do(t *testing.T, s *Server, method, path string, body any) (int, map[string]any) {
	t.Helper()
	return doToken(t, s, DefaultToken, method, path, body)
}

func doToken(t *testing.T, s *Server, token, method, path string, body any) (int, map[string]any) {
	t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	default:
		raw, err := json.Marshal(b)
		if err != nil {
			t.Fatalf("encode body: %v", err)
		}
		rd = bytes.NewReader(raw)
	}
	req, err := http.NewRequest(method, s.APIURL()+path, rd)
	if err != nil {
		t.Fatalf("build request: %v", err)
	}
	if rd != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := s.Client().Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("read response: %v", err)
	}
	var out map[string]any
	if len(raw) > 0 {
		if err := json.Unmarshal(raw, &out); err != nil {
			t.Fatalf("%s %s: decode %q: %v", method, path, raw, err)
		}
	}
	return resp.StatusCode, out
}

// providerBody is a valid create request for an OAuth2 provider.
func providerBody(t *testing.T, s *Server, name string) map[string]any {
	t.Helper()
	authz, _ := s.Flow(FlowImplicitConsent)
	inval, _ := s.Flow(FlowInvalidation)
	return map[string]any{
		"name":               name,
		"authorization_flow": authz.PK,
		"invalidation_flow":  inval.PK,
		"redirect_uris":      []map[string]any{{"matching_mode": "strict", "url": "https://mesh.example.com/auth-oidc-callback"}},
	}
}

func assertNoViolations(t *testing.T, s *Server) {
	t.Helper()
	if v := s.Violations(); len(v) > 0 {
		t.Errorf("contract violations:\n%s", strings.Join(v, "\n"))
	}
}

func TestSchemaRejectsRedirectURIsAsString(t *testing.T) {
	s := startFake(t, Options{})
	body := providerBody(t, s, "Provider for MeshCentral")
	body["redirect_uris"] = "https://mesh.example.com/auth-oidc-callback"

	status, _ := do(t, s, http.MethodPost, "/providers/oauth2/", body)
	if status != http.StatusBadRequest {
		t.Fatalf("status = %d, want 400", status)
	}
	v := s.Violations()
	if len(v) != 1 || !strings.Contains(v[0], "request does not match the schema") || !strings.Contains(v[0], "redirect_uris") {
		t.Errorf("violations = %q, want one about redirect_uris in the request", v)
	}
	if got := s.Providers(); len(got) != 0 {
		t.Errorf("providers after a rejected create = %d, want 0", len(got))
	}
}

func TestSchemaAcceptsValidCreate(t *testing.T) {
	s := startFake(t, Options{})
	status, got := do(t, s, http.MethodPost, "/providers/oauth2/", providerBody(t, s, "Provider for MeshCentral"))
	if status != http.StatusCreated {
		t.Fatalf("status = %d (%v), want 201", status, got)
	}
	assertNoViolations(t, s)
	want := []any{map[string]any{"matching_mode": "strict", "url": "https://mesh.example.com/auth-oidc-callback"}}
	if diff := cmp.Diff(want, got["redirect_uris"]); diff != "" {
		t.Errorf("redirect_uris (-want +got):\n%s", diff)
	}
}

func TestSchemaRejectsBadUUID(t *testing.T) {
	s := startFake(t, Options{})
	body := providerBody(t, s, "P")
	body["authorization_flow"] = FlowImplicitConsent // a slug where a UUID belongs
	if status, _ := do(t, s, http.MethodPost, "/providers/oauth2/", body); status != http.StatusBadRequest {
		t.Fatalf("status = %d, want 400", status)
	}
	if len(s.Violations()) != 1 {
		t.Errorf("violations = %q, want one", s.Violations())
	}
}

func TestInvalidationFlowRequired(t *testing.T) {
	s := startFake(t, Options{})
	body := providerBody(t, s, "P")
	delete(body, "invalidation_flow")

	status, got := do(t, s, http.MethodPost, "/providers/oauth2/", body)
	if status != http.StatusBadRequest {
		t.Fatalf("create status = %d, want 400", status)
	}
	want := map[string]any{"invalidation_flow": []any{"This field is required."}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("create error body (-want +got):\n%s", diff)
	}

	p, err := s.AddProvider(Provider{Name: "Existing"})
	if err != nil {
		t.Fatal(err)
	}
	status, got = do(t, s, http.MethodPut, "/providers/oauth2/"+itoa(p.PK)+"/", body)
	if status != http.StatusBadRequest {
		t.Fatalf("full update status = %d, want 400", status)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("full update error body (-want +got):\n%s", diff)
	}

	// A partial update may leave it out.
	status, _ = do(t, s, http.MethodPatch, "/providers/oauth2/"+itoa(p.PK)+"/", map[string]any{"name": "Renamed"})
	if status != http.StatusOK {
		t.Errorf("partial update status = %d, want 200", status)
	}
	if _, ok := s.Provider("Renamed"); !ok {
		t.Error("partial update did not rename the provider")
	}
}

func TestGeneratedCredentials(t *testing.T) {
	s := startFake(t, Options{})
	_, got := do(t, s, http.MethodPost, "/providers/oauth2/", providerBody(t, s, "P"))
	id, _ := got["client_id"].(string)
	secret, _ := got["client_secret"].(string)
	if len(id) != 40 || !alphanumeric(id) {
		t.Errorf("client_id %q: want 40 letters and digits", id)
	}
	if len(secret) != 128 || !alphanumeric(secret) {
		t.Errorf("client_secret of length %d: want 128 letters and digits", len(secret))
	}
	if got["client_type"] != "confidential" || got["signing_key"] != nil {
		t.Errorf("defaults: client_type %v, signing_key %v; want confidential and null", got["client_type"], got["signing_key"])
	}
}

func alphanumeric(s string) bool {
	for _, r := range s {
		if !strings.ContainsRune(idAlphabet, r) {
			return false
		}
	}
	return true
}

func TestUniqueness(t *testing.T) {
	s := startFake(t, Options{})
	if _, err := s.AddProvider(Provider{Type: "saml", Name: "Taken"}); err != nil {
		t.Fatal(err)
	}
	first, err := s.AddProvider(Provider{Name: "First", ClientID: "fixed-client-id"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.AddApplication("existing", "Existing", "First"); err != nil {
		t.Fatal(err)
	}

	second := providerBody(t, s, "Second")
	second["client_id"] = "fixed-client-id"
	dupName := providerBody(t, s, "Taken")
	tests := []struct {
		name       string
		method     string
		path       string
		body       map[string]any
		wantStatus int
		wantField  string
	}{
		{"provider name across types", http.MethodPost, "/providers/oauth2/", dupName, 400, "name"},
		{"client id", http.MethodPost, "/providers/oauth2/", second, 400, "client_id"},
		{"application slug", http.MethodPost, "/core/applications/", map[string]any{"name": "Other", "slug": "existing"}, 400, "slug"},
		{"provider of another application", http.MethodPost, "/core/applications/", map[string]any{"name": "Other", "slug": "other", "provider": first.PK}, 400, "provider"},
		{"unknown provider", http.MethodPost, "/core/applications/", map[string]any{"name": "Other", "slug": "other", "provider": 999}, 400, "provider"},
		{"same application keeps its provider", http.MethodPatch, "/core/applications/existing/", map[string]any{"provider": first.PK}, 200, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, got := do(t, s, tt.method, tt.path, tt.body)
			if status != tt.wantStatus {
				t.Fatalf("status = %d (%v), want %d", status, got, tt.wantStatus)
			}
			if tt.wantField == "" {
				return
			}
			if msgs, ok := got[tt.wantField].([]any); !ok || len(msgs) == 0 {
				t.Errorf("body %v: want messages under %q", got, tt.wantField)
			}
		})
	}
	if n := len(s.Providers()); n != 2 {
		t.Errorf("providers = %d, want the 2 seeded", n)
	}
	assertNoViolations(t, s)
}

func TestPagination(t *testing.T) {
	s := startFake(t, Options{})
	// The seed has four scope mappings: pages of two.
	status, got := do(t, s, http.MethodGet, "/propertymappings/provider/scope/", nil)
	if status != http.StatusOK {
		t.Fatalf("status = %d", status)
	}
	want := map[string]any{"count": 4.0, "current": 1.0, "next": 2.0, "previous": 0.0, "start_index": 1.0, "end_index": 2.0, "total_pages": 2.0}
	if diff := cmp.Diff(want, got["pagination"]); diff != "" {
		t.Errorf("page 1 pagination (-want +got):\n%s", diff)
	}
	if n := len(got["results"].([]any)); n != 2 {
		t.Errorf("page 1 results = %d, want 2", n)
	}

	_, got = do(t, s, http.MethodGet, "/propertymappings/provider/scope/?page=2", nil)
	want = map[string]any{"count": 4.0, "current": 2.0, "next": 0.0, "previous": 1.0, "start_index": 3.0, "end_index": 4.0, "total_pages": 2.0}
	if diff := cmp.Diff(want, got["pagination"]); diff != "" {
		t.Errorf("page 2 pagination (-want +got):\n%s", diff)
	}

	if status, _ := do(t, s, http.MethodGet, "/propertymappings/provider/scope/?page=3", nil); status != http.StatusNotFound {
		t.Errorf("page 3 status = %d, want 404", status)
	}

	_, got = do(t, s, http.MethodGet, "/propertymappings/provider/scope/?page_size=10", nil)
	if n := len(got["results"].([]any)); n != 4 {
		t.Errorf("page_size=10 results = %d, want 4", n)
	}

	_, got = do(t, s, http.MethodGet, "/core/applications/", nil)
	want = map[string]any{"count": 0.0, "current": 1.0, "next": 0.0, "previous": 0.0, "start_index": 0.0, "end_index": 0.0, "total_pages": 1.0}
	if diff := cmp.Diff(want, got["pagination"]); diff != "" {
		t.Errorf("empty list pagination (-want +got):\n%s", diff)
	}
	assertNoViolations(t, s)
}

func TestFilters(t *testing.T) {
	s := startFake(t, Options{})
	tests := []struct {
		path string
		want []string // values of key in the results, all pages
		key  string
	}{
		{"/propertymappings/provider/scope/?managed=" + ScopeEmail + "&managed=" + ScopeOpenID, []string{"email", "openid"}, "scope_name"},
		{"/propertymappings/provider/scope/?scope_name=email&managed__isnull=true", []string{"email"}, "scope_name"},
		{"/crypto/certificatekeypairs/?has_key=true", []string{KeypairSelfSigned}, "name"},
		{"/crypto/certificatekeypairs/?name=" + strings.ReplaceAll(KeypairCertOnly, " ", "%20"), []string{KeypairCertOnly}, "name"},
		{"/flows/instances/?designation=authorization&page_size=10", []string{FlowExplicitConsent, FlowImplicitConsent}, "slug"},
		{"/flows/instances/?slug=" + FlowInvalidation, []string{FlowInvalidation}, "slug"},
		{"/core/groups/?name=staff", []string{"staff"}, "name"},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			status, got := do(t, s, http.MethodGet, tt.path, nil)
			if status != http.StatusOK {
				t.Fatalf("status = %d (%v)", status, got)
			}
			var names []string
			for _, r := range got["results"].([]any) {
				names = append(names, r.(map[string]any)[tt.key].(string))
			}
			if diff := cmp.Diff(tt.want, names); diff != "" {
				t.Errorf("results (-want +got):\n%s", diff)
			}
		})
	}
	assertNoViolations(t, s)
}

func TestUnknownQueryParameterRecorded(t *testing.T) {
	s := startFake(t, Options{})
	status, got := do(t, s, http.MethodGet, "/core/groups/?name__iexact=STAFF", nil)
	if status != http.StatusOK {
		t.Fatalf("status = %d", status)
	}
	if n := got["pagination"].(map[string]any)["count"]; n != 2.0 {
		t.Errorf("count = %v, want 2: an unknown filter must be ignored as authentik does", n)
	}
	v := s.Violations()
	if len(v) != 1 || !strings.Contains(v[0], `"name__iexact"`) {
		t.Errorf("violations = %q, want one naming name__iexact", v)
	}
}

func TestUnknownPathIsRecorded(t *testing.T) {
	s := startFake(t, Options{})
	// authentik's routes end with a slash.
	status, got := do(t, s, http.MethodGet, "/core/applications", nil)
	if status != http.StatusNotFound || got["detail"] != "Not found." {
		t.Errorf("answer = %d %v, want 404 Not found.", status, got)
	}
	if len(s.Violations()) != 1 {
		t.Errorf("violations = %q, want one", s.Violations())
	}
}

func TestResponseViolationIsRecorded(t *testing.T) {
	s := startFake(t, Options{})
	if _, err := s.AddProvider(Provider{Name: "P"}); err != nil {
		t.Fatal(err)
	}
	// Tampering outside the API can store what the schema forbids, so the
	// response check must notice.
	if err := s.UpdateProvider("P", func(p *Provider) { p.ClientType = "secret-agent" }); err != nil {
		t.Fatal(err)
	}
	if status, _ := do(t, s, http.MethodGet, "/providers/oauth2/", nil); status != http.StatusOK {
		t.Fatalf("status = %d", status)
	}
	v := s.Violations()
	if len(v) != 1 || !strings.Contains(v[0], "response 200 does not match the schema") {
		t.Errorf("violations = %q, want one about the response", v)
	}
}

func TestAuthorization(t *testing.T) {
	s := startFake(t, Options{})
	s.SetToken("read-only", AccessReadOnly)
	s.SetToken("no-access", AccessNone)

	tests := []struct {
		name   string
		token  string
		header string
		method string
		path   string
		want   int
	}{
		{"no header", "", "", http.MethodGet, "/core/applications/", 401},
		{"basic scheme", "", "Basic YTpi", http.MethodGet, "/core/applications/", 401},
		{"unknown token", "wrong", "", http.MethodGet, "/core/applications/", 401},
		{"read-only reads", "read-only", "", http.MethodGet, "/core/applications/", 200},
		{"read-only writes", "read-only", "", http.MethodPost, "/core/applications/", 403},
		{"no access lists", "no-access", "", http.MethodGet, "/core/applications/", 403},
		{"no access reads itself", "no-access", "", http.MethodGet, "/core/users/me/", 200},
		{"full access", DefaultToken, "", http.MethodGet, "/core/users/me/", 200},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var body io.Reader
			if tt.method == http.MethodPost {
				body = strings.NewReader(`{"name":"x","slug":"x"}`)
			}
			req, _ := http.NewRequest(tt.method, s.APIURL()+tt.path, body)
			req.Header.Set("Content-Type", "application/json")
			switch {
			case tt.header != "":
				req.Header.Set("Authorization", tt.header)
			case tt.token != "":
				req.Header.Set("Authorization", "Bearer "+tt.token)
			}
			resp, err := s.Client().Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != tt.want {
				t.Errorf("status = %d, want %d", resp.StatusCode, tt.want)
			}
		})
	}
	if len(s.Applications()) != 0 {
		t.Error("a rejected write created an application")
	}
	_, me := doToken(t, s, "read-only", http.MethodGet, "/core/users/me/", nil)
	user := me["user"].(map[string]any)
	if user["is_superuser"] != false || len(user["system_permissions"].([]any)) == 0 {
		t.Errorf("read-only user = %v, want no superuser and view permissions", user)
	}
	assertNoViolations(t, s)
}

func itoa(n int) string {
	b, _ := json.Marshal(n)
	return string(b)
}

func TestSchemaPath(t *testing.T) {
	t.Setenv(SchemaEnv, "")
	t.Setenv("GOMODCACHE", "/cache")
	if got, _ := SchemaPath(""); got != "/cache/goauthentik.io/api/v3@v3.2025120.5/schema.yml" {
		t.Errorf("path from GOMODCACHE = %q", got)
	}
	if got, _ := SchemaPath("/given.yml"); got != "/given.yml" {
		t.Errorf("path from the option = %q, want /given.yml", got)
	}

	missing := t.TempDir() + "/missing.yml"
	t.Setenv(SchemaEnv, missing)
	if got, _ := SchemaPath(""); got != missing {
		t.Errorf("path from %s = %q, want %q", SchemaEnv, got, missing)
	}
	if _, err := New(Options{}); err == nil || !strings.Contains(err.Error(), "missing.yml") {
		t.Errorf("New with a missing schema: %v, want an error naming the file", err)
	}
}
