package authentikfake

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
)

// call is one API request on its way through a handler.
type call struct {
	f      *Fake
	access Access
	r      *http.Request
	params map[string]string
	query  url.Values
	body   []byte
}

type handler func(c *call) *response

// handlers maps operation IDs of authentik's schema to the fake's
// handlers. Operations missing here answer 501 and count as violations.
var handlers = map[string]handler{
	"admin_version_retrieve": handleVersion,
	"core_users_me_retrieve": handleUsersMe,

	"core_applications_list":           handleApplicationList,
	"core_applications_create":         handleApplicationCreate,
	"core_applications_retrieve":       handleApplicationRetrieve,
	"core_applications_update":         handleApplicationUpdate,
	"core_applications_partial_update": handleApplicationUpdate,
	"core_applications_destroy":        handleApplicationDestroy,

	"providers_oauth2_list":                handleProviderList,
	"providers_oauth2_create":              handleProviderCreate,
	"providers_oauth2_retrieve":            handleProviderRetrieve,
	"providers_oauth2_update":              handleProviderUpdate,
	"providers_oauth2_partial_update":      handleProviderUpdate,
	"providers_oauth2_destroy":             handleProviderDestroy,
	"providers_oauth2_setup_urls_retrieve": handleProviderSetupURLs,
	"providers_all_list":                   handleAllProviderList,

	"flows_instances_list":                 handleFlowList,
	"flows_instances_retrieve":             handleFlowRetrieve,
	"crypto_certificatekeypairs_list":      handleKeypairList,
	"propertymappings_provider_scope_list": handleScopeMappingList,
	"core_groups_list":                     handleGroupList,

	"policies_bindings_list":     handleBindingList,
	"policies_bindings_create":   handleBindingCreate,
	"policies_bindings_retrieve": handleBindingRetrieve,
	"policies_bindings_destroy":  handleBindingDestroy,
}

// NOTE: the error bodies follow Django REST framework's wording as of
// authentik 2024.10 ("Not found.", "This field is required.", "Invalid pk",
// "<Model> with this <field> already exists."). The unique-field messages
// are built from Django's pattern, not copied from a live server, so
// clients should branch on the field name, never on the text.
var (
	errNotFound   = map[string]any{"detail": "Not found."}
	errPermission = map[string]any{"detail": "You do not have permission to perform this action."}
)

// serveAPI authenticates, routes and validates one request, runs its
// handler under the state lock and validates the response.
func (f *Fake) serveAPI(r *http.Request, body []byte) *response {
	access, resp := f.authenticate(r)
	if resp != nil {
		return resp
	}

	route, params, err := f.contract.router.FindRoute(r)
	if err != nil {
		f.violate("%s %s: no such operation in the schema: %v", r.Method, r.URL.Path, err)
		if errors.Is(err, routers.ErrMethodNotAllowed) {
			return jsonResponse(http.StatusMethodNotAllowed, map[string]any{"detail": fmt.Sprintf("Method \"%s\" not allowed.", r.Method)})
		}
		return jsonResponse(http.StatusNotFound, errNotFound)
	}
	op := route.Operation.OperationID

	input := &openapi3filter.RequestValidationInput{
		Request:    r,
		PathParams: params,
		Route:      route,
		Options:    f.contract.options,
	}
	var out *response
	switch {
	case !permitted(access, r.Method, op):
		out = jsonResponse(http.StatusForbidden, errPermission)
	default:
		out = f.validateRequest(input, body)
	}
	if out == nil {
		f.checkQueryNames(r, route.Operation)
		h := handlers[op]
		if h == nil {
			f.violate("%s %s: operation %q is not implemented by the fake", r.Method, r.URL.Path, op)
			out = jsonResponse(http.StatusNotImplemented, map[string]any{"detail": "Not implemented by the fake."})
		} else {
			c := &call{f: f, access: access, r: r, params: params, query: r.URL.Query(), body: body}
			f.state.mu.Lock()
			out = h(c)
			f.state.mu.Unlock()
		}
	}

	r.Body = io.NopCloser(bytes.NewReader(body))
	header := http.Header{}
	if out.contentType != "" {
		header.Set("Content-Type", out.contentType)
	}
	err = openapi3filter.ValidateResponse(r.Context(), &openapi3filter.ResponseValidationInput{
		RequestValidationInput: input,
		Status:                 out.status,
		Header:                 header,
		Body:                   io.NopCloser(bytes.NewReader(out.body)),
		Options:                f.contract.options,
	})
	if err != nil {
		f.violate("%s %s: response %d does not match the schema: %v", r.Method, r.URL.Path, out.status, err)
	}
	return out
}

