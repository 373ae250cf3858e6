package meshconfig

import (
	"errors"
	"fmt"
	"strings"
)

// Render returns src with every occurrence of placeholder inside a JSON
// string value replaced by secret, JSON-escaped, for the deployable
// config.json of render mode. Keys are left alone. It fails when src is not
// strict JSON or no string value contains the placeholder, so a file that
// would deploy without a secret is never written. Errors never contain the
// secret.
func Render(src []byte, placeholder, secret string) ([]byte, error) {
	if placeholder == "" {
		return nil, errors.New("render config.json: the placeholder is empty")
	}
	if secret == "" {
		return nil, errors.New("render config.json: the client secret is empty")
	}
	doc, err := loadDocument("config.json", src)
	if err != nil {
		return nil, err
	}

	// Replace inside string values only, on the encoded text, so that the
	// rest of each string keeps its escapes.
	encoded := strings.Trim(quote(placeholder), `"`)
	escaped := strings.Trim(quote(secret), `"`)
	p := &patcher{doc: doc}
	var walk func(n *node)
	walk = func(n *node) {
		switch n.kind {
		case kindObject:
			for _, m := range n.members {
				walk(m.value)
			}
		case kindArray:
			for _, e := range n.elems {
				walk(e)
			}
		case kindString:
			inner := string(doc.text[n.start+1 : n.end-1])
			if strings.Contains(inner, encoded) {
				p.edits = append(p.edits, edit{start: n.start + 1, end: n.end - 1, text: strings.ReplaceAll(inner, encoded, escaped)})
			}
		}
	}
	walk(doc.root)

	if len(p.edits) == 0 {
		return nil, fmt.Errorf("render config.json: the placeholder %q is in no string value of the file", placeholder)
	}

	text, err := p.apply()
	if err != nil {
		return nil, err
	}
	if _, err := parse("config.json", text); err != nil {
		return nil, errors.New("render config.json: the rendered file is not valid JSON")
	}
	return doc.bytes(text), nil
}
