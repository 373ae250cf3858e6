package meshconfig

import (
	"bytes"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
)

// document is a parsed config.json together with the style new text must
// follow.
type document struct {
	path string
	bom  bool
	text []byte // the file without its BOM
	root *node
	nl   string // "\n" or "\r\n", whichever the file uses more
	unit string // one level of indentation
}

func loadDocument(path string, src []byte) (*document, error) {
	if len(src) > MaxSize {
		return nil, fmt.Errorf("read %q: the file has %d bytes, more than this action's %d-byte limit for config.json; a MeshCentral config is a few kilobytes, so check that config-path names the right file", path, len(src), MaxSize)
	}
	text, hasBOM := stripBOM(src)
	root, err := parse(path, text)
	if err != nil {
		return nil, err
	}
	d := &document{path: path, bom: hasBOM, text: text, root: root, nl: "\n", unit: "  "}
	crlf := bytes.Count(text, []byte("\r\n"))
	if crlf > bytes.Count(text, []byte("\n"))-crlf {
		d.nl = "\r\n"
	}
	if root.kind == kindObject && len(root.members) > 0 {
		if ind, own := d.indentAt(root.members[0].keyStart); own && ind != "" {
			d.unit = ind
		}
	}
	return d, nil
}

// bytes returns the file as it would be written, BOM included.
func (d *document) bytes(text []byte) []byte {
	if !d.bom {
		return text
	}
	return append(append([]byte{}, bom...), text...)
}

// indentAt returns the whitespace that starts the line holding off, and
// whether only whitespace precedes off on that line.
func (d *document) indentAt(off int) (string, bool) {
	lineStart := bytes.LastIndexByte(d.text[:off], '\n') + 1
	end := lineStart
	for end < len(d.text) && (d.text[end] == ' ' || d.text[end] == '\t') {
		end++
	}
	return string(d.text[lineStart:end]), end == off
}

func (d *document) line(off int) int {
	line, _ := position(d.text, off)
	return line
}

// value is JSON text to be written: a scalar already encoded, an array or
// an object with ordered fields.
type value struct {
	kind   kind
	raw    string // encoded scalar
	fields []field
	elems  []value
}

type field struct {
	key string
	val value
}

func stringValue(s string) value { return value{kind: kindString, raw: quote(s)} }

func boolValue(b bool) value {
	if b {
		return value{kind: kindBool, raw: "true"}
	}
	return value{kind: kindBool, raw: "false"}
}

func stringsValue(list []string) value {
	v := value{kind: kindArray}
	for _, s := range list {
		v.elems = append(v.elems, stringValue(s))
	}
	return v
}

func objectValue(fields ...field) value { return value{kind: kindObject, fields: fields} }

// valueOf copies a parsed value so that it can be written elsewhere.
// Scalars keep their exact text, escapes included.
func valueOf(text []byte, n *node) value {
	switch n.kind {
	case kindObject:
		v := value{kind: kindObject}
		for _, m := range n.members {
			v.fields = append(v.fields, field{key: m.key, val: valueOf(text, m.value)})
		}
		return v
	case kindArray:
		v := value{kind: kindArray}
		for _, e := range n.elems {
			v.elems = append(v.elems, valueOf(text, e))
		}
		return v
	default:
		return value{kind: n.kind, raw: string(text[n.start:n.end])}
	}
}

// quote encodes s as a JSON string without HTML escaping.
func quote(s string) string {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(s) // encoding a string cannot fail
	return strings.TrimSuffix(b.String(), "\n")
}

// style is how new text is laid out at one place of the file.
type style struct {
	nl     string
	unit   string
	colon  string // between a key and its value, such as ": "
	comma  string // after a comma on one line, such as " "
	inline bool   // the surrounding object sits on one line
}

// render writes v, where indent is the indentation of the line v starts on.
func (s style) render(v value, indent string) string {
	switch v.kind {
	case kindObject:
		if len(v.fields) == 0 {
			return "{}"
		}
		if s.inline {
			parts := make([]string, len(v.fields))
			for i, f := range v.fields {
				parts[i] = quote(f.key) + s.colon + s.render(f.val, indent)
			}
			return "{" + strings.Join(parts, ","+s.comma) + "}"
		}
		return "{" + s.members(v.fields, indent+s.unit, s.nl) + s.nl + indent + "}"
	case kindArray:
		if len(v.elems) == 0 {
			return "[]"
		}
		parts := make([]string, len(v.elems))
		flat := true
		for i, e := range v.elems {
			flat = flat && e.kind != kindObject && e.kind != kindArray
			parts[i] = s.render(e, indent+s.unit)
		}
		if flat || s.inline {
			return "[" + strings.Join(parts, ","+s.comma) + "]"
		}
		return "[" + s.nl + indent + s.unit + strings.Join(parts, ","+s.nl+indent+s.unit) + s.nl + indent + "]"
	default:
		return v.raw
	}
}

// members writes fields, each preceded by lead (a newline, or a separator
// for one-line objects) and indent, joined by commas.
func (s style) members(fields []field, indent, lead string) string {
	var b strings.Builder
	for i, f := range fields {
		if i > 0 {
			b.WriteString(",")
		}
		b.WriteString(lead)
		b.WriteString(indent)
		b.WriteString(quote(f.key))
		b.WriteString(s.colon)
		b.WriteString(s.render(f.val, indent))
	}
	return b.String()
}

type edit struct {
	start, end int
	text       string
}

// objectPatch collects removals and additions for one object. They become
// edits together because they share commas.
type objectPatch struct {
	obj     *node
	removed map[*member]bool
	added   []field
}

