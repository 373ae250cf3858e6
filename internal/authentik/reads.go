package authentik

import (
	"context"
	"net/http"

	api "goauthentik.io/api/v3"
)

// The steps of the reads, with the permission each needs.
var (
	opListFlows     = op{verb: "list", kind: "authentik flows", perm: "authentik_flows.view_flow"}
	opListKeypairs  = op{verb: "list", kind: "authentik certificate-keypairs", perm: "authentik_crypto.view_certificatekeypair"}
	opListScopes    = op{verb: "list", kind: "authentik scope mappings", perm: "authentik_providers_oauth2.view_scopemapping"}
	opListGroups    = op{verb: "list", kind: "authentik groups", perm: "authentik_core.view_group"}
	opListProviders = op{verb: "list", kind: "authentik OAuth2 providers", perm: "authentik_providers_oauth2.view_oauth2provider"}
	opListAll       = op{verb: "list", kind: "authentik providers", perm: "authentik_core.view_provider"}
	opListBindings  = op{verb: "list", kind: "authentik policy bindings", perm: "authentik_policies.view_policybinding"}
	opReadMe        = op{verb: "read", kind: "authentik token user"}
)

func opReadApp(slug string) op {
	return op{verb: "read", kind: "authentik application", name: slug, perm: "authentik_core.view_application"}
}

func opReadProvider(name string) op {
	return op{verb: "read", kind: "authentik provider", name: name, perm: "authentik_providers_oauth2.view_oauth2provider"}
}

func (c *Client) listFlows(ctx context.Context) ([]api.Flow, error) {
	return listAll(c, opListFlows, func(n int32) (page[api.Flow], *http.Response, error) {
		l, resp, err := c.api.FlowsApi.FlowsInstancesList(ctx).Page(n).PageSize(c.pageSize).Execute()
		if l == nil {
			return page[api.Flow]{}, resp, err
		}
		return page[api.Flow]{l.Results, l.Pagination.Next}, resp, err
	})
}

func (c *Client) listKeypairs(ctx context.Context) ([]api.CertificateKeyPair, error) {
	return listAll(c, opListKeypairs, func(n int32) (page[api.CertificateKeyPair], *http.Response, error) {
		l, resp, err := c.api.CryptoApi.CryptoCertificatekeypairsList(ctx).Page(n).PageSize(c.pageSize).Execute()
		if l == nil {
			return page[api.CertificateKeyPair]{}, resp, err
		}
		return page[api.CertificateKeyPair]{l.Results, l.Pagination.Next}, resp, err
	})
}

func (c *Client) listScopeMappings(ctx context.Context) ([]api.ScopeMapping, error) {
	return listAll(c, opListScopes, func(n int32) (page[api.ScopeMapping], *http.Response, error) {
		l, resp, err := c.api.PropertymappingsApi.PropertymappingsProviderScopeList(ctx).Page(n).PageSize(c.pageSize).Execute()
		if l == nil {
			return page[api.ScopeMapping]{}, resp, err
		}
		return page[api.ScopeMapping]{l.Results, l.Pagination.Next}, resp, err
	})
}

// listGroups lists every group without members, so that the error for an
// unknown name can list the names that exist.
func (c *Client) listGroups(ctx context.Context) ([]api.Group, error) {
	return listAll(c, opListGroups, func(n int32) (page[api.Group], *http.Response, error) {
		l, resp, err := c.api.CoreApi.CoreGroupsList(ctx).IncludeUsers(false).IncludeChildren(false).
			Page(n).PageSize(c.pageSize).Execute()
		if l == nil {
			return page[api.Group]{}, resp, err
		}
		return page[api.Group]{l.Results, l.Pagination.Next}, resp, err
	})
}

// readApplication returns the application with the slug, or nil when there
// is none.
func (c *Client) readApplication(ctx context.Context, slug string) (*api.Application, error) {
	app, resp, err := c.api.CoreApi.CoreApplicationsRetrieve(ctx, slug).Execute()
	if err := c.fail(opReadApp(slug), resp, err); err != nil {
		if isStatus(err, http.StatusNotFound) {
			return nil, nil
		}
		return nil, err
	}
	return app, nil
}

// providersNamed returns the OAuth2 providers whose name is exactly name.
func (c *Client) providersNamed(ctx context.Context, name string) ([]api.OAuth2Provider, error) {
	all, err := listAll(c, opListProviders, func(n int32) (page[api.OAuth2Provider], *http.Response, error) {
		l, resp, err := c.api.ProvidersApi.ProvidersOauth2List(ctx).Name(name).Page(n).PageSize(c.pageSize).Execute()
		if l == nil {
			return page[api.OAuth2Provider]{}, resp, err
		}
		return page[api.OAuth2Provider]{l.Results, l.Pagination.Next}, resp, err
	})
	if err != nil {
		return nil, err
	}
	var out []api.OAuth2Provider
	for _, p := range all {
		if p.Name == name {
			out = append(out, p)
		}
	}
	return out, nil
}

// readProvider returns the OAuth2 provider with the primary key, or nil
// when there is none.
func (c *Client) readProvider(ctx context.Context, pk int32, name string) (*api.OAuth2Provider, error) {
	p, resp, err := c.api.ProvidersApi.ProvidersOauth2Retrieve(ctx, pk).Execute()
	if err := c.fail(opReadProvider(name), resp, err); err != nil {
		if isStatus(err, http.StatusNotFound) {
			return nil, nil
		}
		return nil, err
	}
	return p, nil
}

// anyProviderNamed returns the provider of any type whose name is exactly
// name, or nil. Provider names are unique across all types.
func (c *Client) anyProviderNamed(ctx context.Context, name string) (*api.Provider, error) {
	all, err := listAll(c, opListAll, func(n int32) (page[api.Provider], *http.Response, error) {
		l, resp, err := c.api.ProvidersApi.ProvidersAllList(ctx).Search(name).Page(n).PageSize(c.pageSize).Execute()
		if l == nil {
			return page[api.Provider]{}, resp, err
		}
		return page[api.Provider]{l.Results, l.Pagination.Next}, resp, err
	})
	if err != nil {
		return nil, err
	}
	for i := range all {
		if all[i].Name == name {
			return &all[i], nil
		}
	}
	return nil, nil
}

// listBindings returns the policy bindings whose target is the application.
func (c *Client) listBindings(ctx context.Context, appPK string) ([]api.PolicyBinding, error) {
	return listAll(c, opListBindings, func(n int32) (page[api.PolicyBinding], *http.Response, error) {
		l, resp, err := c.api.PoliciesApi.PoliciesBindingsList(ctx).Target(appPK).Page(n).PageSize(c.pageSize).Execute()
		if l == nil {
			return page[api.PolicyBinding]{}, resp, err
		}
		return page[api.PolicyBinding]{l.Results, l.Pagination.Next}, resp, err
	})
}
