package authentik

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"

	api "goauthentik.io/api/v3"
)

func opCreateProvider(name string) op {
	return op{verb: "create", kind: KindProvider, name: name, perm: "authentik_providers_oauth2.add_oauth2provider"}
}

func opUpdateProvider(name string) op {
	return op{verb: "update", kind: KindProvider, name: name, perm: "authentik_providers_oauth2.change_oauth2provider"}
}

func opCreateApp(slug string) op {
	return op{verb: "create", kind: KindApplication, name: slug, perm: "authentik_core.add_application"}
}

func opUpdateApp(slug string) op {
	return op{verb: "update", kind: KindApplication, name: slug, perm: "authentik_core.change_application"}
}

func opCreateBinding(group string) op {
	return op{verb: "create", kind: KindBinding, name: group, perm: "authentik_policies.add_policybinding"}
}

func opDeleteBinding(pk string) op {
	return op{verb: "delete", kind: KindBinding, name: pk, perm: "authentik_policies.delete_policybinding"}
}

// Result is the provider state after Apply.
type Result struct {
	// ProviderPK is the provider's primary key.
	ProviderPK int32
	// ClientID and ClientSecret are the provider's credentials after Apply.
	// They differ from the plan's when a concurrent run created the provider
	// first and this run adopted it.
	ClientID     string
	ClientSecret string
	// Changed reports whether any write was made.
	Changed bool
}

// Apply makes the writes p computed, in an order that a run cut short
// leaves recoverable: the provider (with the client ID and secret of the
// plan), then the application that uses it, then the policy bindings. It
// patches only the fields that differ and creates what is missing. When a
// create fails because the name or slug was taken meanwhile (a concurrent
// run), Apply reads the object that won and adopts it instead.
//
// A plan without pending changes makes no request. On error, the writes
// made before it stay; running Plan and Apply again finishes the work.
func (c *Client) Apply(ctx context.Context, p *Plan) (*Result, error) {
	if p == nil || p.res == nil {
		return nil, errors.New("apply authentik changes: the plan was not made by Client.Plan")
	}
	res := &Result{ProviderPK: p.ProviderPK, ClientID: p.ClientID, ClientSecret: p.ClientSecret}
	if !p.Pending() {
		if p.AfterProvider != nil {
			p.AfterProvider()
		}
		return res, nil
	}
	c.addSecret(p.ClientSecret)

	prov, changed, err := c.applyProvider(ctx, p)
	if err != nil {
		return nil, err
	}
	if p.AfterProvider != nil {
		p.AfterProvider()
	}
	res.Changed = changed
	res.ProviderPK = prov.Pk
	if id := prov.GetClientId(); id != "" {
		res.ClientID = id
	}
	if s := prov.GetClientSecret(); s != "" {
		res.ClientSecret = s
		c.addSecret(s)
	}

	app, bindings, changed, err := c.applyApplication(ctx, p, prov.Pk)
	if err != nil {
		return nil, err
	}
	res.Changed = res.Changed || changed

	changed, err = c.applyBindings(ctx, p, app, bindings)
	if err != nil {
		return nil, err
	}
	res.Changed = res.Changed || changed
	return res, nil
}

// applyProvider creates or patches the provider and returns the provider
// from authentik's response.
func (c *Client) applyProvider(ctx context.Context, p *Plan) (*api.OAuth2Provider, bool, error) {
	w := p.providerWant()
	cur := p.provider
	if cur == nil {
		_, body := providerCreate(w, p.res, p.ClientID, p.ClientSecret)
		newProvider, resp, err := c.api.ProvidersApi.ProvidersOauth2Create(ctx).OAuth2ProviderRequest(body).Execute()
		err = c.fail(opCreateProvider(w.name), resp, err)
		if err == nil {
			if newProvider.GetClientSecret() == "" {
				newProvider.SetClientSecret(p.ClientSecret)
			}
			return newProvider, true, nil
		}
		if !isConflict(err) {
			return nil, false, err
		}
		if cur, err = c.adoptProvider(ctx, p, err); err != nil {
			return nil, false, err
		}
	}

	_, patch := providerDiff(cur, w, p.res)
	if patch == nil {
		return cur, false, nil
	}
	updated, resp, err := c.api.ProvidersApi.ProvidersOauth2PartialUpdate(ctx, cur.Pk).PatchedOAuth2ProviderRequest(*patch).Execute()
	if err := c.fail(opUpdateProvider(w.name), resp, err); err != nil {
		return nil, false, err
	}
	return updated, true, nil
}

// adoptProvider re-reads the provider a concurrent run created under the
// same name after createErr reported the name taken.
func (c *Client) adoptProvider(ctx context.Context, p *Plan, createErr error) (*api.OAuth2Provider, error) {
	d := p.desired
	named, err := c.providersNamed(ctx, d.ProviderName)
	if err != nil {
		return nil, err
	}
	if len(named) == 0 {
		return nil, createErr
	}
	cur := &named[0]
	if a := cur.AssignedApplicationSlug; a != "" && a != d.ApplicationSlug {
		return nil, fmt.Errorf("adopt authentik provider %q: it was created meanwhile, and application %q uses it; choose another provider-name",
			d.ProviderName, a)
	}
	return cur, nil
}

