package meshconfig

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
)

// FuzzEdit checks that for any valid JSON, Edit either fails or returns
// strict JSON that a second Edit leaves byte-identical with no changes.
func FuzzEdit(f *testing.F) {
	for _, s := range []string{
		`{}`, `{"domains": {}}`, `{"domains": {"": {"authStrategies": {"oidc": {"issuer": {}}}}}}`,
		`{"domains":{"":{"authStrategies":{"oidc":{"clientid":"a","client":{}}}}}}`,
		"{\r\n\t\"domains\": {\"authStrategies\": {\"oidc\": {\"clientsecret\": \"x\"}}}\r\n}",
		`{"domains": {"x": {"dns": "a"}, "": {"authStrategies": {"oidc": {"groups": 1}}}}}`,
	} {
		f.Add([]byte(s), "")
	}
	matches, _ := filepath.Glob("/work/shared/cases/*/config.json")
	for _, m := range matches {
		if src, err := os.ReadFile(m); err == nil {
			f.Add(src, "support")
		}
	}
	f.Fuzz(func(t *testing.T, src []byte, domain string) {
		if !json.Valid(src) {
			return
		}
		d := desired(domain, testIssuer, testRedirect)
		d.GroupsSet, d.AdminGroups = true, []string{"admins"}
		res, err := Edit("config.json", src, d)
		if err != nil {
			return
		}
		if !json.Valid(res.Content) {
			t.Fatalf("Edit returned invalid JSON:\n%s", res.Content)
		}
		again, err := Edit("config.json", res.Content, d)
		if err != nil {
			t.Fatalf("Edit of its own output: %v\n%s", err, res.Content)
		}
		if !bytes.Equal(again.Content, res.Content) || again.Changed() {
			t.Fatalf("Edit is not idempotent:\n%s", formatDiff(res.Content, again.Content))
		}
	})
}
