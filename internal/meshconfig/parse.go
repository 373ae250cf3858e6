package meshconfig

import (
	"bytes"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf16"
	"unicode/utf8"
)

// MaxSize is the largest config.json, in bytes, that Edit, RedirectURI and
// Render accept. The MeshCentral configs seen so far are under 25 KB, so a
// larger file is most likely the wrong path.
const MaxSize = 1 << 20

// maxDepth bounds nesting so that hostile input cannot exhaust the stack.
// Real configs nest fewer than ten levels.
const maxDepth = 1000

var bom = []byte{0xEF, 0xBB, 0xBF}

// SyntaxError reports input that Node's JSON.parse, and so MeshCentral,
// would refuse: comments, trailing commas, single quotes and the like.
// Line and Column are 1-based. Column counts characters, not bytes, after
// a UTF-8 byte order mark is removed.
type SyntaxError struct {
	Path   string
	Line   int
	Column int
	Msg    string
}

func (e *SyntaxError) Error() string {
	return fmt.Sprintf("parse %q: line %d, column %d: %s", e.Path, e.Line, e.Column, e.Msg)
}

type kind uint8

const (
	kindObject kind = iota + 1
	kindArray
	kindString
	kindNumber
	kindBool
	kindNull
)

func (k kind) String() string {
	switch k {
	case kindObject:
		return "an object"
	case kindArray:
		return "an array"
	case kindString:
		return "a string"
	case kindNumber:
		return "a number"
	case kindBool:
		return "a boolean"
	default:
		return "null"
	}
}

// node is one parsed JSON value and where it sits in the text.
type node struct {
	kind kind
	// start and end delimit the value's bytes: for containers, start is the
	// opening bracket and end-1 the closing one.
	start, end int
	// owner is where the value's line position is judged: the key of the
	// member holding it, or the value itself in an array or at the top.
	owner   int
	str     string // decoded content of a string
	members []*member
	elems   []*node
}

// member is one key of an object with its value.
type member struct {
	key              string // decoded
	keyStart, keyEnd int    // the key token, quotes included
	value            *node
}

// find returns the members whose key equals name once both are
// lower-cased, the way MeshCentral compares keys.
func (n *node) find(name string) []*member {
	if n == nil || n.kind != kindObject {
		return nil
	}
	lower := strings.ToLower(name)
	var out []*member
	for _, m := range n.members {
		if strings.ToLower(m.key) == lower {
			out = append(out, m)
		}
	}
	return out
}

// effective returns the member MeshCentral keeps among case variants of
// name: it lower-cases keys one by one, so a key with upper-case letters
// overwrites its lower-case twin wherever it sits, and among keys with
// upper-case letters the last one wins.
func (n *node) effective(name string) *member {
	var lowerOnly, mixed *member
	for _, m := range n.find(name) {
		if m.key == strings.ToLower(m.key) {
			lowerOnly = m
		} else {
			mixed = m
		}
	}
	if mixed != nil {
		return mixed
	}
	return lowerOnly
}

// stripBOM removes a UTF-8 byte order mark, as MeshCentral does.
func stripBOM(src []byte) ([]byte, bool) {
	if bytes.HasPrefix(src, bom) {
		return src[len(bom):], true
	}
	return src, false
}

// parse reads strict JSON (RFC 8259, as Node's JSON.parse accepts it) and
// records the offsets of every value. The text must not start with a BOM.
func parse(path string, text []byte) (*node, error) {
	p := &parser{path: path, src: text}
	p.skipSpace()
	if p.pos == len(p.src) {
		return nil, p.errAt(p.pos, "the file is empty")
	}
	root, err := p.value()
	if err != nil {
		return nil, err
	}
	root.owner = root.start
	p.skipSpace()
	if p.pos < len(p.src) {
		return nil, p.errAt(p.pos, fmt.Sprintf("unexpected %s after the end of the top-level value", p.describe(p.pos)))
	}
	return root, nil
}

type parser struct {
	path  string
	src   []byte
	pos   int
	depth int
}

// position converts a byte offset into a 1-based line and column.
func position(src []byte, off int) (line, col int) {
	line = 1 + bytes.Count(src[:off], []byte{'\n'})
	lineStart := bytes.LastIndexByte(src[:off], '\n') + 1
	return line, 1 + utf8.RuneCount(src[lineStart:off])
}

func (p *parser) errAt(off int, msg string) *SyntaxError {
	line, col := position(p.src, off)
	return &SyntaxError{Path: p.path, Line: line, Column: col, Msg: msg}
}

