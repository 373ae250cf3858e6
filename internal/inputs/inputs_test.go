package inputs

import (
	"errors"
	"io"
	"strings"
	"testing"
)

func env(m map[string]string) func(string) string {
	return func(k string) string { return m[k] }
}

func validEnv() map[string]string {
	return map[string]string{
		"INPUT_AUTHENTIK-URL":   "https://auth.example.com/",
		"INPUT_AUTHENTIK-TOKEN": "ak-token",
		"INPUT_MESHCENTRAL-URL": "https://mesh.example.com",
		"INPUT_GITHUB-TOKEN":    "gh-token",
	}
}

func load(t *testing.T, m map[string]string, args ...string) (*Inputs, error) {
	t.Helper()
	return Load(env(m), args, io.Discard, Context{Repository: "acme/deploy"})
}

func TestLoadDefaults(t *testing.T) {
	in, err := load(t, validEnv())
	if err != nil {
		t.Fatal(err)
	}
	if in.Mode != ModeApply {
		t.Errorf("Mode = %q, want apply", in.Mode)
	}
	if got := in.AuthentikURL.String(); got != "https://auth.example.com" {
		t.Errorf("AuthentikURL = %q, want trailing slash trimmed", got)
	}
	if in.ApplicationSlug != "meshcentral" || in.ProviderName != "Provider for MeshCentral" {
		t.Errorf("slug/provider defaults = %q/%q", in.ApplicationSlug, in.ProviderName)
	}
	if got := DefaultProviderName("mesh-support"); got != "Provider for MeshCentral (mesh-support)" {
		t.Errorf("DefaultProviderName = %q", got)
	}
	if in.DeploymentRepository != "acme/deploy" {
		t.Errorf("DeploymentRepository = %q, want the current repository", in.DeploymentRepository)
	}
	if in.PullRequestBranch != "meshcentral-authentik/default" {
		t.Errorf("PullRequestBranch = %q", in.PullRequestBranch)
	}
	if !in.NewAccounts || in.SyncGroups || in.RotateClientSecret || !in.FailOnDrift {
		t.Errorf("boolean defaults wrong: %+v", in)
	}
	if in.Placeholder() != "${MESHCENTRAL_OIDC_CLIENT_SECRET}" {
		t.Errorf("Placeholder = %q", in.Placeholder())
	}
	if in.GroupsSet() {
		t.Error("GroupsSet true with no group input")
	}
}

func TestLoadFlagsOverrideEnvironment(t *testing.T) {
	m := validEnv()
	m["INPUT_APPLICATION_SLUG"] = "from-env"
	in, err := load(t, m, "--application-slug", "from-flag", "--mode", "plan")
	if err != nil {
		t.Fatal(err)
	}
	if in.ApplicationSlug != "from-flag" {
		t.Errorf("ApplicationSlug = %q, want from-flag", in.ApplicationSlug)
	}
	if in.Mode != ModePlan {
		t.Errorf("Mode = %q", in.Mode)
	}
}

func TestLoadUnderscoreEnvironment(t *testing.T) {
	m := validEnv()
	m["INPUT_APPLICATION_SLUG"] = "mesh"
	in, err := load(t, m)
	if err != nil {
		t.Fatal(err)
	}
	if in.ApplicationSlug != "mesh" {
		t.Errorf("ApplicationSlug = %q, want mesh", in.ApplicationSlug)
	}
}

func TestLoadLists(t *testing.T) {
	m := validEnv()
	m["INPUT_ALLOWED-GROUPS"] = "admins, staff,,staff"
	m["INPUT_ADMIN-GROUPS"] = "Admins, EU\nstaff\n\n ops "
	in, err := load(t, m)
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(in.AllowedGroups, "|"); got != "admins|staff" {
		t.Errorf("AllowedGroups = %q, want a one-line value split on commas", got)
	}
	if got := strings.Join(in.AdminGroups, "|"); got != "Admins, EU|staff|ops" {
		t.Errorf("AdminGroups = %q, want several lines split on line breaks only", got)
	}
}

