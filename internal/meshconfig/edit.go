// Package meshconfig edits MeshCentral's config.json so that one domain
// signs in through an OpenID Connect provider, changing only the lines it
// must.
//
// MeshCentral reads the file with Node's JSON.parse after removing a UTF-8
// byte order mark, then lower-cases every key. The package follows the
// same rules. Input must be strict JSON, or a [SyntaxError] names the line
// and column. Keys are matched case-insensitively, so the edited block is
// the one MeshCentral uses, and no key is added beside a twin that differs
// only in case.
//
// Start with [RedirectURI] to compute the callback both sides must agree
// on, then [Edit] to produce the new file and its change list. [Render]
// fills in the client secret for deployment.
//
// Edits are made on the bytes: indentation, key order, line endings, the
// BOM and the final newline stay as found, and bytes outside the edited
// ranges are copied unchanged. Edit is idempotent: applied to its own
// output it reports no changes and returns identical bytes.
package meshconfig

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/meshauth/meshcentral-authentik-action/internal/change"
)

// Kind is the change.Entry kind of every entry Edit returns.
const Kind = "config.json"

// Desired is the oidc block a run wants for one domain.
type Desired struct {
	// Domain is the domain key, "" for the default domain. It is matched
	// case-insensitively, and a new domain is written lower-cased because
	// MeshCentral lower-cases domain names.
	Domain string
	// Issuer is the authentik issuer URL,
	// https://auth.example.com/application/o/<slug>/.
	Issuer   string
	ClientID string
	// ClientSecret is the placeholder, such as
	// "${MESHCENTRAL_OIDC_CLIENT_SECRET}", or the real secret when the
	// secret is kept in the file (inline mode).
	ClientSecret string
	RedirectURI  string
	NewAccounts  bool
	// AdminGroups and RequiredGroups fill groups.siteadmin and
	// groups.required. An empty list removes its key, with a warning for
	// required.
	AdminGroups, RequiredGroups []string
	SyncGroups                  bool
	// GroupsSet writes the groups block. When it is false the file's
	// groups block is left as it is.
	GroupsSet bool
	// KnownSecretPlaceholder is the placeholder text. A client secret in
	// the file that is neither this nor another template placeholder is
	// reported as committed.
	KnownSecretPlaceholder string
}

// Result is the outcome of Edit.
type Result struct {
	// Content is the edited file, byte-identical to the input when no
	// change is needed.
	Content []byte
	// Changes has one entry per config.json key the block needs, Kind
	// "config.json", Name the path given to Edit and Field a JSON path
	// spelled as in the file, such as
	// domains[""].authStrategies.oidc.client.client_id.
	Changes []change.Entry
	// Warnings are problems for the log. They contain no secret values.
	Warnings []string
	// Notes are sentences for the pull request body explaining changes
	// beyond setting values.
	Notes []string
}

// Changed reports whether the file needs a write.
func (r *Result) Changed() bool {
	for _, e := range r.Changes {
		if e.Changed() {
			return true
		}
	}
	return false
}

// DuplicateKeyError reports keys on the path to the oidc block that
// MeshCentral reads as one because they differ only in case. Editing one of
// them would leave the outcome to key order, so Edit refuses.
type DuplicateKeyError struct {
	Path   string
	Parent string   // JSON path of the object holding the keys
	Keys   []string // the keys as spelled in the file
	Lines  []int    // 1-based line of each key
}

func (e *DuplicateKeyError) Error() string {
	parts := make([]string, len(e.Keys))
	for i, k := range e.Keys {
		parts[i] = fmt.Sprintf("%q (line %d)", k, e.Lines[i])
	}
	parent := e.Parent
	if parent == "" {
		parent = "the top-level object"
	}
	return fmt.Sprintf("edit %q: %s has keys %s that MeshCentral reads as one key after lower-casing, so keep one of them",
		e.Path, parent, strings.Join(parts, " and "))
}

// DNSDomainError reports an edit that would give a domain with its own dns
// name an oidc block while the default domain has none. MeshCentral 1.1.55
// registers that domain's sign-in routes on the default domain, reads the
// default domain's missing oidc settings, crashes at start and restarts
// every five seconds.
type DNSDomainError struct {
	Path   string
	Domain string
	DNS    string
}

func (e *DNSDomainError) Error() string {
	return fmt.Sprintf("edit %q: domain %q has its own dns name %q, so the default domain \"\" needs an oidc block too; "+
		"MeshCentral 1.1.55 reads the default domain's oidc settings for the sign-in routes of a dns domain and, finding none, "+
		"crashes at start (TypeError reading 'client') and restarts every five seconds; "+
		"run the action with meshcentral-domain \"\" first, then again for %q",
		e.Path, e.Domain, e.DNS, e.Domain)
}

