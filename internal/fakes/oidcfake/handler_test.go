package oidcfake

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/google/go-cmp/cmp"
	"golang.org/x/oauth2"
)

const (
	testSecret   = "secret-of-at-least-thirty-two-bytes-for-hs256"
	testRedirect = "https://mesh.localhost:4430/auth-oidc-callback"
)

var testKey = sync.OnceValue(func() *rsa.PrivateKey {
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		panic(err)
	}
	return k
})

// fixture is a TLS server that runs the handler with one client and one
// user, which tests may change between requests.
type fixture struct {
	srv *httptest.Server
	h   *handler

	mu     sync.Mutex
	client Client
	user   User
	skew   time.Duration // added to the handler's clock
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	f := &fixture{
		client: Client{
			Slug:         "meshcentral",
			ClientID:     "mesh-client",
			ClientSecret: testSecret,
			ClientType:   "confidential",
			RedirectURIs: []RedirectURI{{MatchingMode: "strict", URL: testRedirect}},
			SigningKey:   testKey(),
			KeyID:        "kid-1",
			Scopes:       []string{"openid", "email", "profile"},
		},
		user: User{Username: "alice", Email: "alice@example.test", Name: "Alice Liddell", Groups: []string{"staff", "mesh-admins"}},
	}
	f.srv = httptest.NewUnstartedServer(nil)
	f.srv.StartTLS()
	t.Cleanup(f.srv.Close)
	f.h = newHandler(f.srv.URL, f.clients, f.currentUser)
	f.h.now = f.clock
	f.srv.Config.Handler = f.h
	return f
}

func (f *fixture) clients() []Client {
	f.mu.Lock()
	defer f.mu.Unlock()
	return []Client{f.client}
}

func (f *fixture) clock() time.Time {
	f.mu.Lock()
	defer f.mu.Unlock()
	return time.Now().Add(f.skew)
}

func (f *fixture) currentUser() User {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.user
}

func (f *fixture) update(fn func(c *Client, u *User)) {
	f.mu.Lock()
	defer f.mu.Unlock()
	fn(&f.client, &f.user)
}

func (f *fixture) oauthConfig(style oauth2.AuthStyle) *oauth2.Config {
	return &oauth2.Config{
		ClientID:     "mesh-client",
		ClientSecret: testSecret,
		RedirectURL:  testRedirect,
		Scopes:       []string{"openid", "email", "profile"},
		Endpoint: oauth2.Endpoint{
			AuthURL:   f.srv.URL + "/application/o/authorize/",
			TokenURL:  f.srv.URL + "/application/o/token/",
			AuthStyle: style,
		},
	}
}

// noRedirect returns the server's client, which stops at the first response.
func (f *fixture) noRedirect() *http.Client {
	c := *f.srv.Client()
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	return &c
}

func (f *fixture) ctx(t *testing.T) context.Context {
	return context.WithValue(t.Context(), oauth2.HTTPClient, f.srv.Client())
}