// describe names the character at off for an error message.
func (p *parser) describe(off int) string {
	if off >= len(p.src) {
		return "end of file"
	}
	r, _ := utf8.DecodeRune(p.src[off:])
	return strconv.QuoteRune(r)
}

func (p *parser) skipSpace() {
	for p.pos < len(p.src) {
		switch p.src[p.pos] {
		case ' ', '\t', '\n', '\r':
			p.pos++
		default:
			return
		}
	}
}

// unexpected explains a character that cannot start what the grammar
// expects, naming the usual hand-edit mistakes.
func (p *parser) unexpected(want string) *SyntaxError {
	if p.pos < len(p.src) {
		switch p.src[p.pos] {
		case '/':
			return p.errAt(p.pos, "comment (JSON has no comments; MeshCentral refuses the file)")
		case '\'':
			return p.errAt(p.pos, "single-quoted string (JSON strings use double quotes)")
		}
	}
	return p.errAt(p.pos, fmt.Sprintf("unexpected %s, want %s", p.describe(p.pos), want))
}

func (p *parser) value() (*node, error) {
	if p.pos >= len(p.src) {
		return nil, p.unexpected("a value")
	}
	switch c := p.src[p.pos]; {
	case c == '{':
		return p.object()
	case c == '[':
		return p.array()
	case c == '"':
		start := p.pos
		s, err := p.string()
		if err != nil {
			return nil, err
		}
		return &node{kind: kindString, start: start, end: p.pos, str: s}, nil
	case c == '-' || (c >= '0' && c <= '9'):
		return p.number()
	case c == 't':
		return p.literal("true", kindBool)
	case c == 'f':
		return p.literal("false", kindBool)
	case c == 'n':
		return p.literal("null", kindNull)
	default:
		return nil, p.unexpected("a value")
	}
}

func (p *parser) enter() error {
	p.depth++
	if p.depth > maxDepth {
		return p.errAt(p.pos, fmt.Sprintf("nesting deeper than %d levels", maxDepth))
	}
	return nil
}

func (p *parser) object() (*node, error) {
	if err := p.enter(); err != nil {
		return nil, err
	}
	n := &node{kind: kindObject, start: p.pos}
	p.pos++ // {
	p.skipSpace()
	if p.pos < len(p.src) && p.src[p.pos] == '}' {
		p.pos++
		n.end = p.pos
		p.depth--
		return n, nil
	}
	for {
		if p.pos >= len(p.src) || p.src[p.pos] != '"' {
			return nil, p.unexpected("a double-quoted key")
		}
		m := &member{keyStart: p.pos}
		key, err := p.string()
		if err != nil {
			return nil, err
		}
		m.key, m.keyEnd = key, p.pos
		p.skipSpace()
		if p.pos >= len(p.src) || p.src[p.pos] != ':' {
			return nil, p.unexpected(`":" after the key`)
		}
		p.pos++
		p.skipSpace()
		if m.value, err = p.value(); err != nil {
			return nil, err
		}
		m.value.owner = m.keyStart
		n.members = append(n.members, m)
		done, err := p.separator('}')
		if err != nil {
			return nil, err
		}
		if done {
			break
		}
	}
	n.end = p.pos
	p.depth--
	return n, nil
}

func (p *parser) array() (*node, error) {
	if err := p.enter(); err != nil {
		return nil, err
	}
	n := &node{kind: kindArray, start: p.pos}
	p.pos++ // [
	p.skipSpace()
	if p.pos < len(p.src) && p.src[p.pos] == ']' {
		p.pos++
		n.end = p.pos
		p.depth--
		return n, nil
	}
	for {
		v, err := p.value()
		if err != nil {
			return nil, err
		}
		v.owner = v.start
		n.elems = append(n.elems, v)
		done, err := p.separator(']')
		if err != nil {
			return nil, err
		}
		if done {
			break
		}
	}
	n.end = p.pos
	p.depth--
	return n, nil
}

// separator consumes the comma or closing bracket after a member or element
// and reports whether the container ended. A trailing comma is reported at
// the comma, the character to delete.
func (p *parser) separator(closing byte) (bool, error) {
	p.skipSpace()
	if p.pos >= len(p.src) {
		return false, p.unexpected(fmt.Sprintf(`"," or %q`, closing))
	}
	switch p.src[p.pos] {
	case closing:
		p.pos++
		return true, nil
	case ',':
		comma := p.pos
		p.pos++
		p.skipSpace()
		if p.pos < len(p.src) && (p.src[p.pos] == '}' || p.src[p.pos] == ']') {
			return false, p.errAt(comma, fmt.Sprintf("trailing comma before %q (JSON allows none; MeshCentral refuses the file)", p.src[p.pos]))
		}
		return false, nil
	default:
		return false, p.unexpected(fmt.Sprintf(`"," or %q`, closing))
	}
}

