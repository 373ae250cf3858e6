package meshconfig

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
)

func TestParseSyntaxErrors(t *testing.T) {
	tests := []struct {
		name, in  string
		line, col int
		msg       string
	}{
		{"trailing comma in object", "{\n  \"a\": 1,\n}", 2, 9, "trailing comma"},
		{"trailing comma in array", `{"a": [1, 2, ]}`, 1, 12, "trailing comma"},
		{"line comment", "{\n  // note\n  \"a\": 1\n}", 2, 3, "comment"},
		{"block comment", `{"a": /* x */ 1}`, 1, 7, "comment"},
		{"single quotes", `{'a': 1}`, 1, 2, "single-quoted"},
		{"missing colon", `{"a" 1}`, 1, 6, `":" after the key`},
		{"missing comma", "{\"a\": 1\n \"b\": 2}", 2, 2, `"," or '}'`},
		{"leading zero", `{"a": 01}`, 1, 8, `"," or '}'`},
		{"bare word", `{"a": yes}`, 1, 7, "unexpected 'y'"},
		{"bad escape", `{"a": "\x"}`, 1, 9, "invalid escape"},
		{"control character", "{\"a\": \"x\ty\"}", 1, 9, "control character"},
		{"unterminated string", `{"a": "x`, 1, 9, "unterminated string"},
		{"unicode before the error", "{\"é\": ,}", 1, 7, "unexpected ','"},
		{"two values", `{} {}`, 1, 4, "after the end"},
		{"empty", " \n", 2, 1, "empty"},
		{"short unicode escape", `{"a": "\u12"}`, 1, 10, "escape"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Edit("c.json", []byte(tt.in), desired("", testIssuer, testRedirect))
			var se *SyntaxError
			if !errors.As(err, &se) {
				t.Fatalf("error = %v, want a *SyntaxError", err)
			}
			if se.Line != tt.line || se.Column != tt.col || !strings.Contains(se.Msg, tt.msg) || se.Path != "c.json" {
				t.Errorf("got %s:%d:%d %q, want c.json:%d:%d containing %q", se.Path, se.Line, se.Column, se.Msg, tt.line, tt.col, tt.msg)
			}
		})
	}
}

// TestParseAgreesWithEncodingJSON checks that the parser accepts exactly
// what encoding/json accepts and decodes strings the same way.
func TestParseAgreesWithEncodingJSON(t *testing.T) {
	for _, in := range parseSeeds {
		checkParseAgrees(t, []byte(in))
	}
}

var parseSeeds = []string{
	`{}`, `[]`, `{"a": [1, -2.5e+3, 0, true, false, null]}`, `"\ud83d\ude00 \u00e9 \/ \b\f\n\r\t"`,
	`{"a":1,}`, `[1,]`, `01`, `-`, `1.`, `1e`, `"\ud800"`, `"\ud800\u0041"`, `{"a" : {"b" : []}}`,
	"\ufeff{}", `{"a": "x`, `nul`, ` 1 `, `{"":""}`, `[[[[]]]]`, `"\u00"`, "\"\x80\"",
}

func checkParseAgrees(t *testing.T, in []byte) {
	t.Helper()
	root, err := parse("f", in)
	if err != nil && strings.Contains(err.Error(), "nesting deeper") {
		return
	}
	if (err == nil) != json.Valid(in) {
		t.Fatalf("parse(%q) error = %v, but json.Valid = %v", in, err, json.Valid(in))
	}
	if err != nil {
		return
	}
	var walk func(n *node)
	walk = func(n *node) {
		if n.kind == kindString {
			var want string
			if json.Unmarshal(in[n.start:n.end], &want) != nil || want != n.str {
				t.Errorf("string %s decoded as %q, encoding/json says %q", in[n.start:n.end], n.str, want)
			}
		}
		for _, m := range n.members {
			walk(m.value)
		}
		for _, e := range n.elems {
			walk(e)
		}
	}
	walk(root)
}

func FuzzParse(f *testing.F) {
	for _, s := range parseSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		checkParseAgrees(t, in)
	})
}