func get(t *testing.T, c *http.Client, target string) (*http.Response, string) {
	t.Helper()
	resp, err := c.Get(target)
	if err != nil {
		t.Fatalf("GET %s: %v", target, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("read %s: %v", target, err)
	}
	return resp, string(body)
}

// authorizeCode runs the authorize step and returns the code it redirected
// back with, after checking the state made the round trip.
func (f *fixture) authorizeCode(t *testing.T, authURL string) string {
	t.Helper()
	resp, body := get(t, f.noRedirect(), authURL)
	if resp.StatusCode != http.StatusFound {
		t.Fatalf("authorize status = %d, want 302; body: %s", resp.StatusCode, body)
	}
	loc, err := url.Parse(resp.Header.Get("Location"))
	if err != nil {
		t.Fatalf("parse Location: %v", err)
	}
	if got := loc.Scheme + "://" + loc.Host + loc.Path; got != testRedirect {
		t.Fatalf("redirected to %q, want %q", got, testRedirect)
	}
	if got := loc.Query().Get("state"); got != "state-1" {
		t.Fatalf("state = %q, want %q", got, "state-1")
	}
	code := loc.Query().Get("code")
	if code == "" {
		t.Fatalf("no code in %q", loc)
	}
	return code
}

func TestDiscoveryAndJWKS(t *testing.T) {
	f := newFixture(t)
	app := f.srv.URL + "/application/o/"

	resp, body := get(t, f.srv.Client(), app+"meshcentral/.well-known/openid-configuration")
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("discovery status = %d", resp.StatusCode)
	}
	var doc map[string]any
	if err := json.Unmarshal([]byte(body), &doc); err != nil {
		t.Fatalf("decode discovery: %v", err)
	}
	want := map[string]any{
		"issuer":                                app + "meshcentral/",
		"authorization_endpoint":                app + "authorize/",
		"token_endpoint":                        app + "token/",
		"userinfo_endpoint":                     app + "userinfo/",
		"jwks_uri":                              app + "meshcentral/jwks/",
		"end_session_endpoint":                  app + "meshcentral/end-session/",
		"id_token_signing_alg_values_supported": []any{"RS256"},
		"code_challenge_methods_supported":      []any{"S256", "plain"},
		"token_endpoint_auth_methods_supported": []any{"client_secret_basic", "client_secret_post"},
	}
	for k, v := range want {
		if diff := cmp.Diff(v, doc[k]); diff != "" {
			t.Errorf("discovery %s (-want +got):\n%s", k, diff)
		}
	}

	resp, body = get(t, f.srv.Client(), app+"meshcentral/jwks/")
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("jwks status = %d", resp.StatusCode)
	}
	var set jose.JSONWebKeySet
	if err := json.Unmarshal([]byte(body), &set); err != nil {
		t.Fatalf("decode jwks: %v", err)
	}
	keys := set.Key("kid-1")
	if len(keys) != 1 || keys[0].Algorithm != "RS256" || !keys[0].IsPublic() {
		t.Fatalf("jwks keys for kid-1 = %+v, want one public RS256 key", keys)
	}
	if pub, ok := keys[0].Key.(*rsa.PublicKey); !ok || !pub.Equal(&testKey().PublicKey) {
		t.Fatalf("jwks key is not the client's public key")
	}

	if resp, _ := get(t, f.srv.Client(), app+"other/.well-known/openid-configuration"); resp.StatusCode != http.StatusNotFound {
		t.Errorf("discovery of an unknown slug: status = %d, want 404", resp.StatusCode)
	}
}

func TestCodeFlowWithPKCE(t *testing.T) {
	for _, style := range []oauth2.AuthStyle{oauth2.AuthStyleInHeader, oauth2.AuthStyleInParams} {
		t.Run(map[oauth2.AuthStyle]string{oauth2.AuthStyleInHeader: "basic", oauth2.AuthStyleInParams: "post"}[style], func(t *testing.T) {
			f := newFixture(t)
			conf := f.oauthConfig(style)
			verifier := oauth2.GenerateVerifier()
			authURL := conf.AuthCodeURL("state-1", oauth2.S256ChallengeOption(verifier), oauth2.SetAuthURLParam("nonce", "nonce-1"))
			code := f.authorizeCode(t, authURL)

			before := time.Now().Unix()
			tok, err := conf.Exchange(f.ctx(t), code, oauth2.VerifierOption(verifier))
			if err != nil {
				t.Fatalf("exchange: %v", err)
			}
			if tok.TokenType != "Bearer" || tok.AccessToken == "" || tok.Expiry.IsZero() {
				t.Fatalf("token = %+v, want a Bearer access token with an expiry", tok)
			}

			raw, _ := tok.Extra("id_token").(string)
			jws, err := jose.ParseSigned(raw, []jose.SignatureAlgorithm{jose.RS256})
			if err != nil {
				t.Fatalf("parse ID token: %v", err)
			}
			if kid := jws.Signatures[0].Header.KeyID; kid != "kid-1" {
				t.Errorf("ID token kid = %q, want %q", kid, "kid-1")
			}
			payload, err := jws.Verify(&testKey().PublicKey)
			if err != nil {
				t.Fatalf("verify ID token: %v", err)
			}
			var claims map[string]any
			if err := json.Unmarshal(payload, &claims); err != nil {
				t.Fatalf("decode ID token: %v", err)
			}
			for k, v := range map[string]any{
				"iss":                f.srv.URL + "/application/o/meshcentral/",
				"aud":                "mesh-client",
				"nonce":              "nonce-1",
				"email":              "alice@example.test",
				"email_verified":     true,
				"name":               "Alice Liddell",
				"preferred_username": "alice",
				"nickname":           "alice",
				"groups":             []any{"staff", "mesh-admins"},
			} {
				if diff := cmp.Diff(v, claims[k]); diff != "" {
					t.Errorf("ID token claim %s (-want +got):\n%s", k, diff)
				}
			}
			exp, _ := claims["exp"].(float64)
			iat, _ := claims["iat"].(float64)
			if int64(iat) < before-1 || exp <= iat || claims["auth_time"] == nil || claims["sub"] == "" {
				t.Errorf("ID token times or subject wrong: %v", claims)
			}

			info := f.userinfo(t, tok.AccessToken)
			for _, k := range []string{"sub", "email", "email_verified", "name", "preferred_username", "groups"} {
				if diff := cmp.Diff(claims[k], info[k]); diff != "" {
					t.Errorf("userinfo %s differs from the ID token (-id +userinfo):\n%s", k, diff)
				}
			}

			if _, err := conf.Exchange(f.ctx(t), code, oauth2.VerifierOption(verifier)); !isOAuthError(err, "invalid_grant") {
				t.Errorf("second exchange of one code: err = %v, want invalid_grant", err)
			}
		})
	}
}

