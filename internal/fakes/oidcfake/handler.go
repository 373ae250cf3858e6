package oidcfake

import (
	"encoding/json"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/go-jose/go-jose/v4"
)

// Lifetimes of what the handler hands out; authentik's defaults are one
// minute for authorization codes and five minutes for access tokens.
const (
	codeLifetime  = time.Minute
	tokenLifetime = 5 * time.Minute
)

// NewHandler serves authentik's OAuth2/OIDC endpoints for every client that
// clients() returns, mounted at /application/o/ of the authentik fake. base
// is the fake's origin without a trailing slash, such as
// https://127.0.0.1:PORT; issuers and endpoint URLs are built from it.
//
// clients and user are called on every request, so a test (or the authentik
// fake) can change the provider, rotate its secret or switch the user
// between two sign-ins. Consent is implicit: an authorize request that passes
// every check redirects straight back with a code. Codes and access tokens
// live in memory, per handler.
//
// Served paths, as authentik lays them out:
//
//	/application/o/<slug>/.well-known/openid-configuration
//	/application/o/<slug>/jwks/
//	/application/o/<slug>/end-session/
//	/application/o/authorize/
//	/application/o/token/
//	/application/o/userinfo/
func NewHandler(base string, clients func() []Client, user func() User) http.Handler {
	return newHandler(base, clients, user)
}

// handler contains the grants issued so far. Every other input is read
// again from clients and user on each request.
type handler struct {
	base    string
	clients func() []Client
	user    func() User
	now     func() time.Time
	mux     *http.ServeMux

	mu     sync.Mutex
	codes  map[string]*grant
	tokens map[string]*grant
}

// grant is the permission one authorize request issued. It is stored under
// its code until the token request, then under its access token.
type grant struct {
	clientID      string
	redirectURI   string
	challenge     string
	challengeMode string
	scopes        []string
	nonce         string
	user          User
	authTime      time.Time
	expires       time.Time
}

func newHandler(base string, clients func() []Client, user func() User) *handler {
	h := &handler{
		base:    strings.TrimSuffix(base, "/"),
		clients: clients,
		user:    user,
		now:     time.Now,
		mux:     http.NewServeMux(),
		codes:   map[string]*grant{},
		tokens:  map[string]*grant{},
	}
	h.mux.HandleFunc("GET /application/o/{slug}/.well-known/openid-configuration", h.discovery)
	h.mux.HandleFunc("GET /application/o/{slug}/jwks/{$}", h.jwks)
	h.mux.HandleFunc("/application/o/{slug}/end-session/{$}", h.endSession)
	h.mux.HandleFunc("/application/o/authorize/{$}", h.authorize)
	h.mux.HandleFunc("POST /application/o/token/{$}", h.token)
	h.mux.HandleFunc("/application/o/userinfo/{$}", h.userinfo)
	return h
}

func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h.mux.ServeHTTP(w, r)
}

// issuer is the issuer of the application with the given slug, with the
// trailing slash authentik includes.
func (h *handler) issuer(slug string) string {
	return h.base + "/application/o/" + slug + "/"
}

// clientBySlug returns the client of the application with the given slug.
func (h *handler) clientBySlug(slug string) (Client, bool) {
	for _, c := range h.clients() {
		if c.Slug == slug {
			return c, true
		}
	}
	return Client{}, false
}

// clientByID returns the client with the given client ID.
func (h *handler) clientByID(id string) (Client, bool) {
	if id == "" {
		return Client{}, false
	}
	for _, c := range h.clients() {
		if c.ClientID == id {
			return c, true
		}
	}
	return Client{}, false
}

// algorithm is the ID token signing algorithm of c.
func (c Client) algorithm() string {
	if c.SigningKey != nil {
		return string(jose.RS256)
	}
	return string(jose.HS256)
}

func (h *handler) discovery(w http.ResponseWriter, r *http.Request) {
	slug := r.PathValue("slug")
	c, ok := h.clientBySlug(slug)
	if !ok {
		http.NotFound(w, r)
		return
	}
	app := h.base + "/application/o/"
	writeJSON(w, http.StatusOK, map[string]any{
		"issuer":                                h.issuer(slug),
		"authorization_endpoint":                app + "authorize/",
		"token_endpoint":                        app + "token/",
		"userinfo_endpoint":                     app + "userinfo/",
		"end_session_endpoint":                  app + slug + "/end-session/",
		"jwks_uri":                              app + slug + "/jwks/",
		"response_types_supported":              []string{"code"},
		"response_modes_supported":              []string{"query"},
		"grant_types_supported":                 []string{"authorization_code"},
		"subject_types_supported":               []string{"public"},
		"id_token_signing_alg_values_supported": []string{c.algorithm()},
		"scopes_supported":                      c.Scopes,
		"token_endpoint_auth_methods_supported": []string{"client_secret_basic", "client_secret_post"},
		"code_challenge_methods_supported":      []string{"S256", "plain"},
		"claims_supported": []string{
			"sub", "iss", "aud", "exp", "iat", "auth_time", "nonce",
			"email", "email_verified", "name", "given_name", "preferred_username", "nickname", "groups",
		},
	})
}

// jwks serves the client's public signing key; a client without one (HS256)
// has an empty key set, as in authentik.
func (h *handler) jwks(w http.ResponseWriter, r *http.Request) {
	c, ok := h.clientBySlug(r.PathValue("slug"))
	if !ok {
		http.NotFound(w, r)
		return
	}
	set := jose.JSONWebKeySet{Keys: []jose.JSONWebKey{}}
	if c.SigningKey != nil {
		set.Keys = append(set.Keys, jose.JSONWebKey{
			Key:       &c.SigningKey.PublicKey,
			KeyID:     c.KeyID,
			Algorithm: string(jose.RS256),
			Use:       "sig",
		})
	}
	writeJSON(w, http.StatusOK, set)
}

// endSession replaces authentik's invalidation flow. It shows a signed-out
// page and changes nothing, because the fake keeps no sessions.
func (h *handler) endSession(w http.ResponseWriter, r *http.Request) {
	if _, ok := h.clientBySlug(r.PathValue("slug")); !ok {
		http.NotFound(w, r)
		return
	}
	writePage(w, http.StatusOK, "Signed out", "You have been signed out of the application.")
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
