package gh

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	mathrand "math/rand"
	"net/http"
	"strings"
	"testing"

	"golang.org/x/crypto/nacl/box"
)

func TestValidSecretName(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		wantErr string
	}{
		{"MESHCENTRAL_OIDC_CLIENT_ID", ""},
		{"_leading_underscore", ""},
		{"lower_case9", ""},
		{"", "empty"},
		{"9LIVES", "starts with a digit"},
		{"HAS-DASH", "only letters, digits and '_'"},
		{"HAS SPACE", "only letters, digits and '_'"},
		{"ÜMLAUT", "only letters, digits and '_'"},
		{"GITHUB_TOKEN", "prefix is reserved"},
		{"github_mine", "prefix is reserved"},
	}
	for _, tt := range tests {
		err := ValidSecretName(tt.name)
		switch {
		case tt.wantErr == "" && err != nil:
			t.Errorf("ValidSecretName(%q) = %v, want nil", tt.name, err)
		case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
			t.Errorf("ValidSecretName(%q) = %v, want an error containing %q", tt.name, err, tt.wantErr)
		}
	}
}

// sealedPut is the body of a secret PUT.
type sealedPut struct {
	EncryptedValue string `json:"encrypted_value"`
	KeyID          string `json:"key_id"`
}

// openSealed decrypts a PUT body with the recipient's key pair.
func openSealed(t *testing.T, body []byte, pub, priv *[32]byte) (string, string) {
	t.Helper()
	var put sealedPut
	if err := json.Unmarshal(body, &put); err != nil {
		t.Fatalf("decode the PUT body %q: %v", body, err)
	}
	sealed, err := base64.StdEncoding.DecodeString(put.EncryptedValue)
	if err != nil {
		t.Fatalf("encrypted_value is not base64: %v", err)
	}
	plain, ok := box.OpenAnonymous(nil, sealed, pub, priv)
	if !ok {
		t.Fatalf("encrypted_value does not open with the served key")
	}
	return string(plain), put.KeyID
}

func TestPutSecretSealsWithTheTargetKey(t *testing.T) {
	t.Parallel()
	tests := []struct {
		env     string
		keyPath string
		putPath string
	}{
		{"", "/repos/octo/deploy/actions/secrets/public-key", "/repos/octo/deploy/actions/secrets/"},
		{"prod eu", "/repositories/42/environments/prod%20eu/secrets/public-key", "/repositories/42/environments/prod%20eu/secrets/"},
	}
	for _, tt := range tests {
		t.Run("env="+tt.env, func(t *testing.T) {
			t.Parallel()
			pub, priv, err := box.GenerateKey(mathrand.New(mathrand.NewSource(7)))
			if err != nil {
				t.Fatal(err)
			}
			s := newStub(t)
			s.json("GET /repos/octo/deploy", 200, repoJSON(42, "octo/deploy", "main"))
			s.json("GET "+tt.keyPath, 200, map[string]string{"key_id": "kid-1", "key": base64.StdEncoding.EncodeToString(pub[:])})
			s.json("PUT "+tt.putPath+"{name}", 201, map[string]any{})
			c := s.start(Config{Rand: mathrand.New(mathrand.NewSource(1))})

			ctx := context.Background()
			values := map[string]string{"MESHCENTRAL_OIDC_CLIENT_ID": "client-id-123", "MESHCENTRAL_OIDC_CLIENT_SECRET": "s3cr3t \"quoted\" ü"}
			for name, value := range values {
				if err := c.PutSecret(ctx, testRepo, tt.env, name, value); err != nil {
					t.Fatalf("PutSecret(%q): %v", name, err)
				}
			}
			for name, want := range values {
				got, kid := openSealed(t, s.sent("PUT "+tt.putPath+name), pub, priv)
				if got != want || kid != "kid-1" {
					t.Errorf("secret %q opened to %q with key_id %q, want %q with %q", name, got, kid, want, "kid-1")
				}
			}
			if n := s.count("GET " + tt.keyPath); n != 1 {
				t.Errorf("public key fetched %d times, want once: %q", n, s.requests())
			}
			if n := s.count("GET /repos/octo/deploy"); n != 1 {
				t.Errorf("repository fetched %d times, want once: %q", n, s.requests())
			}
		})
	}
}

func TestPutSecretRefusesBadKeys(t *testing.T) {
	t.Parallel()
	tests := map[string]struct {
		key     map[string]string
		wantErr string
	}{
		"short key":  {map[string]string{"key_id": "k", "key": base64.StdEncoding.EncodeToString(make([]byte, 31))}, "the key is 31 bytes, expected 32"},
		"not base64": {map[string]string{"key_id": "k", "key": "%%%"}, "not base64"},
		"no key id":  {map[string]string{"key_id": "", "key": base64.StdEncoding.EncodeToString(make([]byte, 32))}, "missing key_id"},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			s := newStub(t)
			s.json("GET /repos/octo/deploy", 200, repoJSON(42, "octo/deploy", "main"))
			s.json("GET /repos/octo/deploy/actions/secrets/public-key", 200, tt.key)
			c := s.start(Config{})
			err := c.PutSecret(context.Background(), testRepo, "", "CLIENT_SECRET", "hunter2")
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("PutSecret = %v, want an error containing %q", err, tt.wantErr)
			}
			if w := s.writes(); len(w) != 0 {
				t.Errorf("writes sent with a bad key: %q", w)
			}
		})
	}
}

