package authentik

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// recorder is a minimal authentik stand-in. It responds to each
// "METHOD path" from a table and records the requests it received.
type recorder struct {
	mu       sync.Mutex
	routes   map[string]func(w http.ResponseWriter, r *http.Request)
	received []string
	headers  []http.Header
}

func (rec *recorder) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	rec.mu.Lock()
	rec.received = append(rec.received, r.Method+" "+r.URL.Path+"?"+r.URL.RawQuery)
	rec.headers = append(rec.headers, r.Header.Clone())
	h := rec.routes[r.Method+" "+r.URL.Path]
	rec.mu.Unlock()
	if h == nil {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusNotFound)
		_, _ = w.Write([]byte(`{"detail":"Not found."}`))
		return
	}
	h(w, r)
}

func (rec *recorder) requests() []string {
	rec.mu.Lock()
	defer rec.mu.Unlock()
	return append([]string(nil), rec.received...)
}

func reply(status int, body string) func(http.ResponseWriter, *http.Request) {
	return func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		_, _ = w.Write([]byte(body))
	}
}

// newRecorded starts a loopback server for the routes and a client for it.
func newRecorded(t *testing.T, routes map[string]func(http.ResponseWriter, *http.Request)) (*Client, *recorder) {
	t.Helper()
	rec := &recorder{routes: routes}
	srv := httptest.NewServer(rec)
	t.Cleanup(srv.Close)
	u, err := url.Parse(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	c, err := New(Config{URL: u, Token: "test-token", HTTPClient: srv.Client(), UserAgent: "unit-test/1"})
	if err != nil {
		t.Fatal(err)
	}
	return c, rec
}

func TestHTTPErrorFieldErrors(t *testing.T) {
	t.Parallel()
	body := `{"invalidation_flow":["This field is required."],` +
		`"redirect_uris":[{"url":["Enter a valid URL."]}],` +
		`"non_field_errors":["Check the form."],"code":"invalid"}`
	c, _ := newRecorded(t, map[string]func(http.ResponseWriter, *http.Request){
		"PATCH /api/v3/providers/oauth2/5/": reply(http.StatusBadRequest, body),
	})

	err := c.SetClientSecret(context.Background(), 5, "new-secret-value")

	want := `update client secret of authentik provider "5": invalid request: Check the form.; ` +
		`invalidation_flow: This field is required.; redirect_uris[0].url: Enter a valid URL.`
	if err == nil || err.Error() != want {
		t.Fatalf("error = %v\nwant    %s", err, want)
	}
	var he *HTTPError
	if !errors.As(err, &he) {
		t.Fatalf("error %T is not *HTTPError", err)
	}
	if he.Status != http.StatusBadRequest {
		t.Errorf("Status = %d, want 400", he.Status)
	}
	wantFields := map[string][]string{
		"non_field_errors":     {"Check the form."},
		"invalidation_flow":    {"This field is required."},
		"redirect_uris[0].url": {"Enter a valid URL."},
	}
	if d := cmp.Diff(wantFields, he.Fields); d != "" {
		t.Errorf("Fields (-want +got):\n%s", d)
	}
	if he.Conflict() {
		t.Error("Conflict() = true for a required-field error")
	}
}

func TestHTTPErrorStatusHints(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		status    int
		body      string
		wantParts []string
		notParts  []string
	}{
		{
			name:      "401 names the token",
			status:    http.StatusUnauthorized,
			body:      `{"detail":"Token invalid/expired"}`,
			wantParts: []string{"401 Unauthorized", "authentik-token"},
		},
		{
			name:      "403 names the permission",
			status:    http.StatusForbidden,
			body:      `{"detail":"You do not have permission to perform this action."}`,
			wantParts: []string{"403 Forbidden", `lacks permission "authentik_providers_oauth2.change_oauth2provider"`},
		},
		{
			name:      "502 drops an HTML body",
			status:    http.StatusBadGateway,
			body:      `<html><body>upstream down</body></html>`,
			wantParts: []string{"502 Bad Gateway"},
			notParts:  []string{"<html>", "upstream"},
		},
		{
			name:      "400 scrubs secrets",
			status:    http.StatusBadRequest,
			body:      `{"client_secret":["Value new-secret-value is odd; token test-token"]}`,
			wantParts: []string{"client_secret: Value (redacted) is odd; token (redacted)"},
			notParts:  []string{"new-secret-value", "test-token"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c, _ := newRecorded(t, map[string]func(http.ResponseWriter, *http.Request){
				"PATCH /api/v3/providers/oauth2/7/": reply(tt.status, tt.body),
			})
			err := c.SetClientSecret(context.Background(), 7, "new-secret-value")
			if err == nil {
				t.Fatal("SetClientSecret returned no error")
			}
			for _, p := range tt.wantParts {
				if !strings.Contains(err.Error(), p) {
					t.Errorf("error %q lacks %q", err, p)
				}
			}
			for _, p := range tt.notParts {
				if strings.Contains(err.Error(), p) {
					t.Errorf("error %q contains %q", err, p)
				}
			}
			if !isStatus(err, tt.status) {
				t.Errorf("isStatus(err, %d) = false", tt.status)
			}
		})
	}
}

func TestHTTPErrorConflict(t *testing.T) {
	t.Parallel()
	he := &HTTPError{Status: 400, Fields: map[string][]string{"name": {"provider with this name already exists."}}}
	if !he.Conflict() {
		t.Error("Conflict() = false for a taken name")
	}
	he.Status = 409
	if he.Conflict() {
		t.Error("Conflict() = true for a status other than 400")
	}
}

func TestClientSendsTokenAndUserAgent(t *testing.T) {
	t.Parallel()
	c, rec := newRecorded(t, map[string]func(http.ResponseWriter, *http.Request){
		"PATCH /api/v3/providers/oauth2/3/": reply(http.StatusOK, `{"pk":3,"name":"p"}`),
	})
	if err := c.SetClientSecret(context.Background(), 3, "s3cret"); err != nil {
		t.Fatal(err)
	}
	h := rec.headers[0]
	if got := h.Get("Authorization"); got != "Bearer test-token" {
		t.Errorf("Authorization = %q", got)
	}
	if got := h.Get("User-Agent"); got != "unit-test/1" {
		t.Errorf("User-Agent = %q", got)
	}
}

func TestNewRejectsBadConfig(t *testing.T) {
	t.Parallel()
	u, _ := url.Parse("https://auth.example.test/")
	tests := []struct {
		name string
		cfg  Config
		want string
	}{
		{"no URL", Config{Token: "t"}, "URL is empty"},
		{"ftp URL", Config{URL: &url.URL{Scheme: "ftp", Host: "h"}, Token: "t"}, `scheme "ftp"`},
		{"no token", Config{URL: u}, "token is empty"},
		{"CA without PEM", Config{URL: u, Token: "t", CACertPEM: "not a certificate"}, "no PEM certificate"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := New(tt.cfg)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("New error = %v, want it to contain %q", err, tt.want)
			}
		})
	}
}

func TestIssuerKeepsPathPrefix(t *testing.T) {
	t.Parallel()
	u, _ := url.Parse("https://example.test/auth/?x=1")
	c, err := New(Config{URL: u, Token: "t"})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := c.Issuer("meshcentral"), "https://example.test/auth/application/o/meshcentral/"; got != want {
		t.Errorf("Issuer = %q, want %q", got, want)
	}
}
