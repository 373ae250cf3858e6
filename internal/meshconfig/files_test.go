package meshconfig

import (
	"encoding/json"
	"errors"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const sharedDir = "/work/shared/meshcentral"

// sharedFiles lists the reference configs; the test is skipped where the
// shared directory is not mounted.
func sharedFiles(t *testing.T) []string {
	t.Helper()
	var files []string
	for _, sub := range []string{"samples", "real-world"} {
		matches, err := filepath.Glob(filepath.Join(sharedDir, sub, "*"))
		if err != nil {
			t.Fatal(err)
		}
		files = append(files, matches...)
	}
	if len(files) == 0 {
		t.Skipf("no reference configs under %s", sharedDir)
	}
	return files
}

// TestSharedFiles edits every reference config for the default domain:
// strict files yield strict JSON whose changes stay inside the domain's
// authStrategies block, match a golden diff and are idempotent; .jsonc
// files are refused with the position of their trailing comma.
func TestSharedFiles(t *testing.T) {
	wantSyntax := map[string]struct{ line, col int }{
		"endangeredtoast--meshcentral-stack--meshcentral--data--config.jsonc": {29, 4},
		"tuannnh--home-stacks--meshcentral--config.jsonc":                     {19, 34},
	}
	meshURL, _ := url.Parse("https://mesh.example.com")
	for _, file := range sharedFiles(t) {
		name := filepath.Base(file)
		t.Run(name, func(t *testing.T) {
			src, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			uri, warnings, uriErr := RedirectURI(src, meshURL, "")
			if uriErr != nil {
				uri = "https://mesh.example.com/auth-oidc-callback"
			}
			d := desired("", "https://auth.example.com/application/o/meshcentral/", uri)
			d.GroupsSet, d.AdminGroups, d.SyncGroups = true, []string{"MeshCentral Admins"}, true
			res, err := Edit(name, src, d)
			if err == nil && uriErr != nil {
				t.Fatalf("RedirectURI: %v", uriErr)
			}
			title := "Edit " + name + "\nredirect URI " + uri
			for _, w := range warnings {
				title += "\nredirect warning: " + w
			}

			if strings.HasSuffix(name, ".jsonc") {
				var se *SyntaxError
				if !errors.As(err, &se) {
					t.Fatalf("Edit error = %v, want a *SyntaxError", err)
				}
				want := wantSyntax[name]
				if se.Line != want.line || se.Column != want.col || !strings.Contains(se.Msg, "trailing comma") {
					t.Errorf("SyntaxError = %d:%d %q, want %d:%d trailing comma", se.Line, se.Column, se.Msg, want.line, want.col)
				}
				if _, _, err := RedirectURI(src, meshURL, ""); !errors.As(err, &se) {
					t.Errorf("RedirectURI error = %v, want a *SyntaxError", err)
				}
				checkGolden(t, name+".golden", []byte(formatResult("Edit "+name, src, nil, err)))
				return
			}
			if err != nil {
				t.Fatalf("Edit: %v", err)
			}
			if !json.Valid(res.Content) {
				t.Fatal("the output is not valid JSON")
			}
			checkConfined(t, src, res.Content, "")
			checkIdempotent(t, name, res, d)
			oidc := effectiveOIDC(dig(meshView(t, res.Content), "domains", "", "authstrategies", "oidc"))
			for k, want := range map[string]any{
				"issuer": d.Issuer, "client_id": d.ClientID, "client_secret": placeholder,
				"redirect_uri": d.RedirectURI, "newaccounts": true,
			} {
				if oidc[k] != want {
					t.Errorf("MeshCentral would read %s = %v, want %v", k, oidc[k], want)
				}
			}
			if twins := caseTwins(t, res.Content); len(twins) > len(caseTwins(t, src)) {
				t.Errorf("the edit added keys that differ only in case: %v", twins)
			}
			checkGolden(t, name+".golden", []byte(formatResult(title, src, res, nil)))
		})
	}
}
