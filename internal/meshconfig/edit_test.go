package meshconfig

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/meshauth/meshcentral-authentik-action/internal/change"
)

const (
	testIssuer   = "https://auth.example.com/application/o/meshcentral/"
	testRedirect = "https://mesh.example.com/auth-oidc-callback"
)

// nestedBlock is the block Edit writes for desired("", ...) at the given
// indentation of the "oidc" key, one level being unit.
func nestedBlock(indent, unit, nl string) string {
	lines := []string{
		`"oidc": {`,
		unit + `"issuer": "` + testIssuer + `",`,
		unit + `"client": {`,
		unit + unit + `"client_id": "client-id-from-authentik",`,
		unit + unit + `"client_secret": "${MESHCENTRAL_OIDC_CLIENT_SECRET}",`,
		unit + unit + `"redirect_uri": "` + testRedirect + `"`,
		unit + `},`,
		unit + `"newAccounts": true`,
		`}`,
	}
	return indent + strings.Join(lines, nl+indent)
}

// TestEditLayout checks byte for byte that new text follows the file's
// layout and that everything else is kept.
func TestEditLayout(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{{
		name: "CRLF, BOM and no final newline",
		in:   "\ufeff{\r\n  \"domains\": {\r\n    \"\": {\r\n      \"title\": \"x\"\r\n    }\r\n  }\r\n}",
		want: "\ufeff{\r\n  \"domains\": {\r\n    \"\": {\r\n      \"title\": \"x\",\r\n      \"authStrategies\": {\r\n" +
			nestedBlock("        ", "  ", "\r\n") + "\r\n      }\r\n    }\r\n  }\r\n}",
	}, {
		name: "tabs",
		in:   "{\n\t\"domains\": {\n\t\t\"\": {\n\t\t\t\"title\": \"x\"\n\t\t}\n\t}\n}\n",
		want: "{\n\t\"domains\": {\n\t\t\"\": {\n\t\t\t\"title\": \"x\",\n\t\t\t\"authStrategies\": {\n" +
			nestedBlock("\t\t\t\t", "\t", "\n") + "\n\t\t\t}\n\t\t}\n\t}\n}\n",
	}, {
		name: "four spaces, unicode and escapes kept",
		in: "{\n    \"settings\": {\"title\": \"Caf\\u00e9 ® \\\"quoted\\\" C:\\\\dir\"},\n" +
			"    \"domains\": {\n        \"\": {\n            \"authStrategies\": {}\n        }\n    }\n}\n",
		want: "{\n    \"settings\": {\"title\": \"Caf\\u00e9 ® \\\"quoted\\\" C:\\\\dir\"},\n" +
			"    \"domains\": {\n        \"\": {\n            \"authStrategies\": {\n" +
			nestedBlock("                ", "    ", "\n") + "\n            }\n        }\n    }\n}\n",
	}, {
		name: "domains missing",
		in:   "{\n  \"settings\": {}\n}\n",
		want: "{\n  \"settings\": {},\n  \"domains\": {\n    \"\": {\n      \"authStrategies\": {\n" +
			nestedBlock("        ", "  ", "\n") + "\n      }\n    }\n  }\n}\n",
	}, {
		name: "empty file object",
		in:   "{}",
		want: "{\n  \"domains\": {\n    \"\": {\n      \"authStrategies\": {\n" +
			nestedBlock("        ", "  ", "\n") + "\n      }\n    }\n  }\n}",
	}, {
		name: "one-line file",
		in:   `{"domains":{"":{"title":"x"}}}`,
		want: `{"domains":{"":{"title":"x","authStrategies":{"oidc":{"issuer":"` + testIssuer + `",` +
			`"client":{"client_id":"client-id-from-authentik","client_secret":"${MESHCENTRAL_OIDC_CLIENT_SECRET}",` +
			`"redirect_uri":"` + testRedirect + `"},"newAccounts":true}}}}}`,
	}, {
		name: "one-line objects with spaces",
		in:   "{\n  \"domains\": {\"\": {\"title\": \"x\", \"authStrategies\": {\"oidc\": {}}}}\n}\n",
		want: "{\n  \"domains\": {\"\": {\"title\": \"x\", \"authStrategies\": {\"oidc\": {\"issuer\": \"" + testIssuer + "\", " +
			"\"client\": {\"client_id\": \"client-id-from-authentik\", \"client_secret\": \"${MESHCENTRAL_OIDC_CLIENT_SECRET}\", " +
			"\"redirect_uri\": \"" + testRedirect + "\"}, \"newAccounts\": true}}}}\n}\n",
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := desired("", testIssuer, testRedirect)
			res, err := Edit("config.json", []byte(tt.in), d)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, string(res.Content)); diff != "" {
				t.Errorf("content (-want +got):\n%s", diff)
			}
			checkIdempotent(t, "config.json", res, d)
		})
	}
}

