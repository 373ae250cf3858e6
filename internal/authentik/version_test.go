package authentik

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
)

func TestCheckVersion(t *testing.T) {
	t.Parallel()
	tests := []struct {
		found string
		ok    bool
	}{
		{"2024.10.3", true},
		{"2024.10.4", true},
		{"2024.12.0", true},
		{"2025.12.0-rc1", true},
		{"2025.2", true},
		{"2024.10.2", false},
		{"2024.10.3-rc1", false},
		{"2024.8.6", false},
		{"2023.10.7", false},
		{"", false},
		{"main", false},
	}
	for _, tt := range tests {
		err := checkVersion(tt.found)
		if (err == nil) != tt.ok {
			t.Errorf("checkVersion(%q) = %v, want ok=%v", tt.found, err, tt.ok)
		}
		if err != nil && !strings.Contains(err.Error(), MinVersion) {
			t.Errorf("checkVersion(%q) error %q does not name %s", tt.found, err, MinVersion)
		}
	}
}

func TestPlanRejectsOldVersion(t *testing.T) {
	t.Parallel()
	c, rec := newRecorded(t, map[string]func(http.ResponseWriter, *http.Request){
		"GET /api/v3/admin/version/": reply(http.StatusOK, `{"version_current":"2024.8.3"}`),
	})

	_, err := c.Plan(context.Background(), testDesired())

	if err == nil {
		t.Fatal("Plan accepted authentik 2024.8.3")
	}
	for _, part := range []string{"2024.8.3", "2024.10.3"} {
		if !strings.Contains(err.Error(), part) {
			t.Errorf("error %q does not name %s", err, part)
		}
	}
	for _, r := range rec.requests() {
		if !strings.HasPrefix(r, "GET ") {
			t.Errorf("Plan sent %s", r)
		}
	}
}

// flowPages serves n flows, two per page, with authentik's pagination.
func flowPages(n int) func(http.ResponseWriter, *http.Request) {
	return func(w http.ResponseWriter, r *http.Request) {
		page := 1
		fmt.Sscan(r.URL.Query().Get("page"), &page)
		var items []string
		for i := (page - 1) * 2; i < page*2 && i < n; i++ {
			items = append(items, fmt.Sprintf(`{"pk":"f%d","slug":"flow-%d","designation":"authorization"}`, i, i))
		}
		next := page + 1
		if page*2 >= n {
			next = 0
		}
		reply(http.StatusOK, fmt.Sprintf(`{"pagination":{"next":%d,"current":%d},"results":[%s]}`,
			next, page, strings.Join(items, ",")))(w, r)
	}
}

func TestListFollowsPagination(t *testing.T) {
	t.Parallel()
	c, rec := newRecorded(t, map[string]func(http.ResponseWriter, *http.Request){
		"GET /api/v3/flows/instances/": flowPages(5),
	})
	c.pageSize = 2

	flows, err := c.listFlows(context.Background())
	if err != nil {
		t.Fatal(err)
	}

	var slugs []string
	for _, f := range flows {
		slugs = append(slugs, f.Slug)
	}
	if got, want := strings.Join(slugs, ","), "flow-0,flow-1,flow-2,flow-3,flow-4"; got != want {
		t.Errorf("slugs = %s, want %s", got, want)
	}
	if got := len(rec.requests()); got != 3 {
		t.Errorf("requests = %d, want 3: %v", got, rec.requests())
	}
}

func TestListStopsOnStuckPagination(t *testing.T) {
	t.Parallel()
	c, _ := newRecorded(t, map[string]func(http.ResponseWriter, *http.Request){
		"GET /api/v3/flows/instances/": reply(http.StatusOK, `{"pagination":{"next":1,"current":1},"results":[]}`),
	})
	_, err := c.listFlows(context.Background())
	if err == nil || !strings.Contains(err.Error(), "pagination does not advance") {
		t.Errorf("error = %v, want a pagination error", err)
	}
}

func TestRandomString(t *testing.T) {
	t.Parallel()
	a, b := randomString(clientSecretLength), randomString(clientSecretLength)
	if len(a) != 128 {
		t.Errorf("len = %d, want 128", len(a))
	}
	if a == b {
		t.Error("two random strings are equal")
	}
	if strings.Trim(a, alphabet) != "" {
		t.Errorf("%q has characters outside the alphabet", a)
	}
}

// testDesired is the desired state the tests start from, matching the
// fake's seed data.
func testDesired() Desired {
	return Desired{
		ApplicationName:   "MeshCentral",
		ApplicationSlug:   "meshcentral",
		ProviderName:      "Provider for MeshCentral",
		AuthorizationFlow: "default-provider-authorization-implicit-consent",
		InvalidationFlow:  "default-provider-invalidation-flow",
		SigningKey:        "authentik Self-signed Certificate",
		AllowedGroups:     []string{"admins"},
		LaunchURL:         "https://mesh.example.test/",
		RedirectURI:       "https://mesh.example.test/auth-oidc-callback",
	}
}
