module github.com/meshauth/meshcentral-authentik-action

go 1.26.8

require (
	github.com/getkin/kin-openapi v0.153.0 // indirect
	github.com/go-jose/go-jose/v4 v4.1.9 // indirect
	github.com/google/go-cmp v0.7.0 // indirect
	github.com/google/go-github/v60 v60.0.0 // indirect
	github.com/sethvargo/go-githubactions v1.4.0 // indirect
	goauthentik.io/api/v3 v3.2025120.5 // indirect
	golang.org/x/crypto v0.59.0 // indirect
	golang.org/x/oauth2 v0.27.0 // indirect
)
