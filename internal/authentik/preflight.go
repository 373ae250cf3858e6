package authentik

import (
	"context"
	"errors"
)

// Identity is the token's user and the server version found by Preflight.
type Identity struct {
	// Username is the user the token belongs to.
	Username string
	// Superuser reports whether that user is an authentik superuser.
	Superuser bool
	// Version is the server's version_current.
	Version string
}

// Preflight checks that the token is valid, that the server is recent
// enough, and that the token's user may read everything a run reads: flows,
// certificate-keypairs, scope mappings, groups, OAuth2 providers, all
// providers and policy bindings. Each list is read one item deep. A 401 or
// 403 response becomes an [*HTTPError] naming the permission that is missing.
// Preflight makes no write.
func (c *Client) Preflight(ctx context.Context) (*Identity, error) {
	var id Identity
	onePerPage := int32(1)
	errs := parallel(
		func() error {
			me, resp, err := c.api.CoreApi.CoreUsersMeRetrieve(ctx).Execute()
			if err := c.fail(opReadMe, resp, err); err != nil {
				return err
			}
			id.Username, id.Superuser = me.User.Username, me.User.IsSuperuser
			return nil
		},
		func() (err error) { id.Version, err = c.readVersion(ctx); return },
		func() error {
			_, resp, err := c.api.FlowsApi.FlowsInstancesList(ctx).PageSize(onePerPage).Execute()
			return c.fail(opListFlows, resp, err)
		},
		func() error {
			_, resp, err := c.api.CryptoApi.CryptoCertificatekeypairsList(ctx).PageSize(onePerPage).Execute()
			return c.fail(opListKeypairs, resp, err)
		},
		func() error {
			_, resp, err := c.api.PropertymappingsApi.PropertymappingsProviderScopeList(ctx).PageSize(onePerPage).Execute()
			return c.fail(opListScopes, resp, err)
		},
		func() error {
			_, resp, err := c.api.CoreApi.CoreGroupsList(ctx).IncludeUsers(false).PageSize(onePerPage).Execute()
			return c.fail(opListGroups, resp, err)
		},
		func() error {
			_, resp, err := c.api.ProvidersApi.ProvidersOauth2List(ctx).PageSize(onePerPage).Execute()
			return c.fail(opListProviders, resp, err)
		},
		func() error {
			_, resp, err := c.api.ProvidersApi.ProvidersAllList(ctx).PageSize(onePerPage).Execute()
			return c.fail(opListAll, resp, err)
		},
		func() error {
			_, resp, err := c.api.PoliciesApi.PoliciesBindingsList(ctx).PageSize(onePerPage).Execute()
			return c.fail(opListBindings, resp, err)
		},
	)
	// An invalid token fails every request; report it once.
	if errs[0] != nil {
		return nil, errs[0]
	}
	if errs[1] == nil {
		if err := checkVersion(id.Version); err != nil {
			return nil, err
		}
	}
	if err := errors.Join(errs[1:]...); err != nil {
		return nil, err
	}
	return &id, nil
}