func TestLoadRejects(t *testing.T) {
	tests := []struct {
		name  string
		set   map[string]string
		input string
		want  string
	}{
		{"missing authentik url", map[string]string{"INPUT_AUTHENTIK-URL": ""}, "authentik-url", "missing"},
		{"malformed url", map[string]string{"INPUT_AUTHENTIK-URL": "auth.example.com"}, "authentik-url", "absolute URL"},
		{"http authentik", map[string]string{"INPUT_AUTHENTIK-URL": "http://auth.example.com"}, "authentik-url", "travel in clear"},
		{"http meshcentral", map[string]string{"INPUT_MESHCENTRAL-URL": "http://mesh.example.com"}, "meshcentral-url", "allow-insecure-http"},
		{"port zero", map[string]string{"INPUT_MESHCENTRAL-URL": "https://mesh.example.com:0"}, "meshcentral-url", "1 to 65535"},
		{"port too large", map[string]string{"INPUT_MESHCENTRAL-URL": "https://mesh.example.com:99999"}, "meshcentral-url", "1 to 65535"},
		{"meshcentral path", map[string]string{"INPUT_MESHCENTRAL-URL": "https://mesh.example.com/support"}, "meshcentral-url", "meshcentral-domain"},
		{"bad slug", map[string]string{"INPUT_APPLICATION-SLUG": "mesh central"}, "application-slug", "hyphens"},
		{"bad mode", map[string]string{"INPUT_MODE": "destroy"}, "mode", "apply, plan, check or render"},
		{"bad boolean", map[string]string{"INPUT_NEW-ACCOUNTS": "yes"}, "new-accounts", "true or false"},
		{"path escapes", map[string]string{"INPUT_CONFIG-PATH": "../other/config.json"}, "config-path", "inside the repository"},
		{"absolute path", map[string]string{"INPUT_CONFIG-PATH": "/etc/config.json"}, "config-path", "relative"},
		{"secret name digit", map[string]string{"INPUT_CLIENT-ID-SECRET-NAME": "1ID"}, "client-id-secret-name", "not starting with a digit"},
		{"secret name reserved", map[string]string{"INPUT_CLIENT-SECRET-SECRET-NAME": "GITHUB_SECRET"}, "client-secret-secret-name", "reserves"},
		{"secret name dash", map[string]string{"INPUT_CLIENT-SECRET-SECRET-NAME": "MY-SECRET"}, "client-secret-secret-name", "underscores"},
		{"bad repository", map[string]string{"INPUT_DEPLOYMENT-REPOSITORY": "just-a-name"}, "deployment-repository", "owner/name"},
		{"bad branch", map[string]string{"INPUT_PULL-REQUEST-BRANCH": "a..b"}, "pull-request-branch", "branch name"},
		{"bad domain", map[string]string{"INPUT_MESHCENTRAL-DOMAIN": "a/b"}, "meshcentral-domain", "domain key"},
		{"bad ca", map[string]string{"INPUT_AUTHENTIK-CA-CERTIFICATE": "not a pem"}, "authentik-ca-certificate", "no PEM certificate"},
		{"missing token", map[string]string{"INPUT_AUTHENTIK-TOKEN": ""}, "authentik-token", "missing"},
		{"secret mode", map[string]string{"INPUT_CLIENT-SECRET-IN-CONFIG": "plain"}, "client-secret-in-config", "placeholder or inline"},
		{"rotate in plan", map[string]string{"INPUT_MODE": "plan", "INPUT_ROTATE-CLIENT-SECRET": "true"}, "rotate-client-secret", "apply mode"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := validEnv()
			for k, v := range tt.set {
				m[k] = v
			}
			_, err := load(t, m)
			if err == nil {
				t.Fatal("Load succeeded, want an error")
			}
			if !strings.Contains(err.Error(), "input "+tt.input) {
				t.Errorf("error %q does not name input %s", err, tt.input)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %q does not contain %q", err, tt.want)
			}
		})
	}
}

func TestLoadAllowsHTTPWhenAsked(t *testing.T) {
	m := validEnv()
	m["INPUT_AUTHENTIK-URL"] = "http://127.0.0.1:9000"
	m["INPUT_ALLOW-INSECURE-HTTP"] = "true"
	if _, err := load(t, m); err != nil {
		t.Fatal(err)
	}
}

func TestLoadNeverEchoesSecrets(t *testing.T) {
	m := validEnv()
	m["INPUT_AUTHENTIK-TOKEN"] = "line1\nline2-secret"
	m["INPUT_MODE"] = "bogus"
	_, err := load(t, m)
	if err == nil {
		t.Fatal("want error")
	}
	if strings.Contains(err.Error(), "secret") && strings.Contains(err.Error(), "line2-secret") {
		t.Errorf("error leaks the token: %q", err)
	}
	if !strings.Contains(err.Error(), "authentik-token contains a line break") {
		t.Errorf("error %q does not report the line break", err)
	}
}

func TestLoadReportsAllErrors(t *testing.T) {
	m := validEnv()
	m["INPUT_MODE"] = "x"
	m["INPUT_APPLICATION-SLUG"] = "a b"
	_, err := load(t, m)
	if err == nil || !strings.Contains(err.Error(), "input mode") || !strings.Contains(err.Error(), "input application-slug") {
		t.Errorf("want both errors, got %v", err)
	}
}

func TestLoadRenderNeedsNoRemoteInputs(t *testing.T) {
	m := map[string]string{"INPUT_MODE": "render", "INPUT_RENDER-OUTPUT": "out/config.json", "INPUT_CLIENT-SECRET": "s"}
	in, err := load(t, m)
	if err != nil {
		t.Fatal(err)
	}
	if in.RenderOutput != "out/config.json" {
		t.Errorf("RenderOutput = %q", in.RenderOutput)
	}
	m["INPUT_RENDER-OUTPUT"] = "meshcentral-data/config.json"
	if _, err := load(t, m); err == nil || !strings.Contains(err.Error(), "input render-output") {
		t.Errorf("rendering over config-path: got %v", err)
	}
	m["INPUT_RENDER-OUTPUT"] = "out/config.json"
	m["INPUT_MESHCENTRAL-DOMAIN"] = "Support-2"
	in, err = load(t, m)
	if err != nil {
		t.Fatal(err)
	}
	if in.Placeholder() != "${MESHCENTRAL_SUPPORT_2_OIDC_CLIENT_SECRET}" {
		t.Errorf("Placeholder for domain support-2 = %q", in.Placeholder())
	}
}

func TestLoadHelpAndVersion(t *testing.T) {
	var out strings.Builder
	_, err := Load(env(nil), []string{"--help"}, &out, Context{})
	if !errors.Is(err, ErrHelp) {
		t.Fatalf("err = %v, want ErrHelp", err)
	}
	if !strings.Contains(out.String(), "-authentik-url") || !strings.Contains(out.String(), "INPUT_<NAME>") {
		t.Errorf("usage lacks flags: %s", out.String())
	}
	if _, err := Load(env(nil), []string{"--version"}, io.Discard, Context{}); !errors.Is(err, ErrVersion) {
		t.Errorf("err = %v, want ErrVersion", err)
	}
}
