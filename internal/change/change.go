// Package change describes what a run found and what it will do, as one
// list shared by every mode: the plan shown on pull requests, the drift
// report of scheduled checks and the summary of an apply.
//
// The package imports none of the adapters. Each adapter (authentik,
// meshconfig, gh) turns its desired state into entries; internal/action
// collects them and decides the order of writes.
package change

import "strings"

// Action is the operation a run performs on one item.
type Action string

// The actions an entry can carry.
const (
	Create Action = "create"
	Update Action = "update"
	Delete Action = "delete"
	None   Action = "none"
)

// Entry is one item of the change list: a field of an authentik object, a
// GitHub secret or variable, a config.json key or the pull request.
type Entry struct {
	// Kind is the family of the item, such as "authentik provider",
	// "GitHub secret" or "config.json".
	Kind string
	// Name identifies the object within its kind: a provider name, an
	// application slug, a secret name, a file path.
	Name string
	// Field is the attribute or JSON path; empty when the entry is about the
	// whole object.
	Field string
	// Before and After are the current and desired values as text. Empty
	// Before with Action Create means the item does not exist yet.
	Before string
	After  string
	Action Action
	// Sensitive entries never carry values: Before and After are cleared by
	// List.Add, and renderers show "(set)", "(changed)" or "(unchanged)".
	Sensitive bool
}

// Changed reports whether the entry needs a write.
func (e Entry) Changed() bool { return e.Action != None && e.Action != "" }

// List is the ordered change list of one run, with the warnings found
// while computing it.
type List struct {
	Entries  []Entry
	Warnings []string
}

// Add appends entries, clearing the values of sensitive ones so that no
// secret can reach a renderer.
func (l *List) Add(entries ...Entry) {
	for _, e := range entries {
		if e.Sensitive {
			e.Before, e.After = "", ""
		}
		l.Entries = append(l.Entries, e)
	}
}

// Warn appends a warning; duplicates are dropped.
func (l *List) Warn(msg string) {
	for _, w := range l.Warnings {
		if w == msg {
			return
		}
	}
	l.Warnings = append(l.Warnings, msg)
}

// Changed reports whether any entry needs a write.
func (l *List) Changed() bool {
	for _, e := range l.Entries {
		if e.Changed() {
			return true
		}
	}
	return false
}

// Pending returns the entries that need a write.
func (l *List) Pending() []Entry {
	var out []Entry
	for _, e := range l.Entries {
		if e.Changed() {
			out = append(out, e)
		}
	}
	return out
}

// SensitiveLabel returns the text shown in place of a secret value for the
// given side ("before" or "after") of an entry.
func SensitiveLabel(e Entry, side string) string {
	switch {
	case side == "before" && e.Action == Create:
		return "(not set)"
	case side == "before":
		return "(set)"
	case e.Action == Delete:
		return "(deleted)"
	case e.Action == None:
		return "(unchanged)"
	case e.Action == Create:
		return "(set)"
	default:
		return "(changed)"
	}
}

// display returns one side of an entry as it may be shown to users.
func display(e Entry, side string) string {
	if e.Sensitive {
		return SensitiveLabel(e, side)
	}
	v := e.After
	if side == "before" {
		v = e.Before
	}
	if v == "" {
		return "(none)"
	}
	return strings.ReplaceAll(v, "\n", " ")
}