func (p *parser) literal(word string, k kind) (*node, error) {
	if !bytes.HasPrefix(p.src[p.pos:], []byte(word)) {
		return nil, p.unexpected("a value")
	}
	n := &node{kind: k, start: p.pos, end: p.pos + len(word)}
	p.pos = n.end
	return n, nil
}

func (p *parser) digits() int {
	start := p.pos
	for p.pos < len(p.src) && p.src[p.pos] >= '0' && p.src[p.pos] <= '9' {
		p.pos++
	}
	return p.pos - start
}

func (p *parser) number() (*node, error) {
	n := &node{kind: kindNumber, start: p.pos}
	if p.src[p.pos] == '-' {
		p.pos++
	}
	switch {
	case p.pos < len(p.src) && p.src[p.pos] == '0':
		p.pos++
	case p.digits() == 0:
		return nil, p.unexpected("a digit")
	}
	if p.pos < len(p.src) && p.src[p.pos] == '.' {
		p.pos++
		if p.digits() == 0 {
			return nil, p.unexpected("a digit after the decimal point")
		}
	}
	if p.pos < len(p.src) && (p.src[p.pos] == 'e' || p.src[p.pos] == 'E') {
		p.pos++
		if p.pos < len(p.src) && (p.src[p.pos] == '+' || p.src[p.pos] == '-') {
			p.pos++
		}
		if p.digits() == 0 {
			return nil, p.unexpected("a digit in the exponent")
		}
	}
	n.end = p.pos
	return n, nil
}

// string consumes a string token and returns its decoded content. Invalid
// UTF-8 is accepted and decoded as U+FFFD, as Node and encoding/json do.
func (p *parser) string() (string, error) {
	p.pos++ // opening quote
	start := p.pos
	var b *strings.Builder
	for {
		if p.pos >= len(p.src) {
			return "", p.errAt(p.pos, "unterminated string")
		}
		c := p.src[p.pos]
		switch {
		case c == '"':
			p.pos++
			s := string(p.src[start : p.pos-1])
			if b != nil {
				s = b.String()
			}
			if !utf8.ValidString(s) {
				s = string([]rune(s)) // each invalid byte becomes U+FFFD
			}
			return s, nil
		case c < 0x20:
			return "", p.errAt(p.pos, "control character in a string (write it as an escape such as \\n)")
		case c == '\\':
			if b == nil {
				b = &strings.Builder{}
				b.Write(p.src[start:p.pos])
			}
			if err := p.escape(b); err != nil {
				return "", err
			}
		default:
			if b != nil {
				b.WriteByte(c)
			}
			p.pos++
		}
	}
}

func (p *parser) escape(b *strings.Builder) error {
	p.pos++ // backslash
	if p.pos >= len(p.src) {
		return p.errAt(p.pos, "unterminated string")
	}
	c := p.src[p.pos]
	p.pos++
	switch c {
	case '"', '\\', '/':
		b.WriteByte(c)
	case 'b':
		b.WriteByte('\b')
	case 'f':
		b.WriteByte('\f')
	case 'n':
		b.WriteByte('\n')
	case 'r':
		b.WriteByte('\r')
	case 't':
		b.WriteByte('\t')
	case 'u':
		r, err := p.hex4()
		if err != nil {
			return err
		}
		if utf16.IsSurrogate(r) && bytes.HasPrefix(p.src[p.pos:], []byte(`\u`)) {
			save := p.pos
			p.pos += 2
			r2, err := p.hex4()
			if err != nil {
				return err
			}
			if d := utf16.DecodeRune(r, r2); d != utf8.RuneError {
				b.WriteRune(d)
				return nil
			}
			p.pos = save
		}
		b.WriteRune(r) // a lone surrogate becomes U+FFFD
	default:
		return p.errAt(p.pos-1, fmt.Sprintf("invalid escape %q in a string", "\\"+string(rune(c))))
	}
	return nil
}

func (p *parser) hex4() (rune, error) {
	if p.pos+4 > len(p.src) {
		return 0, p.errAt(p.pos, "short \\u escape in a string")
	}
	var r rune
	for _, c := range p.src[p.pos : p.pos+4] {
		var d byte
		switch {
		case c >= '0' && c <= '9':
			d = c - '0'
		case c >= 'a' && c <= 'f':
			d = c - 'a' + 10
		case c >= 'A' && c <= 'F':
			d = c - 'A' + 10
		default:
			return 0, p.errAt(p.pos, "invalid \\u escape in a string")
		}
		r = r<<4 | rune(d)
	}
	p.pos += 4
	return r, nil
}