func (f *fixture) userinfo(t *testing.T, access string) map[string]any {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, f.srv.URL+"/application/o/userinfo/", nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+access)
	resp, err := f.srv.Client().Do(req)
	if err != nil {
		t.Fatalf("userinfo: %v", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("userinfo status = %d", resp.StatusCode)
	}
	var info map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&info); err != nil {
		t.Fatalf("decode userinfo: %v", err)
	}
	return info
}

func isOAuthError(err error, code string) bool {
	re, ok := err.(*oauth2.RetrieveError)
	return ok && re.ErrorCode == code
}

func TestHS256WithoutSigningKey(t *testing.T) {
	f := newFixture(t)
	f.update(func(c *Client, _ *User) { c.SigningKey, c.KeyID = nil, "" })

	_, body := get(t, f.srv.Client(), f.srv.URL+"/application/o/meshcentral/.well-known/openid-configuration")
	if !strings.Contains(body, `"id_token_signing_alg_values_supported":["HS256"]`) {
		t.Errorf("discovery does not announce only HS256: %s", body)
	}
	_, body = get(t, f.srv.Client(), f.srv.URL+"/application/o/meshcentral/jwks/")
	if strings.TrimSpace(body) != `{"keys":[]}` {
		t.Errorf("jwks = %s, want an empty key set", body)
	}

	conf := f.oauthConfig(oauth2.AuthStyleInHeader)
	verifier := oauth2.GenerateVerifier()
	code := f.authorizeCode(t, conf.AuthCodeURL("state-1", oauth2.S256ChallengeOption(verifier)))
	tok, err := conf.Exchange(f.ctx(t), code, oauth2.VerifierOption(verifier))
	if err != nil {
		t.Fatalf("exchange: %v", err)
	}
	raw, _ := tok.Extra("id_token").(string)
	jws, err := jose.ParseSigned(raw, []jose.SignatureAlgorithm{jose.HS256})
	if err != nil {
		t.Fatalf("parse HS256 ID token: %v", err)
	}
	if _, err := jws.Verify([]byte(testSecret)); err != nil {
		t.Fatalf("verify ID token with the client secret: %v", err)
	}
}

