package meshconfig

import (
	"bytes"
	"encoding/json"
	"fmt"
	"reflect"
	"strconv"
	"strings"

	"github.com/meshauth/meshcentral-authentik-action/internal/change"
)

// flatClientKeys are the flat-form keys MeshCentral moves into client{}
// when it loads the block, unless client{} already sets them.
var flatClientKeys = []string{"clientid", "clientsecret", "callbackURL"}

// fieldEditor is pass 2 of Edit: it sets the values of an existing oidc
// block, keeping the block's form and key spelling.
type fieldEditor struct {
	doc      *document
	d        Desired
	p        *patcher
	changes  []change.Entry
	notes    []string
	warnings []string
}

func (fe *fieldEditor) run() error {
	bp, err := locate(fe.doc, fe.d.Domain)
	if err != nil {
		return err
	}
	if bp.oidc == nil {
		return fmt.Errorf("edit %q: %s is missing after restructuring", fe.doc.path, bp.oidcPath)
	}
	oidc, path := bp.oidc.value, bp.oidcPath
	client, err := fe.doc.child(oidc, path, "client")
	if err != nil {
		return err
	}
	flat := false
	for _, k := range flatClientKeys {
		flat = flat || len(oidc.find(k)) > 0
	}

	if err := fe.issuer(oidc, path); err != nil {
		return err
	}
	switch {
	case client != nil:
		if err := fe.nested(oidc, client, path); err != nil {
			return err
		}
	case flat:
		if err := fe.flat(oidc, path); err != nil {
			return err
		}
	default:
		fe.add(oidc, path, "client", objectValue(fe.clientFields()...))
	}
	if err := fe.set(oidc, path, "newAccounts", boolValue(fe.d.NewAccounts)); err != nil {
		return err
	}
	if fe.d.GroupsSet {
		return fe.groups(oidc, path)
	}
	return nil
}

func (fe *fieldEditor) clientFields() []field {
	return []field{
		{"client_id", stringValue(fe.d.ClientID)},
		{"client_secret", stringValue(fe.d.ClientSecret)},
		{"redirect_uri", stringValue(fe.d.RedirectURI)},
	}
}

// issuer sets the issuer string, or the issuer key inside an issuer object
// that also contains endpoint metadata.
func (fe *fieldEditor) issuer(oidc *node, path string) error {
	m, err := fe.doc.unique(oidc, path, "issuer")
	if err != nil {
		return err
	}
	if m != nil && m.value.kind == kindObject {
		var others []string
		for _, om := range m.value.members {
			if !strings.EqualFold(om.key, "issuer") {
				others = append(others, om.key)
			}
		}
		if len(others) == 0 {
			return fe.set(m.value, join(path, m.key), "issuer", stringValue(fe.d.Issuer))
		}
		// MeshCentral copies the issuer object over what discovery found,
		// so endpoints written there (of an earlier identity provider, as a
		// rule) would win over authentik's. The plain issuer URL lets
		// discovery provide all of them.
		fe.record(change.Entry{
			Kind: Kind, Name: fe.doc.path, Field: join(path, m.key),
			Before: fe.display(m.value), After: fe.d.Issuer, Action: change.Update,
		})
		fe.p.replace(oidc, m, stringValue(fe.d.Issuer))
		fe.notes = append(fe.notes, fmt.Sprintf(
			"The oidc issuer object also set %s, which MeshCentral uses in place of what authentik's discovery document says; it is replaced by the issuer URL so that every endpoint comes from authentik.",
			strings.Join(others, ", ")))
		return nil
	}
	return fe.set(oidc, path, "issuer", stringValue(fe.d.Issuer))
}

// nested sets client{} and removes flat keys beside it: MeshCentral
// ignores a flat key when client{} sets the same value, so keeping both
// only hides which one is used.
func (fe *fieldEditor) nested(oidc *node, client *member, path string) error {
	cpath := join(path, client.key)
	for _, f := range fe.clientFields() {
		if err := fe.set(client.value, cpath, f.key, f.val); err != nil {
			return err
		}
	}
	var removed []string
	for _, k := range flatClientKeys {
		for _, m := range oidc.find(k) {
			fe.p.remove(oidc, m)
			removed = append(removed, m.key)
			before := fe.display(m.value)
			fe.record(change.Entry{
				Kind: Kind, Name: fe.doc.path, Field: join(path, m.key), Before: before, Action: change.Delete,
				Sensitive: fe.sensitive(k, before, ""),
			})
		}
	}
	if len(removed) > 0 {
		fe.notes = append(fe.notes, fmt.Sprintf(
			"`%s` set the client both in `%s` and in the older flat keys `%s`; MeshCentral uses `%s` when both are present, "+
				"so the flat keys were removed.", path, client.key, strings.Join(removed, "`, `"), client.key))
	}
	return nil
}

func (fe *fieldEditor) flat(oidc *node, path string) error {
	for i, f := range fe.clientFields() {
		if err := fe.set(oidc, path, flatClientKeys[i], f.val); err != nil {
			return err
		}
	}
	return nil
}

