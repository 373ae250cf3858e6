package authentikfake

import (
	"net/http"
	"slices"
	"strings"
)

func handleVersion(c *call) *response {
	v := c.f.state.version
	return jsonResponse(http.StatusOK, map[string]any{
		"version_current":      v,
		"version_latest":       v,
		"version_latest_valid": true,
		"build_hash":           "",
		"outdated":             false,
		"outpost_outdated":     false,
	})
}

// viewPermissions are the model permissions a read-only token's user holds.
var viewPermissions = []string{
	"authentik_core.view_application",
	"authentik_core.view_group",
	"authentik_crypto.view_certificatekeypair",
	"authentik_flows.view_flow",
	"authentik_policies.view_policybinding",
	"authentik_providers_oauth2.view_oauth2provider",
	"authentik_providers_oauth2.view_scopemapping",
}

// handleUsersMe describes the token's user: a superuser for a full-access
// token, a user with view permissions only for a read-only one, and a
// user without permissions otherwise.
func handleUsersMe(c *call) *response {
	perms := []string{}
	username, superuser := "akadmin", false
	switch c.access {
	case AccessFull:
		superuser = true
	case AccessReadOnly:
		username = "auditor"
		perms = viewPermissions
	default:
		username = "nobody"
	}
	groups := []map[string]any{}
	if g := c.f.state.groupByName("admins"); g != nil && superuser {
		groups = append(groups, map[string]any{"name": g.Name, "pk": g.PK})
	}
	return jsonResponse(http.StatusOK, map[string]any{
		"user": map[string]any{
			"pk":                 1,
			"username":           username,
			"name":               "authentik Default Admin",
			"is_active":          true,
			"is_superuser":       superuser,
			"groups":             groups,
			"email":              username + "@example.com",
			"avatar":             "data:image/svg+xml;base64,",
			"uid":                "0f9a1b2c3d4e5f60718293a4b5c6d7e8f9a0b1c2d3e4f5a6b7c8d9e0f1a2b3c4",
			"settings":           map[string]any{},
			"type":               "internal",
			"system_permissions": perms,
		},
	})
}

func handleApplicationList(c *call) *response {
	q := c.query
	var items []map[string]any
	for _, a := range sortedBy(c.f.state.applications, func(a *Application) string { return a.Name }) {
		if v := q.Get("slug"); v != "" && a.Slug != v {
			continue
		}
		if v := q.Get("name"); v != "" && a.Name != v {
			continue
		}
		if v := q.Get("group"); v != "" && a.Group != v {
			continue
		}
		if v := q.Get("meta_launch_url"); v != "" && a.MetaLaunchURL != v {
			continue
		}
		if v := q.Get("search"); v != "" && !contains(v, a.Name, a.Slug, a.MetaPublisher, a.MetaDescription, a.Group) {
			continue
		}
		items = append(items, c.f.state.applicationJSON(a))
	}
	return c.paginate(items)
}

func handleApplicationRetrieve(c *call) *response {
	a := c.f.state.applicationBySlug(c.params["slug"])
	if a == nil {
		return jsonResponse(http.StatusNotFound, errNotFound)
	}
	return jsonResponse(http.StatusOK, c.f.state.applicationJSON(a))
}

func handleApplicationCreate(c *call) *response {
	return c.writeApplication(nil)
}

func handleApplicationUpdate(c *call) *response {
	a := c.f.state.applicationBySlug(c.params["slug"])
	if a == nil {
		return jsonResponse(http.StatusNotFound, errNotFound)
	}
	return c.writeApplication(a)
}

// writeApplication creates an application (existing nil) or updates one.
// Properties absent from the body keep their values, as in authentik for
// both PUT and PATCH. PUT and create also require name and slug.
func (c *call) writeApplication(existing *Application) *response {
	fs, err := decodeFields(c.body)
	if err != nil {
		return badBody(err)
	}
	a := Application{PolicyEngineMode: "any"}
	if existing != nil {
		a = *existing
	}
	partial := c.r.Method == http.MethodPatch
	errs := fieldErrors{}
	for _, req := range []string{"name", "slug"} {
		if _, ok := fs[req]; !ok && !partial {
			errs.add(req, "This field is required.")
		}
	}
	var provider *int
	for name, dst := range map[string]any{
		"name": &a.Name, "slug": &a.Slug, "group": &a.Group,
		"meta_launch_url": &a.MetaLaunchURL, "meta_description": &a.MetaDescription,
		"meta_publisher": &a.MetaPublisher, "open_in_new_tab": &a.OpenInNewTab,
		"policy_engine_mode": &a.PolicyEngineMode, "provider": &provider,
	} {
		if _, err := fs.get(name, dst); err != nil {
			return badBody(err)
		}
	}
	if _, ok := fs["provider"]; ok {
		a.Provider = 0
		if provider != nil {
			a.Provider = *provider
		}
	}

	st := c.f.state
	if other := st.applicationBySlug(a.Slug); other != nil && other != existing {
		errs.add("slug", "Application with this slug already exists.")
	}
	if a.Provider != 0 {
		p := st.providerByPK(a.Provider)
		switch {
		case p == nil:
			errs.add("provider", invalidPK(a.Provider))
		case st.applicationOf(p.PK) != nil && st.applicationOf(p.PK) != existing:
			errs.add("provider", "Application with this provider already exists.")
		}
	}
	if resp := errs.response(); resp != nil {
		return resp
	}

	if existing != nil {
		*existing = a
		return jsonResponse(http.StatusOK, st.applicationJSON(existing))
	}
	a.PK = newUUID()
	st.applications = append(st.applications, &a)
	return jsonResponse(http.StatusCreated, st.applicationJSON(&a))
}

func handleApplicationDestroy(c *call) *response {
	if !c.f.state.deleteApplication(c.params["slug"]) {
		return jsonResponse(http.StatusNotFound, errNotFound)
	}
	return jsonResponse(http.StatusNoContent, nil)
}

// sortedBy returns a copy of items in the order of key, authentik's
// default ordering for the list.
func sortedBy[T any](items []T, key func(T) string) []T {
	out := slices.Clone(items)
	slices.SortStableFunc(out, func(a, b T) int { return strings.Compare(key(a), key(b)) })
	return out
}