// authenticate checks the bearer token. It returns the token's access, or
// the 401 answer.
func (f *Fake) authenticate(r *http.Request) (Access, *response) {
	h := r.Header.Get("Authorization")
	scheme, token, ok := strings.Cut(h, " ")
	if h == "" {
		return 0, jsonResponse(http.StatusUnauthorized, map[string]any{"detail": "Authentication credentials were not provided."})
	}
	if !ok || scheme != "Bearer" || token == "" {
		return 0, jsonResponse(http.StatusUnauthorized, map[string]any{"detail": "Invalid authorization header."})
	}
	f.mu.Lock()
	access, known := f.tokens[token]
	f.mu.Unlock()
	if !known {
		return 0, jsonResponse(http.StatusUnauthorized, map[string]any{"detail": "Token invalid/expired"})
	}
	return access, nil
}

func permitted(access Access, method, op string) bool {
	switch access {
	case AccessFull:
		return true
	case AccessReadOnly:
		return method == http.MethodGet
	default:
		return op == "core_users_me_retrieve"
	}
}

// validateRequest returns nil for a request that matches the schema, else
// the 400 answer, and records the violation.
func (f *Fake) validateRequest(input *openapi3filter.RequestValidationInput, body []byte) *response {
	r := input.Request
	r.Body = io.NopCloser(bytes.NewReader(body))
	err := openapi3filter.ValidateRequest(r.Context(), input)
	r.Body = io.NopCloser(bytes.NewReader(body))
	if err == nil {
		return nil
	}
	f.violate("%s %s: request does not match the schema: %v", r.Method, r.URL.Path, err)
	return jsonResponse(http.StatusBadRequest, validationBody(err))
}

// validationBody turns a schema error into authentik's error shape: a
// list of messages per field, or under non_field_errors.
func validationBody(err error) map[string]any {
	var reqErr *openapi3filter.RequestError
	if errors.As(err, &reqErr) && reqErr.Parameter != nil {
		return map[string]any{reqErr.Parameter.Name: []string{reqErr.Reason}}
	}
	var schemaErr *openapi3.SchemaError
	if errors.As(err, &schemaErr) {
		path := schemaErr.JSONPointer()
		if len(path) > 0 {
			msg := schemaErr.Reason
			if schemaErr.SchemaField == "required" && len(path) == 1 {
				msg = "This field is required."
			}
			return map[string]any{path[0]: []string{msg}}
		}
		return map[string]any{"non_field_errors": []string{schemaErr.Reason}}
	}
	return map[string]any{"non_field_errors": []string{err.Error()}}
}

// checkQueryNames records query parameters the operation does not
// document. authentik ignores them, so the fake serves the request
// unfiltered, but a client that relies on one gets wrong results.
func (f *Fake) checkQueryNames(r *http.Request, op *openapi3.Operation) {
	known := map[string]bool{}
	for _, p := range op.Parameters {
		if p.Value != nil && p.Value.In == openapi3.ParameterInQuery {
			known[p.Value.Name] = true
		}
	}
	var unknown []string
	for name := range r.URL.Query() {
		if !known[name] {
			unknown = append(unknown, name)
		}
	}
	sort.Strings(unknown)
	for _, name := range unknown {
		f.violate("%s %s: query parameter %q is not in the schema and is ignored", r.Method, r.URL.Path, name)
	}
}