// groups sets groups.siteadmin, groups.required and groups.sync. An empty
// list removes its key: MeshCentral treats an empty required list as "no
// group may sign in".
func (fe *fieldEditor) groups(oidc *node, path string) error {
	lists := []struct {
		key  string
		list []string
	}{{"siteadmin", fe.d.AdminGroups}, {"required", fe.d.RequiredGroups}}
	var want []field
	for _, l := range lists {
		if len(l.list) > 0 {
			want = append(want, field{l.key, stringsValue(l.list)})
		}
	}
	want = append(want, field{"sync", boolValue(fe.d.SyncGroups)})

	m, err := fe.doc.unique(oidc, path, "groups")
	switch {
	case err != nil:
		return err
	case m == nil:
		fe.add(oidc, path, "groups", objectValue(want...))
		return nil
	case m.value.kind != kindObject:
		return fe.set(oidc, path, m.key, objectValue(want...))
	}
	gpath := join(path, m.key)
	for _, l := range lists {
		if len(l.list) > 0 {
			if err := fe.set(m.value, gpath, l.key, stringsValue(l.list)); err != nil {
				return err
			}
			continue
		}
		for _, old := range m.value.find(l.key) {
			fe.p.remove(m.value, old)
			if l.key == "required" {
				fe.warnings = append(fe.warnings, fmt.Sprintf(
					"%s: %s is removed because required-groups is empty, so any user that authentik authorizes can sign in",
					fe.doc.path, join(gpath, old.key)))
			}
			fe.changes = append(fe.changes, change.Entry{
				Kind: Kind, Name: fe.doc.path, Field: join(gpath, old.key), Before: fe.display(old.value), Action: change.Delete,
			})
		}
	}
	// An object sync (with a filter) already means enabled.
	if s := m.value.effective("sync"); s != nil && s.value.kind == kindObject && fe.d.SyncGroups {
		fe.changes = append(fe.changes, change.Entry{
			Kind: Kind, Name: fe.doc.path, Field: join(gpath, s.key), Before: fe.display(s.value), After: fe.display(s.value), Action: change.None,
		})
		return nil
	}
	return fe.set(m.value, gpath, "sync", boolValue(fe.d.SyncGroups))
}

// set makes obj[key] equal to want. It matches the key case-insensitively
// and keeps the file's spelling. A missing key is added as spelled here.
func (fe *fieldEditor) set(obj *node, parent, key string, want value) error {
	m, err := fe.doc.unique(obj, parent, key)
	if err != nil {
		return err
	}
	if m == nil {
		fe.add(obj, parent, key, want)
		return nil
	}
	e := change.Entry{
		Kind: Kind, Name: fe.doc.path, Field: join(parent, m.key),
		Before: fe.display(m.value), After: displayValue(want), Action: change.None,
	}
	if !fe.equal(m.value, want) {
		e.Action = change.Update
		fe.p.replace(obj, m, want)
		// A string where a boolean or list belongs, such as "true" for
		// newAccounts, is shown quoted so the change is visible.
		if m.value.kind == kindString && want.kind != kindString {
			e.Before = strconv.Quote(m.value.str)
		}
	}
	e.Sensitive = fe.sensitive(key, e.Before, e.After)
	fe.record(e)
	return nil
}

// add appends a new key, with one Create entry per scalar it holds.
func (fe *fieldEditor) add(obj *node, parent, key string, v value) {
	fe.p.add(obj, key, v)
	fe.created(join(parent, key), key, v)
}

func (fe *fieldEditor) created(path, key string, v value) {
	if v.kind == kindObject && len(v.fields) > 0 {
		for _, f := range v.fields {
			fe.created(join(path, f.key), f.key, f.val)
		}
		return
	}
	after := displayValue(v)
	fe.record(change.Entry{
		Kind: Kind, Name: fe.doc.path, Field: path, After: after, Action: change.Create,
		Sensitive: fe.sensitive(key, "", after),
	})
}

// record appends an entry, clearing the values of a sensitive one so that
// no secret leaves the package.
func (fe *fieldEditor) record(e change.Entry) {
	if e.Sensitive {
		e.Before, e.After = "", ""
	}
	fe.changes = append(fe.changes, e)
}

// sensitive reports whether an entry for key may show a secret: a client
// secret is shown only when both sides are the placeholder or absent.
func (fe *fieldEditor) sensitive(key, before, after string) bool {
	lower := strings.ToLower(key)
	if lower != "clientsecret" && lower != "client_secret" {
		return false
	}
	ph := fe.d.KnownSecretPlaceholder
	return (before != "" && before != ph) || (after != "" && after != ph)
}

func (fe *fieldEditor) equal(n *node, want value) bool {
	var a, b any
	if json.Unmarshal(fe.doc.text[n.start:n.end], &a) != nil {
		return false
	}
	if json.Unmarshal([]byte(compact(want)), &b) != nil {
		return false
	}
	return reflect.DeepEqual(a, b)
}

// display shows a value from the file as change-list text: strings
// without quotes, anything else as compact JSON.
func (fe *fieldEditor) display(n *node) string {
	if n.kind == kindString {
		return n.str
	}
	var b bytes.Buffer
	if json.Compact(&b, fe.doc.text[n.start:n.end]) != nil {
		return string(fe.doc.text[n.start:n.end])
	}
	return b.String()
}

func displayValue(v value) string {
	if v.kind == kindString {
		var s string
		if json.Unmarshal([]byte(v.raw), &s) == nil {
			return s
		}
	}
	return compact(v)
}

func compact(v value) string {
	return style{colon: ":", inline: true}.render(v, "")
}
