package meshconfig

import (
	"errors"
	"fmt"
	"strings"
)

// Render returns src with the placeholder in client secret values
// (client_secret or clientsecret, any case) replaced by secret,
// JSON-escaped, for the deployable config.json of render mode. A
// placeholder anywhere else is an error. It fails when src is not
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
	var stray []string
	var walk func(n *node, key, path string)
	walk = func(n *node, key, path string) {
		switch n.kind {
		case kindObject:
			for _, m := range n.members {
				walk(m.value, m.key, keyPath(path, m.key))
			}
		case kindArray:
			for i, e := range n.elems {
				walk(e, "", fmt.Sprintf("%s[%d]", path, i))
			}
		case kindString:
			inner := string(doc.text[n.start+1 : n.end-1])
			if !strings.Contains(inner, encoded) {
				return
			}
			// Only a client secret receives the secret: a placeholder in a
			// title or message would publish it on MeshCentral's pages.
			if k := strings.ToLower(key); k != "client_secret" && k != "clientsecret" {
				stray = append(stray, strings.TrimPrefix(path, "."))
				return
			}
			p.edits = append(p.edits, edit{start: n.start + 1, end: n.end - 1, text: strings.ReplaceAll(inner, encoded, escaped)})
		}
	}
	walk(doc.root, "", "")
	if len(stray) > 0 {
		return nil, fmt.Errorf("render config.json: the placeholder %q also appears at %s, which is not a client secret; remove it there, because render would write the secret in clear at that place", placeholder, strings.Join(stray, ", "))
	}

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

// keyPath appends key to a JSON path: .key for plain keys, ["key"] for the
// empty key and keys with dots, spaces or brackets.
func keyPath(path, key string) string {
	if key == "" || strings.ContainsAny(key, `.[]" `) {
		return fmt.Sprintf("%s[%q]", path, key)
	}
	return path + "." + key
}
