module github.com/meshauth/meshcentral-authentik-action

go 1.26.8