func TestEditKeepsExistingForms(t *testing.T) {
	tests := []struct {
		name    string
		block   string // the oidc object, at 8 spaces
		want    string
		notes   int
		deleted []string
	}{{
		// MeshCentral copies the issuer object over discovery's results, so
		// an old provider's endpoints there would win over authentik's.
		name: "issuer object with endpoints becomes the issuer URL",
		block: `{
          "issuer": {
            "issuer": "https://old.example.com/",
            "end_session_endpoint": "https://old.example.com/logout"
          },
          "client": {"client_id": "a", "client_secret": "${MESHCENTRAL_OIDC_CLIENT_SECRET}", "redirect_uri": "x"},
          "newAccounts": "true"
        }`,
		want: `{
          "issuer": "` + testIssuer + `",
          "client": {"client_id": "client-id-from-authentik", "client_secret": "${MESHCENTRAL_OIDC_CLIENT_SECRET}", "redirect_uri": "` + testRedirect + `"},
          "newAccounts": true
        }`,
		notes: 1,
	}, {
		name: "issuer object with only the issuer is edited in place",
		block: `{
          "issuer": {
            "issuer": "https://old.example.com/"
          },
          "client": {"client_id": "a", "client_secret": "${MESHCENTRAL_OIDC_CLIENT_SECRET}", "redirect_uri": "x"},
          "newAccounts": true
        }`,
		want: `{
          "issuer": {
            "issuer": "` + testIssuer + `"
          },
          "client": {"client_id": "client-id-from-authentik", "client_secret": "${MESHCENTRAL_OIDC_CLIENT_SECRET}", "redirect_uri": "` + testRedirect + `"},
          "newAccounts": true
        }`,
	}, {
		name: "flat keys beside client are removed",
		block: `{
          "clientid": "old",
          "issuer": "` + testIssuer + `",
          "client": {
            "client_id": "client-id-from-authentik"
          },
          "callbackURL": "x"
        }`,
		want: `{
          "issuer": "` + testIssuer + `",
          "client": {
            "client_id": "client-id-from-authentik",
            "client_secret": "${MESHCENTRAL_OIDC_CLIENT_SECRET}",
            "redirect_uri": "` + testRedirect + `"
          },
          "newAccounts": true
        }`,
		notes:   1,
		deleted: []string{"clientid", "callbackURL"},
	}, {
		name:  "flat block gains callbackURL",
		block: `{"issuer": "` + testIssuer + `", "clientid": "client-id-from-authentik", "clientsecret": "${MESHCENTRAL_OIDC_CLIENT_SECRET}", "newAccounts": true}`,
		want:  `{"issuer": "` + testIssuer + `", "clientid": "client-id-from-authentik", "clientsecret": "${MESHCENTRAL_OIDC_CLIENT_SECRET}", "newAccounts": true, "callbackURL": "` + testRedirect + `"}`,
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			wrap := func(block string) string {
				return "{\n  \"domains\": {\n    \"\": {\n      \"authStrategies\": {\n        \"oidc\": " + block + "\n      }\n    }\n  }\n}\n"
			}
			d := desired("", testIssuer, testRedirect)
			res, err := Edit("config.json", []byte(wrap(tt.block)), d)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(wrap(tt.want), string(res.Content)); diff != "" {
				t.Errorf("content (-want +got):\n%s", diff)
			}
			if len(res.Notes) != tt.notes {
				t.Errorf("notes = %q, want %d", res.Notes, tt.notes)
			}
			var deleted []string
			for _, e := range res.Changes {
				if e.Action == change.Delete {
					deleted = append(deleted, e.Field[strings.LastIndex(e.Field, ".")+1:])
				}
			}
			if diff := cmp.Diff(tt.deleted, deleted); diff != "" {
				t.Errorf("deleted keys (-want +got):\n%s", diff)
			}
			checkIdempotent(t, "config.json", res, d)
		})
	}
}

