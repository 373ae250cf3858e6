package meshconfig

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/golden")

const placeholder = "${MESHCENTRAL_OIDC_CLIENT_SECRET}"

// checkGolden compares got with testdata/golden/name byte for byte, or
// rewrites the file with -update.
func checkGolden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", "golden", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read golden file (run go test -update to create it): %v", err)
	}
	if !bytes.Equal(want, got) {
		t.Errorf("%s differs from the golden file (-want +got):\n%s", name, cmp.Diff(string(want), string(got)))
	}
}

// splitLines splits after each "\n", so that every line keeps its ending
// and a missing final newline shows.
func splitLines(b []byte) []string {
	if len(b) == 0 {
		return nil
	}
	return strings.SplitAfter(string(b), "\n")
}

type diffOp struct {
	kind byte // ' ', '-' or '+'
	a, b int  // 0-based line in the input and the output
}

// lineDiff returns a longest-common-subsequence line diff of a and b.
// On ties it removes before it adds, so a line that gains a comma shows as
// removed and added in one hunk.
func lineDiff(a, b []string) []diffOp {
	n, m := len(a), len(b)
	lcs := make([][]int, n+1)
	for i := range lcs {
		lcs[i] = make([]int, m+1)
	}
	for i := n - 1; i >= 0; i-- {
		for j := m - 1; j >= 0; j-- {
			if a[i] == b[j] {
				lcs[i][j] = lcs[i+1][j+1] + 1
			} else {
				lcs[i][j] = max(lcs[i+1][j], lcs[i][j+1])
			}
		}
	}
	var ops []diffOp
	i, j := 0, 0
	for i < n || j < m {
		switch {
		case i < n && j < m && a[i] == b[j]:
			ops = append(ops, diffOp{' ', i, j})
			i, j = i+1, j+1
		case i < n && (j == m || lcs[i+1][j] >= lcs[i][j+1]):
			ops = append(ops, diffOp{'-', i, j})
			i++
		default:
			ops = append(ops, diffOp{'+', i, j})
			j++
		}
	}
	return ops
}

// visible shows a line's ending and tabs so that goldens are plain LF text.
func visible(line string) string {
	s := strings.TrimSuffix(line, "\n")
	s = strings.ReplaceAll(s, "\r", "␍")
	s = strings.ReplaceAll(s, "\t", "␉")
	s = strings.ReplaceAll(s, "\ufeff", "[BOM]")
	if !strings.HasSuffix(line, "\n") {
		s += "[no final newline]"
	}
	return s
}

// formatDiff writes the changed lines with one line of context around each
// hunk, numbered as in the input and the output.
func formatDiff(in, out []byte) string {
	a, b := splitLines(in), splitLines(out)
	ops := lineDiff(a, b)
	show := make([]bool, len(ops))
	for k, op := range ops {
		if op.kind != ' ' {
			for c := max(0, k-1); c <= min(len(ops)-1, k+1); c++ {
				show[c] = true
			}
		}
	}
	var sb strings.Builder
	for k, op := range ops {
		if !show[k] {
			continue
		}
		if k > 0 && !show[k-1] {
			sb.WriteString("...\n")
		}
		switch op.kind {
		case ' ':
			fmt.Fprintf(&sb, "%4d %4d   %s\n", op.a+1, op.b+1, visible(a[op.a]))
		case '-':
			fmt.Fprintf(&sb, "%4d      - %s\n", op.a+1, visible(a[op.a]))
		case '+':
			fmt.Fprintf(&sb, "     %4d + %s\n", op.b+1, visible(b[op.b]))
		}
	}
	if sb.Len() == 0 {
		return "(no change)\n"
	}
	return sb.String()
}

// formatResult renders an Edit outcome for a golden file.
func formatResult(title string, in []byte, res *Result, err error) string {
	var sb strings.Builder
	fmt.Fprintf(&sb, "# %s\n", title)
	if err != nil {
		fmt.Fprintf(&sb, "## error\n%s\n", err)
		return sb.String()
	}
	sb.WriteString("## diff\n")
	sb.WriteString(formatDiff(in, res.Content))
	sb.WriteString("## changes\n")
	for _, e := range res.Changes {
		before, after := e.Before, e.After
		if e.Sensitive {
			before, after = "(sensitive)", "(sensitive)"
		}
		fmt.Fprintf(&sb, "%s %s: %q -> %q\n", e.Action, e.Field, before, after)
	}
	for _, w := range res.Warnings {
		fmt.Fprintf(&sb, "## warning\n%s\n", w)
	}
	for _, n := range res.Notes {
		fmt.Fprintf(&sb, "## note\n%s\n", n)
	}
	return sb.String()
}

