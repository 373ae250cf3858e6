package meshconfig

import (
	"net/url"
	"strings"
	"testing"
)

func TestRedirectURI(t *testing.T) {
	tests := []struct {
		name, config, meshURL, domain string
		want                          string
		warnings                      []string // one substring per expected warning
	}{
		{"default domain", `{"settings": {"cert": "mesh.example.com"}}`, "https://mesh.example.com/", "",
			"https://mesh.example.com/auth-oidc-callback", nil},
		{"named domain lower-cased", `{"domains": {"Support": {}}}`, "https://Mesh.Example.com/support/", "Support",
			"https://mesh.example.com/support/auth-oidc-callback", nil},
		{"dns domain at its host root", `{"domains": {"support": {"DNS": "support.example.com"}}}`, "https://support.example.com", "support",
			"https://support.example.com/auth-oidc-callback", nil},
		{"public port kept", `{"settings": {"port": 8443}}`, "https://mesh.example.com:8443", "",
			"https://mesh.example.com:8443/auth-oidc-callback", nil},
		{"default port dropped", `{}`, "https://mesh.example.com:443", "",
			"https://mesh.example.com/auth-oidc-callback", nil},
		{"proxy port as a string", `{"Settings": {"Port": "4430"}}`, "https://mesh.example.com", "",
			"https://mesh.example.com/auth-oidc-callback", []string{`Settings.Port is 4430 and Settings has no aliasPort`}},
		{"alias port differs", `{"settings": {"port": 4430, "AliasPort": 8443}}`, "https://mesh.example.com", "",
			"https://mesh.example.com/auth-oidc-callback", []string{`settings.AliasPort is 8443 but meshcentral-url uses port 443`}},
		{"alias port matches", `{"settings": {"port": 4430, "aliasPort": 443}}`, "https://mesh.example.com", "",
			"https://mesh.example.com/auth-oidc-callback", nil},
		{"host differs from cert", `{"settings": {"cert": "other.example.com"}}`, "https://mesh.example.com", "",
			"https://mesh.example.com/auth-oidc-callback", []string{`differs from settings.cert "other.example.com"`}},
		{"templated cert", `{"settings": {"Cert": "${MESHCENTRAL_HOSTNAME}"}}`, "https://mesh.example.com", "",
			"https://mesh.example.com/auth-oidc-callback", nil},
		{"host differs from dns", `{"settings": {"cert": "mesh.example.com"}, "domains": {"s": {"dns": "s.example.com"}}}`, "https://mesh.example.com", "s",
			"https://mesh.example.com/auth-oidc-callback", []string{`differs from domains["s"].dns "s.example.com"`}},
		{"path that is not the domain", `{}`, "https://mesh.example.com/mesh/", "",
			"https://mesh.example.com/auth-oidc-callback", []string{`has the path "/mesh/"`}},
		{"http when allowed", `{}`, "http://127.0.0.1:8080", "",
			"http://127.0.0.1:8080/auth-oidc-callback", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			u, err := url.Parse(tt.meshURL)
			if err != nil {
				t.Fatal(err)
			}
			got, warnings, err := RedirectURI([]byte(tt.config), u, tt.domain)
			if err != nil {
				t.Fatal(err)
			}
			if got != tt.want {
				t.Errorf("RedirectURI = %q, want %q", got, tt.want)
			}
			if len(warnings) != len(tt.warnings) {
				t.Fatalf("warnings = %q, want %d", warnings, len(tt.warnings))
			}
			for i, w := range tt.warnings {
				if !strings.Contains(warnings[i], w) {
					t.Errorf("warning %q does not contain %q", warnings[i], w)
				}
			}
		})
	}
}

func TestRedirectURIRejectsRelativeURL(t *testing.T) {
	u, _ := url.Parse("mesh.example.com")
	if _, _, err := RedirectURI([]byte(`{}`), u, ""); err == nil {
		t.Error("RedirectURI accepted a URL without scheme and host")
	}
}
