package authentik

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"sort"
	"strconv"
	"strings"

	api "goauthentik.io/api/v3"
)

// op names one API step for error messages, with the permission the token's
// user needs for it.
type op struct {
	verb string // list, read, create, update
	kind string // "authentik provider", "authentik flows"
	name string // object name or slug; empty for lists
	perm string // authentik permission codename; empty when none applies
}

func (o op) String() string {
	if o.name == "" {
		return o.verb + " " + o.kind
	}
	return fmt.Sprintf("%s %s %q", o.verb, o.kind, o.name)
}

// HTTPError is an authentik API response with a status of 300 or more.
type HTTPError struct {
	// Status is the HTTP status code.
	Status int
	// Op is the step that got the response, such as
	// `create authentik provider "Provider for MeshCentral"`.
	Op string
	// Fields contains a 400 response's messages by field. Messages that
	// belong to no field are under "non_field_errors". Nested fields are
	// joined with dots, list positions in brackets: redirect_uris[0].url.
	Fields map[string][]string
	// Detail is the "detail" text of other responses, if any.
	Detail string
	// Permission is the authentik permission the step needs. The message
	// of a 403 response names it.
	Permission string
}

// Error formats the error as `<op>: invalid request: <field>: <message>`
// for a 400 response, and `<op>: <status>: <hint>` otherwise.
func (e *HTTPError) Error() string {
	var b strings.Builder
	b.WriteString(e.Op)
	b.WriteString(": ")
	switch e.Status {
	case http.StatusBadRequest:
		b.WriteString("invalid request")
		if len(e.Fields) > 0 {
			b.WriteString(": ")
			b.WriteString(e.fieldText())
		} else if e.Detail != "" {
			b.WriteString(": " + e.Detail)
		}
		return b.String()
	case http.StatusUnauthorized:
		b.WriteString("401 Unauthorized: authentik rejected the token; check that authentik-token is an API token that has not expired")
		return b.String()
	case http.StatusForbidden:
		b.WriteString("403 Forbidden: ")
		if e.Permission != "" {
			fmt.Fprintf(&b, "the token's user lacks permission %q", e.Permission)
		} else {
			b.WriteString("the token's user may not do this")
		}
		if e.Detail != "" {
			b.WriteString(" (" + e.Detail + ")")
		}
		return b.String()
	}
	b.WriteString(strconv.Itoa(e.Status))
	if t := http.StatusText(e.Status); t != "" {
		b.WriteString(" " + t)
	}
	if e.Detail != "" {
		b.WriteString(": " + e.Detail)
	}
	return b.String()
}

// fieldText joins the field errors: non-field errors first, then fields in
// name order.
func (e *HTTPError) fieldText() string {
	keys := make([]string, 0, len(e.Fields))
	for k := range e.Fields {
		if k != "non_field_errors" {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	var parts []string
	if msgs := e.Fields["non_field_errors"]; len(msgs) > 0 {
		parts = append(parts, strings.Join(msgs, " "))
	}
	for _, k := range keys {
		parts = append(parts, k+": "+strings.Join(e.Fields[k], " "))
	}
	return strings.Join(parts, "; ")
}

// Conflict reports whether the error is a 400 response reporting that a
// unique value (a name, a slug, a client ID, a binding) is taken already.
//
// NOTE: it matches authentik's English messages ("already exists",
// "unique"), so a server that sends them in another language is not recognized.
func (e *HTTPError) Conflict() bool {
	if e.Status != http.StatusBadRequest {
		return false
	}
	for _, msgs := range e.Fields {
		for _, m := range msgs {
			l := strings.ToLower(m)
			if strings.Contains(l, "already exists") || strings.Contains(l, "unique") {
				return true
			}
		}
	}
	return false
}

// isStatus reports whether err is an *HTTPError with the given status.
func isStatus(err error, status int) bool {
	var he *HTTPError
	return errors.As(err, &he) && he.Status == status
}

// isConflict reports whether err is an *HTTPError for a taken unique value.
func isConflict(err error) bool {
	var he *HTTPError
	return errors.As(err, &he) && he.Conflict()
}

// fail turns the outcome of a generated-client call into nil or an error
// naming the step. The generated client keeps the response body, which is
// where authentik puts its field errors.
func (c *Client) fail(o op, resp *http.Response, err error) error {
	if resp != nil && resp.StatusCode >= 300 {
		var body []byte
		var oe *api.GenericOpenAPIError
		if errors.As(err, &oe) {
			body = oe.Body()
		}
		he := &HTTPError{Status: resp.StatusCode, Op: o.String(), Permission: o.perm}
		parseErrorBody(he, body)
		he.Detail = c.scrub(he.Detail)
		for k, msgs := range he.Fields {
			for i := range msgs {
				msgs[i] = c.scrub(msgs[i])
			}
			he.Fields[k] = msgs
		}
		return he
	}
	if err != nil {
		return fmt.Errorf("%s: %s", o, c.scrub(err.Error()))
	}
	return nil
}

// scrub replaces every secret registered with the client in s.
func (c *Client) scrub(s string) string {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, v := range c.secrets {
		if v != "" {
			s = strings.ReplaceAll(s, v, "(redacted)")
		}
	}
	return s
}

// maxDetail bounds the detail text taken from an error body.
const maxDetail = 300

// parseErrorBody fills Fields (400) or Detail (others) from a JSON body.
// A body that is not JSON, such as a proxy's HTML page, is left out.
func parseErrorBody(he *HTTPError, body []byte) {
	var doc map[string]any
	if json.Unmarshal(body, &doc) != nil {
		return
	}
	if d, ok := doc["detail"].(string); ok {
		if len(d) > maxDetail {
			d = d[:maxDetail] + "..."
		}
		he.Detail = d
	}
	if he.Status != http.StatusBadRequest {
		return
	}
	fields := map[string][]string{}
	for k, v := range doc {
		if k == "code" || k == "detail" {
			continue
		}
		flattenMessages(fields, k, v)
	}
	if len(fields) > 0 {
		he.Fields = fields
	}
}

// flattenMessages collects the messages under v into fields[key], naming
// nested fields key.sub and list items key[i].
func flattenMessages(fields map[string][]string, key string, v any) {
	switch v := v.(type) {
	case string:
		fields[key] = append(fields[key], v)
	case []any:
		for i, item := range v {
			if s, ok := item.(string); ok {
				fields[key] = append(fields[key], s)
				continue
			}
			flattenMessages(fields, fmt.Sprintf("%s[%d]", key, i), item)
		}
	case map[string]any:
		for k, item := range v {
			flattenMessages(fields, key+"."+k, item)
		}
	}
}
