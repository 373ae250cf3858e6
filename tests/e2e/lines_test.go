package e2e

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"strings"
)

// span is a range of 1-based lines, inclusive.
type span struct{ first, last int }

func (s span) has(line int) bool { return s.first > 0 && line >= s.first && line <= s.last }

// objectSpans returns the line spans of the values found at paths in a JSON
// document, matching keys case-insensitively as MeshCentral does. A path is
// a list of keys; the span runs from the key's line to the value's last line.
func objectSpans(doc []byte, paths ...[]string) ([]span, error) {
	doc = bytes.TrimPrefix(doc, []byte("\xef\xbb\xbf"))
	lineAt := func(off int64) int { return bytes.Count(doc[:off], []byte("\n")) + 1 }
	// tokenLine returns the line of the first token at or after off: the
	// decoder reports offsets before the separators it has not read yet.
	tokenLine := func(off int64) int {
		for off < int64(len(doc)) && strings.IndexByte(" \t\r\n,:", doc[off]) >= 0 {
			off++
		}
		return lineAt(off)
	}
	dec := json.NewDecoder(bytes.NewReader(doc))
	spans := make([]span, len(paths))

	var walk func(path []string, keyStart int64) error
	walk = func(path []string, keyStart int64) error {
		tok, err := dec.Token()
		if err != nil {
			return err
		}
		delim, isDelim := tok.(json.Delim)
		if !isDelim {
			mark(spans, paths, path, tokenLine(keyStart), lineAt(dec.InputOffset()))
			return nil
		}
		switch delim {
		case '{':
			for dec.More() {
				start := dec.InputOffset()
				k, err := dec.Token()
				if err != nil {
					return err
				}
				if err := walk(append(append([]string(nil), path...), strings.ToLower(k.(string))), start); err != nil {
					return err
				}
			}
		case '[':
			for dec.More() {
				if err := walk(append(append([]string(nil), path...), "[]"), dec.InputOffset()); err != nil {
					return err
				}
			}
		}
		if _, err := dec.Token(); err != nil {
			return err
		}
		mark(spans, paths, path, tokenLine(keyStart), lineAt(dec.InputOffset()))
		return nil
	}
	if err := walk(nil, 0); err != nil && err != io.EOF {
		return nil, err
	}
	return spans, nil
}

func mark(spans []span, paths [][]string, path []string, first, last int) {
	for i, p := range paths {
		if len(p) != len(path) {
			continue
		}
		same := true
		for j := range p {
			if !strings.EqualFold(p[j], path[j]) {
				same = false
			}
		}
		if same {
			spans[i] = span{first, last}
		}
	}
}

// lineDiff returns the lines removed from a and added in b (1-based line
// numbers in their own file), from a longest-common-subsequence diff.
func lineDiff(a, b []string) (removed, added []int) {
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
	i, j := 0, 0
	for i < n || j < m {
		switch {
		case i < n && j < m && a[i] == b[j]:
			i++
			j++
		case j < m && (i == n || lcs[i][j+1] >= lcs[i+1][j]):
			added = append(added, j+1)
			j++
		default:
			removed = append(removed, i+1)
			i++
		}
	}
	return removed, added
}

// splitLines splits on LF, keeping a CR at the end of each line so that a
// change of line endings counts as a change.
func splitLines(b []byte) []string {
	return strings.Split(string(b), "\n")
}

// checkOnlyOIDCLinesChanged returns an error when the edit from before to
// after touched a line outside the domain's authStrategies block (in either
// file), apart from a comma added to or dropped from the line before it and
// the removal of a misplaced domains.authStrategies block.
func checkOnlyOIDCLinesChanged(before, after []byte, domain string) error {
	blockPaths := [][]string{
		{"domains", domain, "authstrategies"},
		{"domains", "authstrategies"},
		{"domains", domain},
		{"domains"},
	}
	spansBefore, err := objectSpans(before, blockPaths...)
	if err != nil {
		return fmt.Errorf("parse the original: %w", err)
	}
	spansAfter, err := objectSpans(after, blockPaths...)
	if err != nil {
		return fmt.Errorf("parse the result: %w", err)
	}
	// The allowed region in the result is the authStrategies block, or the
	// whole domain (or domains) object when the run had to create it.
	allowedAfter := []span{spansAfter[0]}
	if spansBefore[2].first == 0 {
		allowedAfter = append(allowedAfter, spansAfter[2])
	}
	if spansBefore[3].first == 0 {
		allowedAfter = append(allowedAfter, spansAfter[3])
	}
	allowedBefore := []span{spansBefore[0], spansBefore[1]}

	// Diff with trailing commas stripped, so the comma added to the line
	// before an inserted block is not a change; strict JSON parsing of the
	// result already proves the commas are right.
	a, b := splitLines(before), splitLines(after)
	removed, added := lineDiff(stripCommas(a), stripCommas(b))
	for k := len(added) - 1; k >= 0; k-- {
		n := added[k]
		if inAny(allowedAfter, n) {
			continue
		}
		// A line of closing brackets right before the block is the earlier
		// sibling's end, which a diff may align either way.
		if strings.Trim(strings.TrimRight(b[n-1], "\r,"), " \t}]") == "" && k+1 < len(added) && added[k+1] == n+1 && inAny(allowedAfter, n+1) {
			allowedAfter = append(allowedAfter, span{n, n})
			continue
		}
		return fmt.Errorf("line %d of the result changed outside the oidc block: %q", n, b[n-1])
	}
	for k := len(removed) - 1; k >= 0; k-- {
		n := removed[k]
		if inAny(allowedBefore, n) {
			continue
		}
		// As above: a closing-bracket line right before a removed block.
		if strings.Trim(strings.TrimRight(a[n-1], "\r,"), " \t}]") == "" && k+1 < len(removed) && removed[k+1] == n+1 && inAny(allowedBefore, n+1) {
			allowedBefore = append(allowedBefore, span{n, n})
			continue
		}
		return fmt.Errorf("line %d of the original was removed outside the oidc block: %q", n, a[n-1])
	}
	return nil
}

func stripCommas(lines []string) []string {
	out := make([]string, len(lines))
	for i, l := range lines {
		cr := strings.HasSuffix(l, "\r")
		l = strings.TrimSuffix(strings.TrimSuffix(l, "\r"), ",")
		if cr {
			l += "\r"
		}
		out[i] = l
	}
	return out
}

func inAny(spans []span, line int) bool {
	for _, s := range spans {
		if s.has(line) {
			return true
		}
	}
	return false
}