// lineRange is a 1-based, inclusive range of lines.
type lineRange struct{ first, last int }

func (r lineRange) has(line int) bool { return line >= r.first && line <= r.last }

func memberLines(doc *document, m *member) lineRange {
	return lineRange{doc.line(m.keyStart), doc.line(m.value.end - 1)}
}

// checkConfined fails unless every line the edit removed or added lies in
// the block it is allowed to touch: the domain's authStrategies member (or
// the domain, or domains, when the edit created them) and any misplaced
// authStrategies under domains. A line whose only change is a comma added
// or dropped at its end is allowed anywhere, since appending or removing a
// member changes the comma of its neighbour.
func checkConfined(t *testing.T, in, out []byte, domain string) {
	t.Helper()
	problems, err := confinementProblems(in, out, domain)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range problems {
		t.Error(p)
	}
}

// confinementProblems lists the lines checkConfined objects to.
func confinementProblems(in, out []byte, domain string) ([]string, error) {
	inDoc, err := loadDocument("in", in)
	if err != nil {
		return nil, err
	}
	outDoc, err := loadDocument("out", out)
	if err != nil {
		return nil, fmt.Errorf("the output does not parse: %w", err)
	}
	inBP, err := locate(inDoc, domain)
	if err != nil {
		return nil, err
	}
	outBP, err := locate(outDoc, domain)
	if err != nil {
		return nil, err
	}
	if outBP.strategies == nil {
		return nil, fmt.Errorf("the output has no %s", outBP.strategiesPath)
	}
	var problems []string
	var outAllowed lineRange
	switch {
	case inBP.domain != nil:
		outAllowed = memberLines(outDoc, outBP.strategies)
	case inBP.domains != nil:
		outAllowed = memberLines(outDoc, outBP.domain)
	default:
		outAllowed = memberLines(outDoc, outBP.domains)
	}
	var inAllowed []lineRange
	if inBP.strategies != nil {
		inAllowed = append(inAllowed, memberLines(inDoc, inBP.strategies))
	}
	if inBP.domainsNode != nil {
		for _, m := range inBP.domainsNode.find("authStrategies") {
			inAllowed = append(inAllowed, memberLines(inDoc, m))
		}
	}

	a, b := splitLines(inDoc.text), splitLines(outDoc.text)
	ops := lineDiff(a, b)
	for start := 0; start < len(ops); {
		if ops[start].kind == ' ' {
			start++
			continue
		}
		end := start
		for end < len(ops) && ops[end].kind != ' ' {
			end++
		}
		hunk := ops[start:end]
		commaOnly := map[int]bool{}
		for i, x := range hunk {
			for j, y := range hunk {
				if x.kind == '-' && y.kind == '+' && differsByComma(a[x.a], b[y.b]) {
					commaOnly[i], commaOnly[j] = true, true
				}
			}
		}
		// Appending after, or removing after, a member that ends with a
		// bracket can align that bracket with another one: "X," is removed
		// or added, and an unchanged "X" follows within the block.
		for i, op := range hunk {
			for k := end; !commaOnly[i] && k < len(ops) && k < end+3 && ops[k].kind == ' '; k++ {
				next := ops[k]
				switch {
				case op.kind == '+' && differsByComma(b[op.b], b[next.b]) && outAllowed.has(next.b+1):
					commaOnly[i] = true
				case op.kind == '-' && differsByComma(a[op.a], a[next.a]) && inAllowedHas(inAllowed, next.a+1):
					commaOnly[i] = true
				}
			}
		}
		for i, op := range hunk {
			if commaOnly[i] {
				continue
			}
			if op.kind == '+' && !outAllowed.has(op.b+1) {
				problems = append(problems, fmt.Sprintf("output line %d changed outside the block (lines %d-%d): %s",
					op.b+1, outAllowed.first, outAllowed.last, visible(b[op.b])))
			}
			if op.kind == '-' && !inAllowedHas(inAllowed, op.a+1) {
				problems = append(problems, fmt.Sprintf("input line %d changed outside the block: %s", op.a+1, visible(a[op.a])))
			}
		}
		start = end
	}
	return problems, nil
}

