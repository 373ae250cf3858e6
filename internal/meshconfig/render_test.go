package meshconfig

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
)

func TestRender(t *testing.T) {
	in := "\ufeff{\r\n  \"${MESHCENTRAL_OIDC_CLIENT_SECRET}\": \"key stays\",\r\n" +
		"  \"client_secret\": \"${MESHCENTRAL_OIDC_CLIENT_SECRET}\",\r\n" +
		"  \"ClientSecret\": \"prefix-${MESHCENTRAL_OIDC_CLIENT_SECRET}\",\r\n  \"title\": \"Caf\\u00e9\"\r\n}"
	secrets := []string{`plain`, `quo"te`, `back\slash`, "uni-é-😀", "new\nline\ttab", `</script>&`, "${MESHCENTRAL_OIDC_CLIENT_SECRET}"}
	for _, secret := range secrets {
		out, err := Render([]byte(in), placeholder, secret)
		if err != nil {
			t.Fatalf("Render(%q): %v", secret, err)
		}
		if !bytes.HasPrefix(out, bom) || bytes.Count(out, []byte("\r\n")) != 5 || bytes.HasSuffix(out, []byte("\n")) {
			t.Errorf("Render(%q) changed the BOM, line endings or final newline: %q", secret, out)
		}
		var got map[string]any
		if err := json.Unmarshal(bytes.TrimPrefix(out, bom), &got); err != nil {
			t.Fatalf("Render(%q) output is not JSON: %v", secret, err)
		}
		if got["client_secret"] != secret {
			t.Errorf("client_secret = %q, want %q", got["client_secret"], secret)
		}
		if got["ClientSecret"] != "prefix-"+secret {
			t.Errorf("ClientSecret = %v, want the placeholder replaced inside the string", got["ClientSecret"])
		}
		if got[placeholder] != "key stays" || got["title"] != "Café" || !bytes.Contains(out, []byte(`"Caf\u00e9"`)) {
			t.Errorf("Render(%q) changed a key or another value: %s", secret, out)
		}
	}
}

func TestRenderErrors(t *testing.T) {
	const secret = "do-not-show"
	tests := []struct{ name, in, placeholder, secret, want string }{
		{"no placeholder", `{"client_secret": "x"}`, placeholder, secret, "in no string value"},
		{"placeholder only in a key", `{"${MESHCENTRAL_OIDC_CLIENT_SECRET}": 1}`, placeholder, secret, "in no string value"},
		{"not JSON", `{"a": "${MESHCENTRAL_OIDC_CLIENT_SECRET}",}`, placeholder, secret, "trailing comma"},
		{"placeholder in a title", `{"client_secret": "${MESHCENTRAL_OIDC_CLIENT_SECRET}", "domains": {"": {"title": "${MESHCENTRAL_OIDC_CLIENT_SECRET}"}}}`, placeholder, secret, `domains[""].title, which is not a client secret`},
		{"placeholder in a list", `{"client_secret": "${MESHCENTRAL_OIDC_CLIENT_SECRET}", "list": ["${MESHCENTRAL_OIDC_CLIENT_SECRET}"]}`, placeholder, secret, "list[0]"},
		{"empty secret", `{"client_secret": "${MESHCENTRAL_OIDC_CLIENT_SECRET}"}`, placeholder, "", "secret is empty"},
		{"empty placeholder", `{"a": "x"}`, "", secret, "placeholder is empty"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, err := Render([]byte(tt.in), tt.placeholder, tt.secret)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Render = %q, %v; want an error containing %q", out, err, tt.want)
			}
			if strings.Contains(err.Error(), secret) {
				t.Errorf("the error shows the secret: %v", err)
			}
		})
	}
}
