package authentikfake

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/meshauth/meshcentral-authentik-action/internal/fakes/oidcfake"
)

func TestRequestLogAndWriteCount(t *testing.T) {
	s := startFake(t, Options{})
	do(t, s, http.MethodGet, "/core/applications/?slug=meshcentral", nil)
	do(t, s, http.MethodPost, "/core/applications/", map[string]any{"name": "MeshCentral", "slug": "meshcentral"})
	do(t, s, http.MethodDelete, "/core/applications/missing/", nil)

	reqs := s.Requests()
	if len(reqs) != 3 {
		t.Fatalf("requests = %d, want 3", len(reqs))
	}
	first := reqs[0]
	if first.Method != http.MethodGet || first.Path != "/api/v3/core/applications/" || first.Query != "slug=meshcentral" || first.Status != 200 {
		t.Errorf("first request = %+v", first)
	}
	if !strings.Contains(string(reqs[1].Body), `"slug":"meshcentral"`) || reqs[1].Status != 201 {
		t.Errorf("second request = %s %d", reqs[1].Body, reqs[1].Status)
	}
	if reqs[2].Status != 404 {
		t.Errorf("delete of a missing application answered %d, want 404", reqs[2].Status)
	}
	if n := s.WriteCount(); n != 2 {
		t.Errorf("write count = %d, want 2", n)
	}

	s.Reset()
	if len(s.Requests()) != 0 || s.WriteCount() != 0 {
		t.Error("Reset kept requests or writes")
	}
	if _, ok := s.Application("meshcentral"); !ok {
		t.Error("Reset dropped state")
	}
}

func TestFaults(t *testing.T) {
	s := startFake(t, Options{})
	var seen []int
	s.SetFault(func(seq int, r *http.Request) Fault {
		seen = append(seen, seq)
		switch seq {
		case 1:
			return FaultStatus500
		case 2:
			return FaultDropConnection
		case 3:
			return FaultDropAfterApply
		}
		return FaultNone
	})
	body := `{"name":"MeshCentral","slug":"meshcentral"}`
	post := func() (*http.Response, error) {
		req, _ := http.NewRequest(http.MethodPost, s.APIURL()+"/core/applications/", strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+DefaultToken)
		req.Header.Set("Content-Type", "application/json")
		return s.Client().Do(req)
	}

	resp, err := post()
	if err != nil || resp.StatusCode != http.StatusInternalServerError {
		t.Fatalf("first request: %v, %v; want 500", resp, err)
	}
	resp.Body.Close()
	if _, ok := s.Application("meshcentral"); ok {
		t.Fatal("a 500 fault changed state")
	}

	if resp, err := post(); err == nil {
		resp.Body.Close()
		t.Fatal("second request got an answer; want a dropped connection")
	}
	if _, ok := s.Application("meshcentral"); ok {
		t.Fatal("a dropped connection changed state")
	}

	if resp, err := post(); err == nil {
		resp.Body.Close()
		t.Fatal("third request got an answer; want a dropped connection")
	}
	if _, ok := s.Application("meshcentral"); !ok {
		t.Fatal("drop after apply did not change state")
	}

	resp, err = post()
	if err != nil || resp.StatusCode != http.StatusBadRequest {
		t.Fatalf("fourth request: %v, %v; want 400 for the existing slug", resp, err)
	}
	resp.Body.Close()
	if len(seen) != 4 || seen[3] != 4 {
		t.Errorf("fault sequence numbers = %v, want 1..4", seen)
	}
	statuses := []int{}
	for _, r := range s.Requests() {
		statuses = append(statuses, r.Status)
	}
	if want := []int{500, 0, 0, 400}; !equalInts(statuses, want) {
		t.Errorf("logged statuses = %v, want %v", statuses, want)
	}
}