// paginate answers a list with one page of items and authentik's
// pagination object, after ordering them by the ordering parameter.
func (c *call) paginate(items []map[string]any) *response {
	orderItems(items, c.query.Get("ordering"))
	size := c.f.opts.PageSize
	if v, err := strconv.Atoi(c.query.Get("page_size")); err == nil && v > 0 {
		size = v
	}
	page := 1
	if v, err := strconv.Atoi(c.query.Get("page")); err == nil {
		page = v
	}
	count := len(items)
	pages := max((count+size-1)/size, 1)
	if page < 1 || page > pages {
		return jsonResponse(http.StatusNotFound, map[string]any{"detail": "Invalid page."})
	}
	start := (page - 1) * size
	end := min(start+size, count)
	next, previous := 0, 0
	if page < pages {
		next = page + 1
	}
	if page > 1 {
		previous = page - 1
	}
	startIndex := start + 1
	if count == 0 {
		startIndex = 0
	}
	return jsonResponse(http.StatusOK, map[string]any{
		"pagination": map[string]any{
			"count":       count,
			"current":     page,
			"next":        next,
			"previous":    previous,
			"start_index": startIndex,
			"end_index":   end,
			"total_pages": pages,
		},
		"results":      nonNil(items[start:end]),
		"autocomplete": map[string]any{},
	})
}

// orderItems sorts by a comma-separated list of fields, each optionally
// prefixed with "-" for descending order. Unknown fields are ignored, as
// authentik's ordering filter ignores them.
func orderItems(items []map[string]any, ordering string) {
	if ordering == "" {
		return
	}
	keys := strings.Split(ordering, ",")
	sort.SliceStable(items, func(i, j int) bool {
		for _, k := range keys {
			name := strings.TrimPrefix(k, "-")
			c := compareValues(items[i][name], items[j][name])
			if c == 0 {
				continue
			}
			if strings.HasPrefix(k, "-") {
				return c > 0
			}
			return c < 0
		}
		return false
	})
}

func compareValues(a, b any) int {
	switch x := a.(type) {
	case string:
		y, _ := b.(string)
		return strings.Compare(x, y)
	case int:
		y, _ := b.(int)
		return x - y
	case bool:
		y, _ := b.(bool)
		switch {
		case x == y:
			return 0
		case !x:
			return -1
		default:
			return 1
		}
	}
	return 0
}

// contains reports whether any of values contains term, ignoring case, as
// authentik's search parameter matches.
func contains(term string, values ...string) bool {
	term = strings.ToLower(term)
	for _, v := range values {
		if strings.Contains(strings.ToLower(v), term) {
			return true
		}
	}
	return false
}

// boolQuery reads a boolean filter. It returns ok false when the parameter
// is absent.
func (c *call) boolQuery(name string) (value, ok bool) {
	v := c.query.Get(name)
	if v == "" {
		return false, false
	}
	return v == "true" || v == "True" || v == "1", true
}

// fields is a JSON request body by property, to tell absent properties
// from empty ones.
type fields map[string]json.RawMessage

func decodeFields(body []byte) (fields, error) {
	fs := fields{}
	if len(bytes.TrimSpace(body)) == 0 {
		return fs, nil
	}
	if err := json.Unmarshal(body, &fs); err != nil {
		return nil, err
	}
	return fs, nil
}

// get decodes property name into dst when present, but JSON null leaves
// dst unchanged. It returns whether the property was present.
func (fs fields) get(name string, dst any) (bool, error) {
	raw, ok := fs[name]
	if !ok {
		return false, nil
	}
	if string(raw) == "null" {
		return true, nil
	}
	if err := json.Unmarshal(raw, dst); err != nil {
		return true, fmt.Errorf("%s: %w", name, err)
	}
	return true, nil
}

// fieldErrors collects validation messages per field, as authentik returns
// them.
type fieldErrors map[string][]string

func (fe fieldErrors) add(field, msg string) {
	fe[field] = append(fe[field], msg)
}

func (fe fieldErrors) response() *response {
	if len(fe) == 0 {
		return nil
	}
	return jsonResponse(http.StatusBadRequest, map[string][]string(fe))
}

func invalidPK(pk any) string {
	return fmt.Sprintf("Invalid pk \"%v\" - object does not exist.", pk)
}

func badBody(err error) *response {
	return jsonResponse(http.StatusBadRequest, map[string]any{"non_field_errors": []string{err.Error()}})
}
