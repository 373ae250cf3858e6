package e2e

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// renderWorld writes a committed config.json into the workspace and returns
// the inputs of a render run.
func renderWorld(t *testing.T, config string) (*world, map[string]string) {
	t.Helper()
	w := newWorld(t, nil)
	path := filepath.Join(w.sb.Dir, "meshcentral-data", "config.json")
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(config), 0o644); err != nil {
		t.Fatal(err)
	}
	return w, map[string]string{
		"mode":            "render",
		"render-output":   "deploy/config.json",
		"authentik-url":   "",
		"authentik-token": "",
		"meshcentral-url": "",
		"github-token":    "",
	}
}

func TestRenderFillsSecret(t *testing.T) {
	const committed = "{\r\n  \"domains\": {\r\n    \"\": {\r\n      \"authStrategies\": {\r\n        \"oidc\": {\r\n          \"client\": {\r\n            \"client_secret\": \"${MESHCENTRAL_OIDC_CLIENT_SECRET}\"\r\n          }\r\n        }\r\n      }\r\n    }\r\n  }\r\n}\r\n"
	w, inputs := renderWorld(t, committed)
	secret := `s3cr"et\with/unicode-é`
	inputs["client-secret"] = secret
	res := w.run(inputs).mustSucceed(t)

	out := filepath.Join(w.sb.Dir, "deploy", "config.json")
	info, err := os.Stat(out)
	if err != nil {
		t.Fatal(err)
	}
	if mode := info.Mode().Perm(); mode != 0o600 {
		t.Errorf("mode = %o, want 600", mode)
	}
	got, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Domains map[string]struct {
			AuthStrategies struct {
				OIDC struct {
					Client struct {
						Secret string `json:"client_secret"`
					} `json:"client"`
				} `json:"oidc"`
			} `json:"authStrategies"`
		} `json:"domains"`
	}
	if err := json.Unmarshal(got, &doc); err != nil {
		t.Fatalf("rendered file is not JSON: %v\n%s", err, got)
	}
	if s := doc.Domains[""].AuthStrategies.OIDC.Client.Secret; s != secret {
		t.Errorf("rendered secret = %q, want %q", s, secret)
	}
	if want := strings.Replace(committed, "${MESHCENTRAL_OIDC_CLIENT_SECRET}", `s3cr\"et\\with/unicode-é`, 1); string(got) != want {
		t.Errorf("rendered file differs beyond the secret:\n%q\nwant\n%q", got, want)
	}
	if strings.Contains(withoutMasks(res.stdout), secret) {
		t.Error("the log contains the secret")
	}
}

func TestRenderWithoutPlaceholderFails(t *testing.T) {
	w, inputs := renderWorld(t, `{"domains": {"": {}}}`)
	inputs["client-secret"] = "x"
	res := w.run(inputs)
	if res.exitCode == 0 {
		t.Fatal("render succeeded without a placeholder in config.json")
	}
	contains(t, "log", res.stdout, "${MESHCENTRAL_OIDC_CLIENT_SECRET}")
	if _, err := os.Stat(filepath.Join(w.sb.Dir, "deploy", "config.json")); err == nil {
		t.Error("render wrote a file although it failed")
	}
}