// applyApplication creates or patches the application so that it uses the
// provider, and returns it with its current policy bindings.
func (c *Client) applyApplication(ctx context.Context, p *Plan, providerPK int32) (*api.Application, []api.PolicyBinding, bool, error) {
	w := p.appWant()
	cur, bindings := p.app, p.bindings
	if cur == nil {
		_, body := appCreate(w, p.desired.ProviderName, providerPK)
		newApp, resp, err := c.api.CoreApi.CoreApplicationsCreate(ctx).ApplicationRequest(body).Execute()
		err = c.fail(opCreateApp(w.slug), resp, err)
		if err == nil {
			return newApp, nil, true, nil
		}
		if !isConflict(err) {
			return nil, nil, false, err
		}
		if cur, bindings, err = c.adoptApplication(ctx, p, providerPK, err); err != nil {
			return nil, nil, false, err
		}
	}

	_, patch := appDiff(cur, w, p.desired.ProviderName, providerPK)
	if patch == nil {
		return cur, bindings, false, nil
	}
	updated, resp, err := c.api.CoreApi.CoreApplicationsPartialUpdate(ctx, cur.Slug).PatchedApplicationRequest(*patch).Execute()
	if err := c.fail(opUpdateApp(w.slug), resp, err); err != nil {
		return nil, nil, false, err
	}
	return updated, bindings, true, nil
}

// adoptApplication re-reads the application a concurrent run created with
// the same slug after createErr reported the slug taken. It adopts the
// application only if it uses no provider or this one.
func (c *Client) adoptApplication(ctx context.Context, p *Plan, providerPK int32, createErr error) (*api.Application, []api.PolicyBinding, error) {
	slug := p.desired.ApplicationSlug
	app, err := c.readApplication(ctx, slug)
	if err != nil {
		return nil, nil, err
	}
	if app == nil {
		return nil, nil, createErr
	}
	if pk := app.Provider.Get(); pk != nil && *pk != providerPK {
		return nil, nil, fmt.Errorf("adopt authentik application %q: it was created meanwhile with provider %q; rerun to plan against it",
			slug, app.ProviderObj.Name)
	}
	bindings, err := c.listBindings(ctx, app.Pk)
	if err != nil {
		return nil, nil, err
	}
	return app, bindings, nil
}

// applyBindings creates a policy binding for each allowed group that has
// none on the application.
func (c *Client) applyBindings(ctx context.Context, p *Plan, app *api.Application, existing []api.PolicyBinding) (bool, error) {
	_, ops, _ := bindingsDiff(app.Slug, p.res.groups, existing)
	changed := false
	for _, b := range ops {
		if b.remove != "" {
			resp, err := c.api.PoliciesApi.PoliciesBindingsDestroy(ctx, b.remove).Execute()
			if err := c.fail(opDeleteBinding(b.remove), resp, err); err != nil && !isStatus(err, http.StatusNotFound) {
				return changed, err
			}
			changed = true
			continue
		}
		body := *api.NewPolicyBindingRequest(app.Pk, b.order)
		body.SetGroup(b.group.Pk)
		body.SetEnabled(true)
		_, resp, err := c.api.PoliciesApi.PoliciesBindingsCreate(ctx).PolicyBindingRequest(body).Execute()
		err = c.fail(opCreateBinding(b.group.Name), resp, err)
		if err != nil && isConflict(err) {
			err = c.adoptBinding(ctx, app.Pk, b.group.Pk, err)
		} else if err == nil {
			changed = true
		}
		if err != nil {
			return changed, err
		}
	}
	return changed, nil
}

// adoptBinding checks, after createErr reported a conflict, that a binding
// of the group to the application exists now.
func (c *Client) adoptBinding(ctx context.Context, appPK, groupPK string, createErr error) error {
	bindings, err := c.listBindings(ctx, appPK)
	if err != nil {
		return err
	}
	for _, b := range bindings {
		if g := b.Group.Get(); g != nil && *g == groupPK && b.Target == appPK {
			return nil
		}
	}
	return createErr
}

// SetClientSecret sets the client secret of the provider with the primary
// key and changes nothing else.
func (c *Client) SetClientSecret(ctx context.Context, pk int32, secret string) error {
	o := op{verb: "update", kind: "client secret of authentik provider", name: strconv.Itoa(int(pk)),
		perm: "authentik_providers_oauth2.change_oauth2provider"}
	if secret == "" {
		return fmt.Errorf("%s: the new secret is empty", o)
	}
	c.addSecret(secret)
	patch := api.NewPatchedOAuth2ProviderRequest()
	patch.SetClientSecret(secret)
	_, resp, err := c.api.ProvidersApi.ProvidersOauth2PartialUpdate(ctx, pk).PatchedOAuth2ProviderRequest(*patch).Execute()
	return c.fail(o, resp, err)
}
