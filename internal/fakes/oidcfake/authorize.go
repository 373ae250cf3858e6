package oidcfake

import (
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"html"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
)

// authorize handles /application/o/authorize/ with implicit consent.
//
// A request whose client or redirect URI is wrong gets an error page and is
// never redirected, so a mismatch shows up where a person would see it.
// Later errors go back to the redirect URI as OAuth2 error parameters,
// except for a user outside AllowedGroups, who gets authentik's
// "Permission denied" page.
func (h *handler) authorize(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodPost {
		w.Header().Set("Allow", "GET, POST")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}

	c, ok := h.clientByID(r.FormValue("client_id"))
	if !ok {
		writePage(w, http.StatusBadRequest, "Client ID Error",
			"No application is registered for the client ID of this request.")
		return
	}

	redirectURI := r.FormValue("redirect_uri")
	if !redirectAllowed(c.RedirectURIs, redirectURI) {
		writePage(w, http.StatusBadRequest, "Redirect URI Error",
			fmt.Sprintf("The redirect URI %q is not one of the redirect URIs of this provider.", redirectURI))
		return
	}

	state := r.FormValue("state")
	fail := func(code, description string) {
		redirectWith(w, r, redirectURI, url.Values{
			"error": {code}, "error_description": {description}, "state": {state},
		})
	}
	if rt := r.FormValue("response_type"); rt != "code" {
		fail("unsupported_response_type", fmt.Sprintf("response type %q is not supported", rt))
		return
	}

	challenge := r.FormValue("code_challenge")
	mode := r.FormValue("code_challenge_method")
	if challenge != "" && mode == "" {
		mode = "plain"
	}
	switch {
	case challenge == "" && mode != "":
		fail("invalid_request", "code_challenge_method without code_challenge")
		return
	case mode != "" && mode != "S256" && mode != "plain":
		fail("invalid_request", fmt.Sprintf("code challenge method %q is not supported", mode))
		return
	case challenge == "" && c.ClientType == "public":
		fail("invalid_request", "public clients must send a PKCE code_challenge")
		return
	}

	u := h.user()
	if len(c.AllowedGroups) > 0 && !sharesGroup(u.Groups, c.AllowedGroups) {
		writePage(w, http.StatusForbidden, "Permission denied",
			fmt.Sprintf("User %q may not access this application.", u.Username))
		return
	}

	now := h.now()
	code := randomToken()
	h.mu.Lock()
	h.codes[code] = &grant{
		clientID:      c.ClientID,
		redirectURI:   redirectURI,
		challenge:     challenge,
		challengeMode: mode,
		scopes:        strings.Fields(r.FormValue("scope")),
		nonce:         r.FormValue("nonce"),
		user:          u,
		authTime:      now,
		expires:       now.Add(codeLifetime),
	}
	h.mu.Unlock()

	params := url.Values{"code": {code}}
	if state != "" {
		params.Set("state", state)
	}
	redirectWith(w, r, redirectURI, params)
}

// redirectAllowed reports whether uri matches one of the provider's redirect
// URIs: equal to a strict one, or fully matched by a regex one.
func redirectAllowed(allowed []RedirectURI, uri string) bool {
	if uri == "" {
		return false
	}
	for _, a := range allowed {
		switch a.MatchingMode {
		case "strict":
			if a.URL == uri {
				return true
			}
		case "regex":
			re, err := regexp.Compile(`\A(?:` + a.URL + `)\z`)
			if err == nil && re.MatchString(uri) {
				return true
			}
		}
	}
	return false
}

func sharesGroup(have, want []string) bool {
	for _, g := range have {
		if slices.Contains(want, g) {
			return true
		}
	}
	return false
}

// redirectWith sends the browser to target with params added to its query;
// empty values are left out.
func redirectWith(w http.ResponseWriter, r *http.Request, target string, params url.Values) {
	u, err := url.Parse(target)
	if err != nil {
		writePage(w, http.StatusBadRequest, "Redirect URI Error", "The redirect URI cannot be parsed.")
		return
	}
	q := u.Query()
	for k, vs := range params {
		for _, v := range vs {
			if v != "" {
				q.Add(k, v)
			}
		}
	}
	u.RawQuery = q.Encode()
	http.Redirect(w, r, u.String(), http.StatusFound)
}

// writePage writes a minimal HTML error page whose title and heading are
// title, the way authentik shows flow errors to a person.
func writePage(w http.ResponseWriter, status int, title, message string) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	fmt.Fprintf(w, "<!DOCTYPE html>\n<html><head><title>%s</title></head>\n<body><h1>%s</h1><p>%s</p></body></html>\n",
		html.EscapeString(title), html.EscapeString(title), html.EscapeString(message))
}

// randomToken returns 32 random bytes, base64url-encoded, for codes and
// access tokens.
func randomToken() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b) // crypto/rand.Read never returns an error
	return base64.RawURLEncoding.EncodeToString(b)
}
