package meshtest

import (
	"encoding/json"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestGetResolvesCaseLikeMeshCentral(t *testing.T) {
	tests := []struct {
		name string
		doc  string
		want string // raw value MeshCentral keeps for "authstrategies"
	}{
		{name: "lower case only", doc: `{"authstrategies": 1}`, want: `1`},
		{name: "mixed case after lower", doc: `{"authstrategies": 1, "authStrategies": 2}`, want: `2`},
		{name: "mixed case before lower", doc: `{"authStrategies": 2, "authstrategies": 1}`, want: `2`},
		{name: "repeated key keeps last value", doc: `{"authStrategies": 2, "x": 0, "authStrategies": 3}`, want: `3`},
		{name: "last mixed spelling wins", doc: `{"AuthStrategies": 4, "authStrategies": 2, "authstrategies": 1}`, want: `2`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o, err := parseObject([]byte(tt.doc))
			if err != nil {
				t.Fatal(err)
			}
			m, ok := o.get("authStrategies")
			if !ok {
				t.Fatal("not found")
			}
			if got := string(m.raw); got != tt.want {
				t.Errorf("get = %s, want %s", got, tt.want)
			}
		})
	}
}

func TestSanitizeForLoopback(t *testing.T) {
	in := "\ufeff" + `{
  "settings": {"Cert": "mesh.example.com", "Port": 443, "AliasPort": 443, "TlsOffload": "127.0.0.1",
    "mongoDb": "mongodb://db", "SelfUpdate": true, "WebRTC": false},
  "domains": {
    "": {"title": "t", "authStrategies": {"oidc": {"issuer": "x"}}, "authstrategies": {}, "smtp": {"host": "mail"}},
    "Other": {"dns": "mesh.localhost"}
  },
  "letsencrypt": {"email": "a@b"},
  "peers": {}
}`
	o, err := sanitize([]byte(in), "localhost", 4430, "/tmp/auth.log", "key")
	if err != nil {
		t.Fatal(err)
	}

	var got map[string]any
	if err := json.Unmarshal(o.marshal(), &got); err != nil {
		t.Fatalf("sanitized config is not JSON: %v\n%s", err, o.marshal())
	}
	want := map[string]any{
		"settings": map[string]any{
			"AliasPort": 443.0, "WebRTC": false,
			"cert": "localhost", "port": 4430.0, "portbind": "127.0.0.1", "redirport": 0.0, "mpsport": 0.0,
			"exactports": true, "wanonly": true, "selfupdate": false, "agenttimestampserver": false,
			"noagentupdate": 1.0, "authlog": "/tmp/auth.log", "sessionkey": "key", "autobackup": false,
		},
		"domains": map[string]any{
			"":      map[string]any{"title": "t", "authStrategies": map[string]any{"oidc": map[string]any{"issuer": "x"}}, "authstrategies": map[string]any{}},
			"Other": map[string]any{"dns": "mesh.localhost"},
		},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("sanitized config (-want +got):\n%s", diff)
	}

	// The order of the two authStrategies spellings must survive, because
	// it decides which one MeshCentral uses.
	domains, _ := o.get("domains")
	def, _ := domains.child.get("")
	if def.child.members[1].key != "authStrategies" || def.child.members[2].key != "authstrategies" {
		t.Errorf("domain keys reordered: %q, %q", def.child.members[1].key, def.child.members[2].key)
	}
}

func TestSanitizeRejectsInvalidJSON(t *testing.T) {
	for _, doc := range []string{`{"settings": {},}`, `[]`, `{"a": 1} {}`} {
		if _, err := sanitize([]byte(doc), "localhost", 1, "a", "k"); err == nil {
			t.Errorf("sanitize(%s) succeeded, want an error", doc)
		}
	}
}

func TestDomainsAndDomainFor(t *testing.T) {
	o, err := sanitize([]byte(`{"domains": {
		"": {"authStrategies": {"oidc": {}}},
		"Team": {"authstrategies": {"oidc": {}}},
		"mesh": {"DNS": "Mesh.Localhost"},
		"_off": {}
	}}`), "localhost", 1, "a", "k")
	if err != nil {
		t.Fatal(err)
	}
	inst := &Instance{config: o}
	want := []domain{{id: "", oidc: true}, {id: "team", oidc: true}, {id: "mesh", dns: "mesh.localhost"}}
	if diff := cmp.Diff(want, inst.domains(), cmp.AllowUnexported(domain{})); diff != "" {
		t.Errorf("domains (-want +got):\n%s", diff)
	}

	for _, tt := range []struct{ path, host, want string }{
		{"", "localhost", ""},
		{"team", "localhost", "team"},
		{"/Team/", "localhost", "team"},
		{"", "mesh.localhost", "mesh"},
	} {
		d, err := inst.domainFor(tt.path, tt.host)
		if err != nil || d.id != tt.want {
			t.Errorf("domainFor(%q, %q) = %q, %v; want %q", tt.path, tt.host, d.id, err, tt.want)
		}
	}
	if _, err := inst.domainFor("missing", "localhost"); err == nil {
		t.Errorf("domainFor of a missing domain succeeded")
	}
}