func TestEditGroups(t *testing.T) {
	in := `{
  "domains": {
    "": {
      "authStrategies": {
        "oidc": {
          "groups": {"claim": "roles", "required": ["old"], "siteadmin": ["old"]}
        }
      }
    }
  }
}
`
	d := desired("", testIssuer, testRedirect)
	untouched, err := Edit("config.json", []byte(in), d)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(untouched.Content, []byte(`"groups": {"claim": "roles", "required": ["old"], "siteadmin": ["old"]}`)) {
		t.Errorf("groups changed although GroupsSet is false:\n%s", untouched.Content)
	}

	d.GroupsSet, d.AdminGroups, d.SyncGroups = true, []string{"admins", `quote"d`}, true
	res, err := Edit("config.json", []byte(in), d)
	if err != nil {
		t.Fatal(err)
	}
	want := `"groups": {"claim": "roles", "siteadmin": ["admins", "quote\"d"], "sync": true}`
	if !bytes.Contains(res.Content, []byte(want)) {
		t.Errorf("content lacks %s:\n%s", want, res.Content)
	}
	if len(res.Warnings) != 1 || !strings.Contains(res.Warnings[0], "groups.required is removed") {
		t.Errorf("warnings = %q, want one about removing groups.required", res.Warnings)
	}
	checkIdempotent(t, "config.json", res, d)
}

func TestEditSecrets(t *testing.T) {
	in := `{"domains": {"": {"authStrategies": {"oidc": {"client": {"client_secret": "s3cret-value"}}}}}}`

	t.Run("placeholder replaces a committed secret", func(t *testing.T) {
		res, err := Edit("config.json", []byte(in), desired("", testIssuer, testRedirect))
		if err != nil {
			t.Fatal(err)
		}
		if len(res.Warnings) != 1 || !strings.Contains(res.Warnings[0], "rotate-client-secret: true") {
			t.Errorf("warnings = %q, want one recommending rotation", res.Warnings)
		}
		for _, e := range res.Changes {
			if strings.HasSuffix(e.Field, "client_secret") && (!e.Sensitive || e.Before != "" || e.After != "") {
				t.Errorf("entry %+v should be sensitive with no values", e)
			}
		}
		if bytes.Contains(res.Content, []byte("s3cret-value")) {
			t.Error("the committed secret is still in the file")
		}
	})

	t.Run("inline mode keeps its own secret quietly", func(t *testing.T) {
		d := desired("", testIssuer, testRedirect)
		d.ClientSecret = "s3cret-value"
		res, err := Edit("config.json", []byte(in), d)
		if err != nil {
			t.Fatal(err)
		}
		if len(res.Warnings) != 0 {
			t.Errorf("warnings = %q, want none for the desired secret", res.Warnings)
		}
		checkIdempotent(t, "config.json", res, d)
	})

	t.Run("template placeholders are not secrets", func(t *testing.T) {
		for _, v := range []string{"${OTHER_SECRET}", "__ENTRA_CLIENT_SECRET__", "{{ secret }}"} {
			if !isPlaceholder(v, placeholder) {
				t.Errorf("isPlaceholder(%q) = false", v)
			}
		}
		for _, v := range []string{"abc${X}", "__lower__", "s3cret"} {
			if isPlaceholder(v, placeholder) {
				t.Errorf("isPlaceholder(%q) = true", v)
			}
		}
	})
}