func TestAuthorizeRejectsBadRequests(t *testing.T) {
	valid := url.Values{
		"client_id":             {"mesh-client"},
		"redirect_uri":          {testRedirect},
		"response_type":         {"code"},
		"scope":                 {"openid email profile"},
		"state":                 {"state-1"},
		"code_challenge":        {"E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"},
		"code_challenge_method": {"S256"},
	}
	tests := []struct {
		name    string
		change  func(q url.Values, c *Client, u *User)
		status  int
		page    string // title of the error page, when there is one
		errCode string // error parameter of the redirect, when there is one
	}{
		{name: "unknown client", change: func(q url.Values, _ *Client, _ *User) { q.Set("client_id", "nobody") },
			status: http.StatusBadRequest, page: "Client ID Error"},
		{name: "redirect URI with another port", change: func(q url.Values, _ *Client, _ *User) {
			q.Set("redirect_uri", "https://mesh.localhost:443/auth-oidc-callback")
		}, status: http.StatusBadRequest, page: "Redirect URI Error"},
		{name: "redirect URI with a trailing slash", change: func(q url.Values, _ *Client, _ *User) {
			q.Set("redirect_uri", testRedirect+"/")
		}, status: http.StatusBadRequest, page: "Redirect URI Error"},
		{name: "missing redirect URI", change: func(q url.Values, _ *Client, _ *User) { q.Del("redirect_uri") },
			status: http.StatusBadRequest, page: "Redirect URI Error"},
		{name: "regex must match the whole URI", change: func(q url.Values, c *Client, _ *User) {
			c.RedirectURIs = []RedirectURI{{MatchingMode: "regex", URL: `https://mesh\.localhost:4430/`}}
		}, status: http.StatusBadRequest, page: "Redirect URI Error"},
		{name: "implicit flow", change: func(q url.Values, _ *Client, _ *User) { q.Set("response_type", "token") },
			status: http.StatusFound, errCode: "unsupported_response_type"},
		{name: "unknown challenge method", change: func(q url.Values, _ *Client, _ *User) { q.Set("code_challenge_method", "S512") },
			status: http.StatusFound, errCode: "invalid_request"},
		{name: "public client without PKCE", change: func(q url.Values, c *Client, _ *User) {
			c.ClientType = "public"
			q.Del("code_challenge")
			q.Del("code_challenge_method")
		}, status: http.StatusFound, errCode: "invalid_request"},
		{name: "user outside the allowed groups", change: func(q url.Values, c *Client, _ *User) {
			c.AllowedGroups = []string{"mesh-users"}
		}, status: http.StatusForbidden, page: "Permission denied"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			q := url.Values{}
			for k, v := range valid {
				q[k] = slices.Clone(v)
			}
			f.update(func(c *Client, u *User) { tt.change(q, c, u) })

			resp, body := get(t, f.noRedirect(), f.srv.URL+"/application/o/authorize/?"+q.Encode())
			if resp.StatusCode != tt.status {
				t.Fatalf("status = %d, want %d; body: %s", resp.StatusCode, tt.status, body)
			}
			loc := resp.Header.Get("Location")
			if tt.page != "" {
				if loc != "" || !strings.Contains(body, "<title>"+tt.page+"</title>") {
					t.Errorf("want the %q page and no redirect; Location %q, body: %s", tt.page, loc, body)
				}
				return
			}
			u, err := url.Parse(loc)
			if err != nil || !strings.HasPrefix(loc, testRedirect+"?") {
				t.Fatalf("Location = %q, want the redirect URI with an error", loc)
			}
			if got := u.Query().Get("error"); got != tt.errCode || u.Query().Has("code") || u.Query().Get("state") != "state-1" {
				t.Errorf("redirect query = %v, want error %q, the state and no code", u.Query(), tt.errCode)
			}
		})
	}
}

func TestAuthorizeAcceptsValidVariants(t *testing.T) {
	tests := []struct {
		name   string
		change func(c *Client, u *User)
		query  func(q url.Values)
	}{
		{name: "regex redirect URI", change: func(c *Client, _ *User) {
			c.RedirectURIs = []RedirectURI{{MatchingMode: "regex", URL: `https://mesh\.localhost:\d+/auth-oidc-callback`}}
		}},
		{name: "member of an allowed group", change: func(c *Client, _ *User) { c.AllowedGroups = []string{"nobody", "staff"} }},
		{name: "confidential client without PKCE", query: func(q url.Values) {
			q.Del("code_challenge")
			q.Del("code_challenge_method")
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			if tt.change != nil {
				f.update(func(c *Client, u *User) { tt.change(c, u) })
			}
			conf := f.oauthConfig(oauth2.AuthStyleInHeader)
			verifier := oauth2.GenerateVerifier()
			authURL, err := url.Parse(conf.AuthCodeURL("state-1", oauth2.S256ChallengeOption(verifier)))
			if err != nil {
				t.Fatal(err)
			}
			q := authURL.Query()
			if tt.query != nil {
				tt.query(q)
			}
			authURL.RawQuery = q.Encode()
			code := f.authorizeCode(t, authURL.String())
			if _, err := conf.Exchange(f.ctx(t), code, oauth2.VerifierOption(verifier)); err != nil {
				t.Fatalf("exchange: %v", err)
			}
		})
	}
}

