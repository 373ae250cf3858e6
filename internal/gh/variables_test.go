package gh

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
)

func TestVariableFoundAndMissing(t *testing.T) {
	t.Parallel()
	s := newStub(t)
	s.json("GET /repos/octo/deploy", 200, repoJSON(42, "octo/deploy", "main"))
	s.json("GET /repos/octo/deploy/actions/variables/ISSUER", 200, map[string]string{"name": "ISSUER", "value": "https://auth.example.test/application/o/meshcentral/"})
	s.json("GET /repositories/42/environments/prod/variables/ISSUER", 404, map[string]string{"message": "Not Found"})
	c := s.start(Config{})
	ctx := context.Background()

	value, found, err := c.Variable(ctx, testRepo, "", "ISSUER")
	if err != nil || !found || value != "https://auth.example.test/application/o/meshcentral/" {
		t.Errorf("Variable(repo) = %q, %v, %v", value, found, err)
	}
	value, found, err = c.Variable(ctx, testRepo, "prod", "ISSUER")
	if err != nil || found || value != "" {
		t.Errorf("Variable(prod) = %q, %v, %v; want not found", value, found, err)
	}
	if _, _, err := c.Variable(ctx, testRepo, "", "GITHUB_SHA"); err == nil || !strings.Contains(err.Error(), `variable name "GITHUB_SHA"`) {
		t.Errorf("Variable(GITHUB_SHA) error = %v, want a name error", err)
	}
}

func TestPutVariableCreatesUpdatesOrSkips(t *testing.T) {
	t.Parallel()
	s := newStub(t)
	s.json("GET /repos/octo/deploy", 200, repoJSON(42, "octo/deploy", "main"))
	s.json("GET /repos/octo/deploy/actions/variables/NEW_VAR", 404, map[string]string{"message": "Not Found"})
	s.json("GET /repos/octo/deploy/actions/variables/OLD_VAR", 200, map[string]string{"name": "OLD_VAR", "value": "old"})
	s.json("GET /repos/octo/deploy/actions/variables/SAME_VAR", 200, map[string]string{"name": "SAME_VAR", "value": "same"})
	s.json("GET /repositories/42/environments/prod/variables/ENV_VAR", 200, map[string]string{"name": "ENV_VAR", "value": "a"})
	s.json("POST /repos/octo/deploy/actions/variables", 201, map[string]any{})
	s.json("PATCH /repos/octo/deploy/actions/variables/OLD_VAR", 204, nil)
	s.json("PATCH /repositories/42/environments/prod/variables/ENV_VAR", 204, nil)
	c := s.start(Config{})
	ctx := context.Background()

	for _, v := range []struct{ env, name, value string }{
		{"", "NEW_VAR", "n"},
		{"", "OLD_VAR", "new"},
		{"", "SAME_VAR", "same"},
		{"prod", "ENV_VAR", "b"},
		{"", "NEW_VAR", "n"}, // known now: no second write
	} {
		if err := c.PutVariable(ctx, testRepo, v.env, v.name, v.value); err != nil {
			t.Fatalf("PutVariable(%q, %q): %v", v.env, v.name, err)
		}
	}

	want := []string{
		"POST /repos/octo/deploy/actions/variables",
		"PATCH /repos/octo/deploy/actions/variables/OLD_VAR",
		"PATCH /repositories/42/environments/prod/variables/ENV_VAR",
	}
	if got := s.writes(); strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("writes = %q, want %q", got, want)
	}
	var created struct{ Name, Value string }
	if err := json.Unmarshal(s.sent("POST /repos/octo/deploy/actions/variables"), &created); err != nil || created.Name != "NEW_VAR" || created.Value != "n" {
		t.Errorf("POST body = %+v (%v), want NEW_VAR=n", created, err)
	}
	value, found, err := c.Variable(ctx, testRepo, "", "OLD_VAR")
	if err != nil || !found || value != "new" {
		t.Errorf("Variable(OLD_VAR) after the update = %q, %v, %v; want the new value from the cache", value, found, err)
	}
}

func TestPutVariableForbiddenHint(t *testing.T) {
	t.Parallel()
	s := newStub(t)
	s.json("GET /repos/octo/deploy", 200, repoJSON(42, "octo/deploy", "main"))
	s.json("GET /repos/octo/deploy/actions/variables/ISSUER", 404, map[string]string{"message": "Not Found"})
	s.json("POST /repos/octo/deploy/actions/variables", 403, map[string]string{"message": "Resource not accessible by integration"})
	c := s.start(Config{})

	err := c.PutVariable(context.Background(), testRepo, "", "ISSUER", "x")
	for _, want := range []string{`put GitHub variable "ISSUER" in "octo/deploy"`, `"Variables: read and write"`} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("PutVariable error = %v, want it to contain %q", err, want)
		}
	}
}