func equalInts(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestLatency(t *testing.T) {
	s := startFake(t, Options{})
	s.SetLatency(150 * time.Millisecond)
	start := time.Now()
	do(t, s, http.MethodGet, "/admin/version/", nil)
	if d := time.Since(start); d < 150*time.Millisecond {
		t.Errorf("request took %v, want at least the 150ms latency", d)
	}
}

func TestSetVersion(t *testing.T) {
	s := startFake(t, Options{})
	s.SetVersion("2024.8.3")
	_, got := do(t, s, http.MethodGet, "/admin/version/", nil)
	if got["version_current"] != "2024.8.3" {
		t.Errorf("version_current = %v, want 2024.8.3", got["version_current"])
	}
	assertNoViolations(t, s)
}

func TestPlainHTTP(t *testing.T) {
	s := startFake(t, Options{PlainHTTP: true})
	if !strings.HasPrefix(s.URL, "http://127.0.0.1:") || s.CACertPEM != nil {
		t.Fatalf("URL %q, CA %d bytes; want plain http on 127.0.0.1 without a CA", s.URL, len(s.CACertPEM))
	}
	if status, _ := do(t, s, http.MethodGet, "/admin/version/", nil); status != http.StatusOK {
		t.Errorf("status = %d, want 200", status)
	}
}

func TestStartRejectsNonLoopback(t *testing.T) {
	if s, err := Start(Options{Addr: "0.0.0.0:0"}); err == nil {
		s.Close()
		t.Fatal("Start listened on all interfaces; want an error")
	}
}

func TestTamperHooksReachOIDCClients(t *testing.T) {
	s := startFake(t, Options{})
	kp, _ := s.Keypair(KeypairSelfSigned)
	var pks []string
	for _, m := range s.ScopeMappings() {
		if m.Managed != "" {
			pks = append(pks, m.PK)
		}
	}
	if _, err := s.AddProvider(Provider{
		Name: "P", SigningKey: kp.PK, PropertyMappings: pks,
		RedirectURIs: []RedirectURI{{MatchingMode: "strict", URL: "https://mesh.example.com/auth-oidc-callback"}},
	}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.AddApplication("meshcentral", "MeshCentral", "P"); err != nil {
		t.Fatal(err)
	}
	s.AddGroup("mesh-users")
	if _, err := s.BindGroup("meshcentral", "mesh-users"); err != nil {
		t.Fatal(err)
	}
	before := s.OIDCClients()[0]
	if before.SigningKey == nil || len(before.Scopes) != 3 || len(before.AllowedGroups) != 1 || before.AllowedGroups[0] != "mesh-users" {
		t.Fatalf("client before tampering = %+v", before)
	}

	secret, err := s.RotateClientSecret("P")
	if err != nil {
		t.Fatal(err)
	}
	if err := s.SetSigningKey("P", ""); err != nil {
		t.Fatal(err)
	}
	if err := s.RemoveScopeMapping(ScopeEmail); err != nil {
		t.Fatal(err)
	}
	if err := s.SetRedirectURIs("P", []RedirectURI{{MatchingMode: "regex", URL: ".*"}}); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteGroup("mesh-users"); err != nil {
		t.Fatal(err)
	}
	after := s.OIDCClients()[0]
	if after.ClientSecret != secret || secret == before.ClientSecret || len(secret) != 128 {
		t.Error("client secret was not rotated to a new 128-character value")
	}
	if after.SigningKey != nil {
		t.Error("signing key still set after SetSigningKey(\"\")")
	}
	if len(after.Scopes) != 2 {
		t.Errorf("scopes = %q, want openid and profile", after.Scopes)
	}
	if len(after.RedirectURIs) != 1 || after.RedirectURIs[0].MatchingMode != "regex" {
		t.Errorf("redirect URIs = %+v", after.RedirectURIs)
	}
	if len(after.AllowedGroups) != 0 || len(s.Bindings("meshcentral")) != 0 {
		t.Error("deleting the group left its binding")
	}

	if err := s.DeleteApplication("meshcentral"); err != nil {
		t.Fatal(err)
	}
	if len(s.OIDCClients()) != 0 {
		t.Error("OIDC clients still list a deleted application")
	}
}

func TestOIDCMount(t *testing.T) {
	s := startFake(t, Options{})
	if _, err := s.AddProvider(Provider{Name: "P"}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.AddApplication("meshcentral", "MeshCentral", "P"); err != nil {
		t.Fatal(err)
	}
	s.SetUser(oidcfake.User{Username: "alice", Email: "alice@example.com", Name: "Alice", Groups: []string{"staff"}})
	if u := s.User(); u.Username != "alice" {
		t.Errorf("user = %+v, want alice", u)
	}

	resp, err := s.Client().Get(s.URL + "/application/o/meshcentral/.well-known/openid-configuration")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var doc map[string]any
	if err := json.Unmarshal(raw, &doc); err != nil {
		t.Fatalf("discovery %d %q: %v", resp.StatusCode, raw, err)
	}
	if doc["issuer"] != s.URL+"/application/o/meshcentral/" {
		t.Errorf("issuer = %v, want %s/application/o/meshcentral/", doc["issuer"], s.URL)
	}
	if got := s.Requests(); len(got) != 1 || got[0].Status != 200 {
		t.Errorf("request log = %+v, want the discovery request", got)
	}

	if err := s.SetSigningKey("P", KeypairSelfSigned); err != nil {
		t.Fatal(err)
	}
	kp, _ := s.Keypair(KeypairSelfSigned)
	resp, err = s.Client().Get(s.URL + "/application/o/meshcentral/jwks/")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var jwks struct {
		Keys []struct {
			Kid string `json:"kid"`
		} `json:"keys"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&jwks); err != nil {
		t.Fatalf("decode JWKS: %v", err)
	}
	if len(jwks.Keys) != 1 || jwks.Keys[0].Kid != kp.KeyID() {
		t.Errorf("JWKS = %+v, want one key with kid %q", jwks, kp.KeyID())
	}
	if s.WriteCount() != 0 {
		t.Error("an OIDC request counted as an API write")
	}
}

func TestConcurrentRequests(t *testing.T) {
	s := startFake(t, Options{})
	const workers, perWorker = 6, 10
	errs := make(chan string, workers*perWorker)
	done := make(chan struct{})
	for w := range workers {
		go func() {
			defer func() { done <- struct{}{} }()
			for i := range perWorker {
				slug := "app-" + itoa(w) + "-" + itoa(i)
				req, _ := http.NewRequest(http.MethodPost, s.APIURL()+"/core/applications/",
					strings.NewReader(`{"name":"`+slug+`","slug":"`+slug+`"}`))
				req.Header.Set("Authorization", "Bearer "+DefaultToken)
				req.Header.Set("Content-Type", "application/json")
				resp, err := s.Client().Do(req)
				if err != nil {
					errs <- err.Error()
					continue
				}
				resp.Body.Close()
				if resp.StatusCode != http.StatusCreated {
					errs <- slug + ": " + resp.Status
				}
			}
		}()
	}
	for range workers {
		<-done
	}
	close(errs)
	for e := range errs {
		t.Error(e)
	}
	_, got := do(t, s, http.MethodGet, "/core/applications/?ordering=-slug&page_size=100", nil)
	results := got["results"].([]any)
	if len(results) != workers*perWorker {
		t.Fatalf("applications = %d, want %d", len(results), workers*perWorker)
	}
	if first := results[0].(map[string]any)["slug"]; first != "app-5-9" {
		t.Errorf("first by -slug = %v, want app-5-9", first)
	}
	assertNoViolations(t, s)
}