func inAllowedHas(ranges []lineRange, line int) bool {
	for _, r := range ranges {
		if r.has(line) {
			return true
		}
	}
	return false
}

func differsByComma(x, y string) bool {
	trim := func(s string) string { return strings.TrimRight(s, "\r\n") }
	x, y = trim(x), trim(y)
	return x+"," == y || y+"," == x
}

// meshView decodes a config the way MeshCentral sees it: keys lower-cased,
// a key with upper-case letters overwriting its lower-case twin.
func meshView(t *testing.T, content []byte) map[string]any {
	t.Helper()
	text, _ := stripBOM(content)
	doc, err := parse("view", text)
	if err != nil {
		t.Fatalf("parse the output: %v", err)
	}
	v, _ := lowerValue(text, doc).(map[string]any)
	return v
}

func lowerValue(text []byte, n *node) any {
	switch n.kind {
	case kindObject:
		out := map[string]any{}
		mixed := map[string]bool{}
		for _, m := range n.members {
			k := strings.ToLower(m.key)
			if m.key == k && mixed[k] {
				continue
			}
			mixed[k] = mixed[k] || m.key != k
			out[k] = lowerValue(text, m.value)
		}
		return out
	case kindArray:
		out := []any{}
		for _, e := range n.elems {
			out = append(out, lowerValue(text, e))
		}
		return out
	default:
		var v any
		_ = json.Unmarshal(text[n.start:n.end], &v)
		return v
	}
}

// dig walks keys through nested maps of a meshView.
func dig(v any, keys ...string) any {
	for _, k := range keys {
		m, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		v = m[k]
	}
	return v
}

// effectiveOIDC reads an oidc block as MeshCentral's loader does: nested
// values win, flat ones fill the gaps, a string issuer becomes issuer.issuer.
func effectiveOIDC(oidc any) map[string]any {
	out := map[string]any{
		"issuer":        dig(oidc, "issuer"),
		"client_id":     dig(oidc, "client", "client_id"),
		"client_secret": dig(oidc, "client", "client_secret"),
		"redirect_uri":  dig(oidc, "client", "redirect_uri"),
		"newaccounts":   dig(oidc, "newaccounts"),
	}
	if s, ok := dig(oidc, "issuer", "issuer").(string); ok {
		out["issuer"] = s
	}
	for flat, nested := range map[string]string{"clientid": "client_id", "clientsecret": "client_secret", "callbackurl": "redirect_uri"} {
		if out[nested] == nil {
			out[nested] = dig(oidc, flat)
		}
	}
	return out
}

// caseTwins returns, for every object in the file, keys that differ from a
// sibling only in case.
func caseTwins(t *testing.T, content []byte) []string {
	t.Helper()
	text, _ := stripBOM(content)
	root, err := parse("twins", text)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	var walk func(n *node, path string)
	walk = func(n *node, path string) {
		seen := map[string]string{}
		for _, m := range n.members {
			if prev, ok := seen[strings.ToLower(m.key)]; ok {
				out = append(out, fmt.Sprintf("%s: %q and %q", path, prev, m.key))
			}
			seen[strings.ToLower(m.key)] = m.key
			walk(m.value, join(path, m.key))
		}
		for _, e := range n.elems {
			walk(e, path+"[]")
		}
	}
	walk(root, "")
	return out
}

func desired(domain, issuer, redirect string) Desired {
	return Desired{
		Domain:                 domain,
		Issuer:                 issuer,
		ClientID:               "client-id-from-authentik",
		ClientSecret:           placeholder,
		KnownSecretPlaceholder: placeholder,
		RedirectURI:            redirect,
		NewAccounts:            true,
	}
}

// checkIdempotent edits the output again and expects no change at all.
func checkIdempotent(t *testing.T, path string, res *Result, d Desired) {
	t.Helper()
	again, err := Edit(path, res.Content, d)
	if err != nil {
		t.Fatalf("second edit: %v", err)
	}
	if !bytes.Equal(again.Content, res.Content) {
		t.Errorf("second edit changed bytes:\n%s", formatDiff(res.Content, again.Content))
	}
	for _, e := range again.Changes {
		if e.Action != "none" {
			t.Errorf("second edit wants %s %s", e.Action, e.Field)
		}
	}
}