// Edit returns the file with the oidc block of d.Domain set to d. path
// names the file in messages and change entries. src must be strict JSON
// of at most MaxSize bytes. Errors are a *SyntaxError, a
// *DuplicateKeyError, a *DNSDomainError, or a plain error for shapes the
// edit cannot handle, such as a domain that is not an object. On error no
// partial result is returned.
func Edit(path string, src []byte, d Desired) (*Result, error) {
	if err := d.validate(); err != nil {
		return nil, fmt.Errorf("edit %q: %w", path, err)
	}
	doc, err := loadDocument(path, src)
	if err != nil {
		return nil, err
	}
	if doc.root.kind != kindObject {
		return nil, fmt.Errorf("edit %q: the top-level value is %s, not an object", path, doc.root.kind)
	}
	res := &Result{}

	// Pass 1: put an oidc object where MeshCentral looks for it, moving a
	// misplaced block, then read the file again.
	plan, err := planStructure(doc, d)
	if err != nil {
		return nil, err
	}
	res.Warnings = append(res.Warnings, plan.warnings...)
	res.Notes = append(res.Notes, plan.notes...)
	res.Changes = append(res.Changes, plan.changes...)
	text := doc.text
	if plan.patch != nil {
		if text, err = plan.patch.apply(); err != nil {
			return nil, err
		}
	}
	if doc, err = loadDocument(path, doc.bytes(text)); err != nil {
		return nil, fmt.Errorf("edit %q: the restructured file does not parse: %w", path, err)
	}

	// Pass 2: set the fields of the block in the form it uses.
	fe := &fieldEditor{doc: doc, d: d, p: &patcher{doc: doc}}
	if err := fe.run(); err != nil {
		return nil, err
	}
	res.Changes = append(res.Changes, fe.changes...)
	res.Notes = append(res.Notes, fe.notes...)
	res.Warnings = append(res.Warnings, fe.warnings...)
	if text, err = fe.p.apply(); err != nil {
		return nil, err
	}
	res.Content = doc.bytes(text)
	if !res.Changed() {
		res.Content = append([]byte{}, src...)
	}

	// The result must be strict JSON and no worse against the schema.
	if _, err := parse(path, text); err != nil {
		return nil, fmt.Errorf("edit %q: the edited file does not parse: %w", path, err)
	}
	if err := compareSchema(path, src, res.Content); err != nil {
		return nil, err
	}
	return res, nil
}

func (d Desired) validate() error {
	for _, f := range []struct{ name, v string }{
		{"issuer", d.Issuer}, {"client ID", d.ClientID},
		{"client secret", d.ClientSecret}, {"redirect URI", d.RedirectURI},
	} {
		if f.v == "" {
			return fmt.Errorf("the desired %s is empty", f.name)
		}
	}
	if strings.ToLower(d.Domain) == "authstrategies" {
		return errors.New(`domain "authstrategies" is the misplaced-block name MeshCentral guides copy; choose another domain name`)
	}
	return nil
}

// unique returns the one member of obj named name (case-insensitively), nil
// if there is none, and a *DuplicateKeyError if there are several.
func (doc *document) unique(obj *node, parent, name string) (*member, error) {
	ms := obj.find(name)
	switch len(ms) {
	case 0:
		return nil, nil
	case 1:
		return ms[0], nil
	}
	e := &DuplicateKeyError{Path: doc.path, Parent: parent}
	for _, m := range ms {
		e.Keys = append(e.Keys, m.key)
		e.Lines = append(e.Lines, doc.line(m.keyStart))
	}
	return nil, e
}

// child returns the member named name and checks that it holds an object.
func (doc *document) child(obj *node, parent, name string) (*member, error) {
	m, err := doc.unique(obj, parent, name)
	if err != nil || m == nil {
		return m, err
	}
	if m.value.kind != kindObject {
		return nil, fmt.Errorf("edit %q: %s is %s, not an object", doc.path, join(parent, m.key), m.value.kind)
	}
	return m, nil
}

// join extends a JSON path with a key, in brackets when it is not a plain
// identifier.
func join(parent, key string) string {
	plain := key != ""
	for _, r := range key {
		if !(r == '_' || r == '$' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9') {
			plain = false
		}
	}
	switch {
	case !plain:
		return parent + "[" + strconv.Quote(key) + "]"
	case parent == "":
		return key
	default:
		return parent + "." + key
	}
}

// isPlaceholder reports whether a secret value in the file is a template
// placeholder rather than a secret: the run's own, ${NAME}, __NAME__ or
// {{ name }}.
func isPlaceholder(v, known string) bool {
	switch {
	case v == "" || v == known:
		return true
	case strings.HasPrefix(v, "${") && strings.HasSuffix(v, "}") && !strings.ContainsAny(v[2:len(v)-1], "${} "):
		return true
	case len(v) > 4 && strings.HasPrefix(v, "__") && strings.HasSuffix(v, "__") && strings.Trim(v, "_ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789") == "":
		return true
	case strings.HasPrefix(v, "{{") && strings.HasSuffix(v, "}}"):
		return true
	}
	return false
}

func committedSecretWarning(path, field string) string {
	return fmt.Sprintf("%s: %s holds a client secret committed to the repository; it stays in the git history after this change, "+
		"so rotate it by running once with rotate-client-secret: true", path, field)
}
