package githubfake

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
)

const docsURL = "https://docs.github.com/rest"

type callKey struct{}

// call is one request being handled, with the state locked.
type call struct {
	s     *Server
	w     http.ResponseWriter
	r     *http.Request
	body  []byte
	perms Permissions
}

// handle registers f for pattern.
func (s *Server) handle(pattern string, f func(*call)) {
	s.mux.HandleFunc(pattern, func(w http.ResponseWriter, r *http.Request) {
		c, ok := r.Context().Value(callKey{}).(*call)
		if !ok {
			writeError(w, http.StatusInternalServerError, "no call")
			return
		}
		c.r = r
		f(c)
	})
}

type errorBody struct {
	Message          string       `json:"message"`
	Errors           []fieldError `json:"errors,omitempty"`
	DocumentationURL string       `json:"documentation_url"`
	Status           string       `json:"status"`
}

type fieldError struct {
	Resource string `json:"resource"`
	Code     string `json:"code"`
	Field    string `json:"field,omitempty"`
	Message  string `json:"message,omitempty"`
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func writeError(w http.ResponseWriter, status int, msg string) {
	writeJSON(w, status, errorBody{Message: msg, DocumentationURL: docsURL, Status: strconv.Itoa(status)})
}

func (c *call) json(status int, v any) { writeJSON(c.w, status, v) }

func (c *call) fail(status int, msg string) { writeError(c.w, status, msg) }

func (c *call) notFound() { c.fail(http.StatusNotFound, "Not Found") }

func (c *call) noContent() { c.w.WriteHeader(http.StatusNoContent) }

// validation responds with 422 "Validation Failed" with one error, as GitHub does
// for requests that are well formed but conflict with the state.
func (c *call) validation(resource, code, field, msg string) {
	writeJSON(c.w, http.StatusUnprocessableEntity, errorBody{
		Message:          "Validation Failed",
		Errors:           []fieldError{{Resource: resource, Code: code, Field: field, Message: msg}},
		DocumentationURL: docsURL,
		Status:           "422",
	})
}

// invalid records a contract violation and responds with 422 as GitHub's
// schema check does.
func (c *call) invalid(format string, args ...any) {
	detail := fmt.Sprintf(format, args...)
	c.s.violate("%s %s: %s", c.r.Method, c.r.URL.Path, detail)
	c.fail(http.StatusUnprocessableEntity, "Invalid request.\n\n"+detail)
}

// need checks that the token has at least level in area, responding with 403 when
// it has not.
func (c *call) need(area string, level Access) bool {
	if c.perms.level(area) >= level {
		return true
	}
	if c.perms.Integration {
		c.fail(http.StatusForbidden, "Resource not accessible by integration")
	} else {
		c.fail(http.StatusForbidden, "Resource not accessible by personal access token")
	}
	return false
}

// needFor checks area at Read for GET and at Write for other methods.
func (c *call) needFor(area string) bool {
	if isWrite(c.r.Method) {
		return c.need(area, Write)
	}
	return c.need(area, Read)
}

// decode reads the JSON body into v strictly: unknown keys, trailing data
// and wrong types are contract violations, rejected with 422 or 400.
func (c *call) decode(v any) bool {
	if len(bytes.TrimSpace(c.body)) == 0 {
		c.s.violate("%s %s: empty body", c.r.Method, c.r.URL.Path)
		c.fail(http.StatusBadRequest, "Problems parsing JSON")
		return false
	}
	dec := json.NewDecoder(bytes.NewReader(c.body))
	dec.DisallowUnknownFields()
	err := dec.Decode(v)
	if err == nil && dec.More() {
		err = errors.New("trailing data after the JSON value")
	}
	if err == nil {
		return true
	}
	var typeErr *json.UnmarshalTypeError
	switch {
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		c.invalid("%s is not a permitted key.", strings.TrimPrefix(err.Error(), "json: unknown field "))
	case errors.As(err, &typeErr):
		c.invalid("For '%s', %s is not %s.", typeErr.Field, typeErr.Value, typeErr.Type)
	default:
		c.s.violate("%s %s: body is not JSON: %v", c.r.Method, c.r.URL.Path, err)
		c.fail(http.StatusBadRequest, "Problems parsing JSON")
	}
	return false
}

// missing records a violation for a required field that was not supplied.
func (c *call) missing(field string) {
	c.invalid("%q wasn't supplied.", field)
}

// page cuts a list of n items by the request's page and per_page, sets the
// Link header and returns the slice bounds.
func (c *call) page(n int) (start, end int) {
	q := c.r.URL.Query()
	perPage := c.s.opts.PageSize
	if v := q.Get("per_page"); v != "" {
		if p, err := strconv.Atoi(v); err == nil && p > 0 {
			perPage = min(p, 100)
		}
	}
	page := 1
	if v := q.Get("page"); v != "" {
		if p, err := strconv.Atoi(v); err == nil && p > 0 {
			page = p
		}
	}
	last := max(1, (n+perPage-1)/perPage)

	var links []string
	link := func(p int, rel string) {
		u := *c.r.URL
		u.Scheme, u.Host = "", ""
		qq := url.Values{}
		for k, v := range q {
			qq[k] = v
		}
		qq.Set("per_page", strconv.Itoa(perPage))
		qq.Set("page", strconv.Itoa(p))
		u.RawQuery = qq.Encode()
		links = append(links, fmt.Sprintf("<%s%s>; rel=%q", c.base(), u.RequestURI(), rel))
	}
	if page > 1 {
		link(page-1, "prev")
	}
	if page < last {
		link(page+1, "next")
		link(last, "last")
	}
	if page > 1 {
		link(1, "first")
	}
	if len(links) > 0 {
		c.w.Header().Set("Link", strings.Join(links, ", "))
	}

	start = min((page-1)*perPage, n)
	end = min(start+perPage, n)
	return start, end
}

// base is the server's origin, without a trailing slash.
func (c *call) base() string { return c.s.srv.URL }

// login is the account of the request's token.
func (c *call) login() string { return c.perms.Login }
