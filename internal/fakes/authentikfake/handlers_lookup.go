package authentikfake

import (
	"net/http"
	"slices"
)

func handleFlowList(c *call) *response {
	q := c.query
	var items []map[string]any
	for _, f := range sortedBy(c.f.state.flows, func(f *Flow) string { return f.Slug }) {
		if !matchAll(
			filterEq(q.Get("slug"), f.Slug),
			filterEq(q.Get("name"), f.Name),
			filterEq(q.Get("designation"), f.Designation),
			filterEq(q.Get("flow_uuid"), f.PK),
		) {
			continue
		}
		if v := q.Get("search"); v != "" && !contains(v, f.Slug, f.Name, f.Title) {
			continue
		}
		items = append(items, flowJSON(f))
	}
	return c.paginate(items)
}

func handleFlowRetrieve(c *call) *response {
	f := c.f.state.flowBySlug(c.params["slug"])
	if f == nil {
		return jsonResponse(http.StatusNotFound, errNotFound)
	}
	return jsonResponse(http.StatusOK, flowJSON(f))
}

func handleKeypairList(c *call) *response {
	q := c.query
	details := true
	if v, ok := c.boolQuery("include_details"); ok {
		details = v
	}
	var items []map[string]any
	for _, k := range sortedBy(c.f.state.keypairs, func(k *Keypair) string { return k.Name }) {
		if !matchAll(filterEq(q.Get("name"), k.Name), filterEq(q.Get("managed"), k.Managed)) {
			continue
		}
		if v, ok := c.boolQuery("has_key"); ok && v != (k.Key != nil) {
			continue
		}
		// Every keypair of the fake is an RSA keypair.
		if types := q["key_type"]; len(types) > 0 && !slices.Contains(types, "rsa") {
			continue
		}
		if v := q.Get("search"); v != "" && !contains(v, k.Name) {
			continue
		}
		items = append(items, keypairJSON(k, details))
	}
	return c.paginate(items)
}

func handleScopeMappingList(c *call) *response {
	q := c.query
	var items []map[string]any
	for _, m := range sortedBy(c.f.state.mappings, func(m *ScopeMapping) string { return m.Name }) {
		if !matchAll(filterEq(q.Get("name"), m.Name), filterEq(q.Get("scope_name"), m.ScopeName)) {
			continue
		}
		if managed := q["managed"]; len(managed) > 0 && !slices.Contains(managed, m.Managed) {
			continue
		}
		if v, ok := c.boolQuery("managed__isnull"); ok && v != (m.Managed == "") {
			continue
		}
		if v := q.Get("search"); v != "" && !contains(v, m.Name, m.ScopeName, m.Description) {
			continue
		}
		items = append(items, mappingJSON(m))
	}
	return c.paginate(items)
}

func handleGroupList(c *call) *response {
	q := c.query
	users, children := true, false
	if v, ok := c.boolQuery("include_users"); ok {
		users = v
	}
	if v, ok := c.boolQuery("include_children"); ok {
		children = v
	}
	var items []map[string]any
	for _, g := range sortedBy(c.f.state.groups, func(g *Group) string { return g.Name }) {
		if v := q.Get("name"); v != "" && g.Name != v {
			continue
		}
		// No group of the fake is a superuser group.
		if v, ok := c.boolQuery("is_superuser"); ok && v {
			continue
		}
		if v := q.Get("search"); v != "" && !contains(v, g.Name) {
			continue
		}
		items = append(items, groupJSON(g, users, children))
	}
	return c.paginate(items)
}

func handleBindingList(c *call) *response {
	q := c.query
	var items []map[string]any
	for _, b := range c.f.state.bindings {
		if !matchAll(filterEq(q.Get("target"), b.Target), filterEq(q.Get("policy"), b.Policy)) {
			continue
		}
		if in := q["target_in"]; len(in) > 0 && !slices.Contains(in, b.Target) {
			continue
		}
		if v, ok := c.boolQuery("enabled"); ok && v != b.Enabled {
			continue
		}
		if v, ok := c.boolQuery("policy__isnull"); ok && v != (b.Policy == "") {
			continue
		}
		items = append(items, c.f.state.bindingJSON(b))
	}
	return c.paginate(items)
}

func handleBindingRetrieve(c *call) *response {
	b := c.f.state.bindingByPK(c.params["policy_binding_uuid"])
	if b == nil {
		return jsonResponse(http.StatusNotFound, errNotFound)
	}
	return jsonResponse(http.StatusOK, c.f.state.bindingJSON(b))
}

func handleBindingDestroy(c *call) *response {
	b := c.f.state.bindingByPK(c.params["policy_binding_uuid"])
	if b == nil {
		return jsonResponse(http.StatusNotFound, errNotFound)
	}
	c.f.state.bindings = removeWhere(c.f.state.bindings, func(x *Binding) bool { return x == b })
	return jsonResponse(http.StatusNoContent, nil)
}

// handleBindingCreate binds a group, user or policy to an application or
// flow. The fake stores no policies, so a policy binding always fails its
// reference check.
func handleBindingCreate(c *call) *response {
	fs, err := decodeFields(c.body)
	if err != nil {
		return badBody(err)
	}
	b := Binding{Enabled: true, Timeout: 30}
	var user *int
	for name, dst := range map[string]any{
		"target": &b.Target, "group": &b.Group, "policy": &b.Policy, "user": &user,
		"order": &b.Order, "enabled": &b.Enabled, "negate": &b.Negate,
		"timeout": &b.Timeout, "failure_result": &b.FailureResult,
	} {
		if _, err := fs.get(name, dst); err != nil {
			return badBody(err)
		}
	}
	if user != nil {
		b.User = *user
	}

	st := c.f.state
	errs := fieldErrors{}
	set := 0
	for _, isSet := range []bool{b.Group != "", b.Policy != "", b.User != 0} {
		if isSet {
			set++
		}
	}
	if set != 1 {
		errs.add("non_field_errors", "Only one of 'policy', 'group' or 'user' can be set.")
	}
	if st.applicationByPK(b.Target) == nil && st.flowByPK(b.Target) == nil {
		errs.add("target", invalidPK(b.Target))
	}
	if b.Group != "" && st.groupByPK(b.Group) == nil {
		errs.add("group", invalidPK(b.Group))
	}
	if b.Policy != "" {
		errs.add("policy", invalidPK(b.Policy))
	}
	// The fake's only user is the token owner, pk 1.
	if b.User != 0 && b.User != 1 {
		errs.add("user", invalidPK(b.User))
	}
	if resp := errs.response(); resp != nil {
		return resp
	}
	b.PK = newUUID()
	st.bindings = append(st.bindings, &b)
	return jsonResponse(http.StatusCreated, st.bindingJSON(&b))
}
