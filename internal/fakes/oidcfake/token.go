package oidcfake

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/go-jose/go-jose/v4"
)

// token handles the authorization_code grant at /application/o/token/.
//
// The client authenticates with client_secret_basic or client_secret_post
// against its secret at the time of the request, so a rotated secret takes
// effect at once. A code is removed on its first use, whether or not the
// exchange succeeds.
func (h *handler) token(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		tokenError(w, http.StatusBadRequest, "invalid_request", "the form cannot be parsed")
		return
	}

	c, ok := h.authenticateClient(r)
	if !ok {
		w.Header().Set("WWW-Authenticate", `Basic realm="authentik"`)
		tokenError(w, http.StatusUnauthorized, "invalid_client", "client authentication did not succeed")
		return
	}
	if gt := r.PostForm.Get("grant_type"); gt != "authorization_code" {
		tokenError(w, http.StatusBadRequest, "unsupported_grant_type", fmt.Sprintf("grant type %q is not supported", gt))
		return
	}

	g, problem := h.redeemCode(c, r.PostForm)
	if problem != "" {
		tokenError(w, http.StatusBadRequest, "invalid_grant", problem)
		return
	}

	now := h.now()
	claims := userClaims(g, c)
	claims["iss"] = h.issuer(c.Slug)
	claims["aud"] = c.ClientID
	claims["iat"] = now.Unix()
	claims["exp"] = now.Add(tokenLifetime).Unix()
	claims["auth_time"] = g.authTime.Unix()
	if g.nonce != "" {
		claims["nonce"] = g.nonce
	}
	idToken, err := signToken(c, claims)
	if err != nil {
		tokenError(w, http.StatusInternalServerError, "server_error", err.Error())
		return
	}

	access := randomToken()
	g.expires = now.Add(tokenLifetime)
	h.mu.Lock()
	h.tokens[access] = g
	h.mu.Unlock()

	writeJSON(w, http.StatusOK, map[string]any{
		"access_token": access,
		"token_type":   "Bearer",
		"expires_in":   int(tokenLifetime.Seconds()),
		"id_token":     idToken,
		"scope":        strings.Join(g.scopes, " "),
	})
}

// authenticateClient finds the client of a token request by HTTP Basic
// credentials (form-encoded, RFC 6749 section 2.3.1) or by client_id and
// client_secret in the body. Public clients send no secret.
func (h *handler) authenticateClient(r *http.Request) (Client, bool) {
	id, secret, basic := r.BasicAuth()
	if basic {
		var errID, errSecret error
		id, errID = url.QueryUnescape(id)
		secret, errSecret = url.QueryUnescape(secret)
		if errID != nil || errSecret != nil {
			return Client{}, false
		}
	} else {
		id, secret = r.PostForm.Get("client_id"), r.PostForm.Get("client_secret")
	}

	c, ok := h.clientByID(id)
	if !ok {
		return Client{}, false
	}
	if c.ClientType == "public" {
		return c, true
	}
	if secret == "" || subtle.ConstantTimeCompare([]byte(secret), []byte(c.ClientSecret)) != 1 {
		return Client{}, false
	}
	return c, true
}

// redeemCode takes the grant of the form's code out of the store and checks
// it against the client, the redirect URI and the PKCE verifier. It returns
// the reason when the grant is rejected.
func (h *handler) redeemCode(c Client, form url.Values) (*grant, string) {
	code := form.Get("code")
	h.mu.Lock()
	g := h.codes[code]
	delete(h.codes, code)
	h.mu.Unlock()

	switch {
	case g == nil:
		return nil, "the code is unknown or was already used"
	case h.now().After(g.expires):
		return nil, "the code has expired"
	case g.clientID != c.ClientID:
		return nil, "the code was issued to another client"
	case form.Get("redirect_uri") != g.redirectURI:
		return nil, "redirect_uri differs from the one of the authorization request"
	}
	if g.challenge == "" {
		return g, ""
	}

	verifier := form.Get("code_verifier")
	if verifier == "" {
		return nil, "code_verifier is missing"
	}
	want := verifier
	if g.challengeMode == "S256" {
		sum := sha256.Sum256([]byte(verifier))
		want = base64.RawURLEncoding.EncodeToString(sum[:])
	}
	if subtle.ConstantTimeCompare([]byte(want), []byte(g.challenge)) != 1 {
		return nil, "code_verifier does not match the code_challenge"
	}
	return g, ""
}

// userinfo returns the user's claims for a Bearer access token.
func (h *handler) userinfo(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodPost {
		w.Header().Set("Allow", "GET, POST")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}

	access, bearer := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	h.mu.Lock()
	g := h.tokens[access]
	h.mu.Unlock()
	var c Client
	valid := false
	if bearer && g != nil && !h.now().After(g.expires) {
		c, valid = h.clientByID(g.clientID)
	}
	if !valid {
		w.Header().Set("WWW-Authenticate", `Bearer error="invalid_token"`)
		tokenError(w, http.StatusUnauthorized, "invalid_token", "the access token is unknown or has expired")
		return
	}
	writeJSON(w, http.StatusOK, userClaims(g, c))
}

// userClaims returns sub and the claims of every scope that was both
// requested and is mapped on the provider. Like authentik's default profile
// mapping, "profile" carries the user's groups.
//
// sub is the hex SHA-256 of the username, in place of authentik's default
// "hashed user ID" subject mode.
func userClaims(g *grant, c Client) map[string]any {
	sum := sha256.Sum256([]byte(g.user.Username))
	claims := map[string]any{"sub": hex.EncodeToString(sum[:])}
	released := func(scope string) bool {
		return slices.Contains(g.scopes, scope) && slices.Contains(c.Scopes, scope)
	}
	if released("email") {
		claims["email"] = g.user.Email
		claims["email_verified"] = true
	}
	if released("profile") {
		groups := g.user.Groups
		if groups == nil {
			groups = []string{}
		}
		claims["name"] = g.user.Name
		claims["given_name"] = g.user.Name
		claims["preferred_username"] = g.user.Username
		claims["nickname"] = g.user.Username
		claims["groups"] = groups
	}
	return claims
}

// signToken signs claims as a compact JWT: RS256 with the client's signing
// key and its kid, or HS256 with the client secret when there is no key.
// NOTE: go-jose rejects HS256 secrets shorter than 32 bytes, so such a client
// gets a server_error. authentik generates secrets of 128 characters.
func signToken(c Client, claims map[string]any) (string, error) {
	key := jose.SigningKey{Algorithm: jose.HS256, Key: []byte(c.ClientSecret)}
	if c.SigningKey != nil {
		key = jose.SigningKey{Algorithm: jose.RS256, Key: jose.JSONWebKey{Key: c.SigningKey, KeyID: c.KeyID}}
	}
	signer, err := jose.NewSigner(key, (&jose.SignerOptions{}).WithType("JWT"))
	if err != nil {
		return "", fmt.Errorf("create %s signer for client %q: %w", key.Algorithm, c.ClientID, err)
	}

	payload, err := json.Marshal(claims)
	if err != nil {
		return "", fmt.Errorf("encode ID token claims: %w", err)
	}
	jws, err := signer.Sign(payload)
	if err != nil {
		return "", fmt.Errorf("sign ID token for client %q: %w", c.ClientID, err)
	}
	return jws.CompactSerialize()
}

// tokenError writes an RFC 6749 error response.
func tokenError(w http.ResponseWriter, status int, code, description string) {
	writeJSON(w, status, map[string]string{"error": code, "error_description": description})
}
