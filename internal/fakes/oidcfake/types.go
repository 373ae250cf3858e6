// Package oidcfake serves the OpenID Connect side of an authentik
// application for tests: discovery at the issuer, JWKS, authorize with PKCE,
// token and userinfo, with authentik's URL layout.
package oidcfake

import "crypto/rsa"

// RedirectURI is one redirect URI of a provider, as authentik stores it.
type RedirectURI struct {
	// MatchingMode is "strict" or "regex".
	MatchingMode string
	URL          string
}

// Client is the OAuth2 view of one authentik application and its provider,
// read from the authentik fake's state at the time of each request.
type Client struct {
	// Slug is the application slug; the issuer is
	// <base>/application/o/<slug>/.
	Slug         string
	ClientID     string
	ClientSecret string
	// ClientType is "confidential" or "public".
	ClientType   string
	RedirectURIs []RedirectURI
	// SigningKey signs ID tokens with RS256. When nil, tokens are signed
	// HS256 with the client secret, as authentik does without a signing key.
	SigningKey *rsa.PrivateKey
	// KeyID is the JWKS "kid" of SigningKey.
	KeyID string
	// Scopes are the scope names whose mappings the provider has, such as
	// "openid", "email" and "profile"; a claim is only released when its
	// scope is both requested and mapped.
	Scopes []string
	// AllowedGroups, when not empty, are the only groups whose members may
	// sign in to the application (authentik's policy bindings).
	AllowedGroups []string
}

// User is the person signing in.
type User struct {
	Username string
	Email    string
	Name     string
	Groups   []string
}