// patcher accumulates edits against one document. Everything outside the
// edited ranges is copied unchanged.
type patcher struct {
	doc     *document
	edits   []edit
	objects []*objectPatch
}

func (p *patcher) object(obj *node) *objectPatch {
	for _, op := range p.objects {
		if op.obj == obj {
			return op
		}
	}
	op := &objectPatch{obj: obj, removed: map[*member]bool{}}
	p.objects = append(p.objects, op)
	return op
}

// colon returns the key-value separator used in obj, or the file's first.
func (p *patcher) colon(obj *node) string {
	for _, o := range []*node{obj, p.doc.root} {
		if o != nil && o.kind == kindObject && len(o.members) > 0 {
			m := o.members[len(o.members)-1]
			if sep := string(p.doc.text[m.keyEnd:m.value.start]); !strings.ContainsAny(sep, "\r\n") {
				return sep
			}
		}
	}
	return ": "
}

// comma returns what follows a comma between members on one line in obj,
// or in the file's first object that has such members.
func (p *patcher) comma(obj *node) string {
	var found string
	ok := false
	var walk func(n *node)
	walk = func(n *node) {
		if ok || n.kind != kindObject {
			return
		}
		for i := 1; i < len(n.members); i++ {
			sep := string(p.doc.text[n.members[i-1].value.end:n.members[i].keyStart])
			if !strings.ContainsAny(sep, "\r\n") {
				found, ok = strings.TrimPrefix(sep, ","), true
				return
			}
		}
		for _, m := range n.members {
			walk(m.value)
		}
	}
	walk(obj)
	walk(p.doc.root)
	if !ok && !strings.Contains(p.colon(obj), " ") {
		return ""
	}
	if !ok {
		return " "
	}
	return found
}

func (p *patcher) style(obj *node, inline bool) style {
	return style{nl: p.doc.nl, unit: p.doc.unit, colon: p.colon(obj), comma: p.comma(obj), inline: inline}
}

// replace swaps the value of m for v.
func (p *patcher) replace(obj *node, m *member, v value) {
	indent, ownLine := p.doc.indentAt(m.keyStart)
	text := p.style(obj, !ownLine).render(v, indent)
	p.edits = append(p.edits, edit{start: m.value.start, end: m.value.end, text: text})
}

func (p *patcher) remove(obj *node, m *member) { p.object(obj).removed[m] = true }

func (p *patcher) add(obj *node, key string, v value) {
	op := p.object(obj)
	op.added = append(op.added, field{key: key, val: v})
}

// objectEdits turns the removals and additions of one object into edits.
// Members before the last kept one are removed up to the next key, so the
// next key takes their place on the line. Members after it are removed
// from the end of the last kept value, which drops their leading commas.
// New members go after the last kept value, indented like it.
func (p *patcher) objectEdits(op *objectPatch) []edit {
	obj, text := op.obj, p.doc.text
	last := -1
	for i, m := range obj.members {
		if !op.removed[m] {
			last = i
		}
	}
	if last < 0 {
		// Empty, or every member removed: rewrite the inside, on one line
		// when the object's key shares its line with other text.
		inside := ""
		indent, ownLine := p.doc.indentAt(obj.owner)
		s := p.style(obj, !ownLine)
		switch {
		case len(op.added) == 0:
		case s.inline:
			inside = strings.TrimPrefix(s.members(op.added, "", s.comma), s.comma)
		default:
			inside = s.members(op.added, indent+s.unit, s.nl) + s.nl + indent
		}
		return []edit{{start: obj.start + 1, end: obj.end - 1, text: inside}}
	}
	var out []edit
	for i, m := range obj.members[:last] {
		if op.removed[m] {
			out = append(out, edit{start: m.keyStart, end: obj.members[i+1].keyStart})
		}
	}
	lastEnd := obj.members[last].value.end
	if len(op.added) > 0 {
		anchor := obj.members[last]
		indent, ownLine := p.doc.indentAt(anchor.keyStart)
		s := p.style(obj, !ownLine)
		lead := s.nl
		if !ownLine {
			indent, lead = "", s.comma
			if last > 0 {
				prev := obj.members[last-1]
				lead = strings.TrimPrefix(string(text[prev.value.end:anchor.keyStart]), ",")
			}
		}
		out = append(out, edit{start: lastEnd, end: lastEnd, text: "," + s.members(op.added, indent, lead)})
	}
	if last < len(obj.members)-1 {
		out = append(out, edit{start: lastEnd, end: obj.members[len(obj.members)-1].value.end})
	}
	return out
}

// apply returns the document's text with every edit made. Edits must not
// overlap, and an insertion sorts before a removal at the same offset.
func (p *patcher) apply() ([]byte, error) {
	edits := append([]edit{}, p.edits...)
	for _, op := range p.objects {
		edits = append(edits, p.objectEdits(op)...)
	}
	sort.SliceStable(edits, func(i, j int) bool {
		if edits[i].start != edits[j].start {
			return edits[i].start < edits[j].start
		}
		return edits[i].end-edits[i].start < edits[j].end-edits[j].start
	})
	var out bytes.Buffer
	pos := 0
	for _, e := range edits {
		if e.start < pos {
			return nil, fmt.Errorf("patch %q: overlapping edits at byte %d", p.doc.path, e.start)
		}
		out.Write(p.doc.text[pos:e.start])
		out.WriteString(e.text)
		pos = e.end
	}
	out.Write(p.doc.text[pos:])
	return out.Bytes(), nil
}