func TestPutSecretForbiddenForGitHubToken(t *testing.T) {
	t.Parallel()
	pub, _, _ := box.GenerateKey(mathrand.New(mathrand.NewSource(3)))
	s := newStub(t)
	s.json("GET /repos/octo/deploy", 200, repoJSON(42, "octo/deploy", "main"))
	s.json("GET /repos/octo/deploy/actions/secrets/public-key", 200, map[string]string{"key_id": "k", "key": base64.StdEncoding.EncodeToString(pub[:])})
	s.json("PUT /repos/octo/deploy/actions/secrets/{name}", 403, map[string]string{
		"message":           "Resource not accessible by integration",
		"documentation_url": "https://docs.github.com/rest/actions/secrets#create-or-update-a-repository-secret",
	})
	c := s.start(Config{})

	err := c.PutSecret(context.Background(), testRepo, "", "MESHCENTRAL_OIDC_CLIENT_SECRET", "very-secret-value")
	if err == nil {
		t.Fatal("PutSecret succeeded on a 403")
	}
	msg := err.Error()
	for _, want := range []string{
		`put GitHub secret "MESHCENTRAL_OIDC_CLIENT_SECRET" in "octo/deploy"`,
		"403 Forbidden: Resource not accessible by integration",
		"the default GITHUB_TOKEN cannot write Actions secrets",
		`"Secrets: read and write"`,
	} {
		if !strings.Contains(msg, want) {
			t.Errorf("error %q lacks %q", msg, want)
		}
	}
	if strings.Contains(msg, "very-secret-value") {
		t.Errorf("error %q shows the secret value", msg)
	}
	var apiErr *APIError
	if !errors.As(err, &apiErr) || apiErr.Status != 403 {
		t.Errorf("errors.As(*APIError) = %v, status %v; want 403", apiErr != nil, apiErr)
	}
}

func TestPutSecretMissingEnvironment(t *testing.T) {
	t.Parallel()
	s := newStub(t)
	s.json("GET /repos/octo/deploy", 200, repoJSON(42, "octo/deploy", "main"))
	s.json("GET /repositories/42/environments/staging/secrets/public-key", 404, map[string]string{"message": "Not Found"})
	c := s.start(Config{})

	err := c.PutSecret(context.Background(), testRepo, "staging", "CLIENT_ID", "x")
	want := `environment "staging" may not exist in "octo/deploy"`
	if err == nil || !strings.Contains(err.Error(), want) {
		t.Fatalf("PutSecret = %v, want an error containing %q", err, want)
	}
}

func TestSecretExistsReadsEveryPageOnce(t *testing.T) {
	t.Parallel()
	s := newStub(t)
	s.json("GET /repos/octo/deploy", 200, repoJSON(42, "octo/deploy", "main"))
	s.handle("GET /repos/octo/deploy/actions/secrets", func(w http.ResponseWriter, r *http.Request, _ []byte) {
		page := r.URL.Query().Get("page")
		if r.URL.Query().Get("per_page") != "100" {
			t.Errorf("per_page = %q, want 100", r.URL.Query().Get("per_page"))
		}
		switch page {
		case "", "1":
			w.Header().Set("Link", fmt.Sprintf(`<http://%s%s?page=2&per_page=100>; rel="next"`, r.Host, r.URL.Path))
			writeJSONStatus(w, 200, map[string]any{"total_count": 2, "secrets": []map[string]string{{"name": "OTHER"}}})
		case "2":
			writeJSONStatus(w, 200, map[string]any{"total_count": 2, "secrets": []map[string]string{{"name": "MESHCENTRAL_OIDC_CLIENT_ID"}}})
		default:
			t.Errorf("unexpected page %q", page)
		}
	})
	c := s.start(Config{})

	ctx := context.Background()
	for _, tt := range []struct {
		name string
		want bool
	}{
		{"MESHCENTRAL_OIDC_CLIENT_ID", true},
		{"meshcentral_oidc_client_id", true},
		{"OTHER", true},
		{"MESHCENTRAL_OIDC_CLIENT_SECRET", false},
	} {
		got, err := c.SecretExists(ctx, testRepo, "", tt.name)
		if err != nil || got != tt.want {
			t.Errorf("SecretExists(%q) = %v, %v; want %v", tt.name, got, err, tt.want)
		}
	}
	if n := s.count("GET /repos/octo/deploy/actions/secrets"); n != 2 {
		t.Errorf("listed %d pages, want 2 (each once): %q", n, s.requests())
	}
}