func TestEditNewDomainLowerCased(t *testing.T) {
	in := "{\n  \"domains\": {\n    \"\": {}\n  }\n}\n"
	d := desired("Support", testIssuer, "https://mesh.example.com/support/auth-oidc-callback")
	res, err := Edit("config.json", []byte(in), d)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(res.Content, []byte("\n    \"support\": {\n      \"authStrategies\": {\n")) {
		t.Errorf("no lower-cased domain added:\n%s", res.Content)
	}
	checkConfined(t, []byte(in), res.Content, "Support")
	checkIdempotent(t, "config.json", res, d)
}

func TestEditErrors(t *testing.T) {
	tests := []struct {
		name, in string
		want     string // substring of the error
	}{
		{"top level array", `[]`, "top-level value is an array"},
		{"domain not object", `{"domains": {"": "x"}}`, `domains[""] is a string, not an object`},
		{"oidc not object", `{"domains": {"": {"authStrategies": {"oidc": true}}}}`, `authStrategies.oidc is a boolean, not an object`},
		{"client not object", `{"domains": {"": {"authStrategies": {"oidc": {"client": []}}}}}`, `oidc.client is an array, not an object`},
		{"top-level twins", "{\n\"domains\": {},\n\"Domains\": {}}", `the top-level object has keys "domains" (line 2) and "Domains" (line 3)`},
		{"field twins", `{"domains": {"": {"authStrategies": {"oidc": {"clientid": "a", "ClientId": "b"}}}}}`, `"clientid" (line 1) and "ClientId" (line 1)`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Edit("config.json", []byte(tt.in), desired("", testIssuer, testRedirect))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error = %v, want it to contain %q", err, tt.want)
			}
		})
	}

	t.Run("path twins name keys and lines", func(t *testing.T) {
		in := "{\n  \"domains\": {\n    \"\": {\n      \"authStrategies\": {},\n      \"AuthStrategies\": {}\n    }\n  }\n}\n"
		_, err := Edit("config.json", []byte(in), desired("", testIssuer, testRedirect))
		var dup *DuplicateKeyError
		if !errors.As(err, &dup) {
			t.Fatalf("error = %v, want a *DuplicateKeyError", err)
		}
		if diff := cmp.Diff([]string{"authStrategies", "AuthStrategies"}, dup.Keys); diff != "" {
			t.Errorf("keys (-want +got):\n%s", diff)
		}
		if diff := cmp.Diff([]int{4, 5}, dup.Lines); diff != "" {
			t.Errorf("lines (-want +got):\n%s", diff)
		}
	})

	t.Run("too large", func(t *testing.T) {
		big := append([]byte(`{"x": "`), bytes.Repeat([]byte("a"), MaxSize)...)
		big = append(big, `"}`...)
		_, err := Edit("config.json", big, desired("", testIssuer, testRedirect))
		if err == nil || !strings.Contains(err.Error(), "limit") {
			t.Errorf("error = %v, want a size limit error", err)
		}
	})

	t.Run("empty desired value", func(t *testing.T) {
		d := desired("", testIssuer, testRedirect)
		d.ClientID = ""
		if _, err := Edit("config.json", []byte(`{}`), d); err == nil || !strings.Contains(err.Error(), "client ID is empty") {
			t.Errorf("error = %v, want one about the empty client ID", err)
		}
	})
}

func TestConfinementCheckFails(t *testing.T) {
	in := []byte("{\n  \"domains\": {\n    \"\": {\n      \"title\": \"x\",\n      \"authStrategies\": {}\n    }\n  }\n}\n")
	out := bytes.Replace(in, []byte(`"x"`), []byte(`"y"`), 1)
	problems, err := confinementProblems(in, out, "")
	if err != nil {
		t.Fatal(err)
	}
	if len(problems) != 2 {
		t.Errorf("problems = %q, want the removed and the added title line", problems)
	}
}