func TestTokenRejectsBadExchanges(t *testing.T) {
	tests := []struct {
		name    string
		change  func(f *fixture, conf *oauth2.Config)
		verify  string // code_verifier to send; empty sends the right one
		errCode string
	}{
		{name: "wrong secret", change: func(_ *fixture, conf *oauth2.Config) { conf.ClientSecret = "guess" },
			errCode: "invalid_client"},
		{name: "secret rotated after authorize", change: func(f *fixture, _ *oauth2.Config) {
			f.update(func(c *Client, _ *User) { c.ClientSecret = "rotated-secret-of-at-least-thirty-two-bytes" })
		}, errCode: "invalid_client"},
		{name: "another redirect URI", change: func(_ *fixture, conf *oauth2.Config) {
			conf.RedirectURL = "https://mesh.localhost:4430/other"
		}, errCode: "invalid_grant"},
		{name: "wrong verifier", verify: "a-verifier-that-does-not-match-the-challenge-0123", errCode: "invalid_grant"},
		{name: "expired code", change: func(f *fixture, _ *oauth2.Config) {
			f.mu.Lock()
			f.skew = 2 * codeLifetime
			f.mu.Unlock()
		}, errCode: "invalid_grant"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			conf := f.oauthConfig(oauth2.AuthStyleInHeader)
			verifier := oauth2.GenerateVerifier()
			code := f.authorizeCode(t, conf.AuthCodeURL("state-1", oauth2.S256ChallengeOption(verifier)))
			if tt.change != nil {
				tt.change(f, conf)
			}
			if tt.verify != "" {
				verifier = tt.verify
			}
			_, err := conf.Exchange(f.ctx(t), code, oauth2.VerifierOption(verifier))
			if !isOAuthError(err, tt.errCode) {
				t.Fatalf("exchange: err = %v, want %s", err, tt.errCode)
			}
		})
	}
}

func TestRotatedSecretIsAccepted(t *testing.T) {
	f := newFixture(t)
	const rotated = "rotated-secret-of-at-least-thirty-two-bytes"
	f.update(func(c *Client, _ *User) { c.ClientSecret = rotated })
	conf := f.oauthConfig(oauth2.AuthStyleInHeader)
	conf.ClientSecret = rotated
	verifier := oauth2.GenerateVerifier()
	code := f.authorizeCode(t, conf.AuthCodeURL("state-1", oauth2.S256ChallengeOption(verifier)))
	if _, err := conf.Exchange(f.ctx(t), code, oauth2.VerifierOption(verifier)); err != nil {
		t.Fatalf("exchange with the rotated secret: %v", err)
	}
}

func TestClaimsNeedRequestedMappedScope(t *testing.T) {
	tests := []struct {
		name    string
		scopes  []string // requested
		mapped  []string
		present []string
		absent  []string
	}{
		{name: "all", scopes: []string{"openid", "email", "profile"}, mapped: []string{"openid", "email", "profile"},
			present: []string{"email", "name", "groups"}},
		{name: "email not mapped", scopes: []string{"openid", "email", "profile"}, mapped: []string{"openid", "profile"},
			present: []string{"name", "groups"}, absent: []string{"email", "email_verified"}},
		{name: "profile not requested", scopes: []string{"openid", "email"}, mapped: []string{"openid", "email", "profile"},
			present: []string{"email"}, absent: []string{"name", "preferred_username", "groups"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			f.update(func(c *Client, _ *User) { c.Scopes = tt.mapped })
			conf := f.oauthConfig(oauth2.AuthStyleInHeader)
			conf.Scopes = tt.scopes
			verifier := oauth2.GenerateVerifier()
			code := f.authorizeCode(t, conf.AuthCodeURL("state-1", oauth2.S256ChallengeOption(verifier)))
			tok, err := conf.Exchange(f.ctx(t), code, oauth2.VerifierOption(verifier))
			if err != nil {
				t.Fatalf("exchange: %v", err)
			}
			info := f.userinfo(t, tok.AccessToken)
			for _, k := range tt.present {
				if _, ok := info[k]; !ok {
					t.Errorf("claim %q missing from %v", k, info)
				}
			}
			for _, k := range tt.absent {
				if _, ok := info[k]; ok {
					t.Errorf("claim %q released: %v", k, info)
				}
			}
		})
	}
}

func TestUserinfoRejectsUnknownToken(t *testing.T) {
	f := newFixture(t)
	req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, f.srv.URL+"/application/o/userinfo/", nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer not-a-token")
	resp, err := f.srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized || !strings.Contains(resp.Header.Get("WWW-Authenticate"), "invalid_token") {
		t.Fatalf("status = %d, WWW-Authenticate = %q; want 401 invalid_token", resp.StatusCode, resp.Header.Get("WWW-Authenticate"))
	}
}
