package githubfake

import (
	"fmt"
	"strings"
)

// maxDiffCells bounds the LCS table. Larger files diff as replace-all.
const maxDiffCells = 4_000_000

// splitLines cuts text into lines without their newlines.
func splitLines(text string) []string {
	if text == "" {
		return nil
	}
	return strings.Split(strings.TrimSuffix(text, "\n"), "\n")
}

// unifiedDiff returns one hunk covering both texts, in the unified format
// GitHub shows as a file's patch, with the counts of added and removed
// lines.
func unifiedDiff(before, after string) (patch string, additions, deletions int) {
	a, b := splitLines(before), splitLines(after)
	ops := diffLines(a, b)

	var body strings.Builder
	for _, op := range ops {
		body.WriteByte(op.kind)
		body.WriteString(op.line)
		body.WriteByte('\n')
		switch op.kind {
		case '+':
			additions++
		case '-':
			deletions++
		}
	}
	header := fmt.Sprintf("@@ -%s +%s @@\n", hunkRange(len(a)), hunkRange(len(b)))
	return strings.TrimSuffix(header+body.String(), "\n"), additions, deletions
}

func hunkRange(n int) string {
	if n == 0 {
		return "0,0"
	}
	return fmt.Sprintf("1,%d", n)
}

type diffOp struct {
	kind byte // ' ', '-' or '+'
	line string
}

// diffLines aligns a and b on a longest common subsequence of lines.
func diffLines(a, b []string) []diffOp {
	var ops []diffOp
	if len(a)*len(b) > maxDiffCells {
		for _, l := range a {
			ops = append(ops, diffOp{'-', l})
		}
		for _, l := range b {
			ops = append(ops, diffOp{'+', l})
		}
		return ops
	}
	// lcs[i][j] is the LCS length of a[i:] and b[j:].
	lcs := make([][]int, len(a)+1)
	for i := range lcs {
		lcs[i] = make([]int, len(b)+1)
	}
	for i := len(a) - 1; i >= 0; i-- {
		for j := len(b) - 1; j >= 0; j-- {
			if a[i] == b[j] {
				lcs[i][j] = lcs[i+1][j+1] + 1
			} else {
				lcs[i][j] = max(lcs[i+1][j], lcs[i][j+1])
			}
		}
	}
	i, j := 0, 0
	for i < len(a) || j < len(b) {
		switch {
		case i < len(a) && j < len(b) && a[i] == b[j]:
			ops = append(ops, diffOp{' ', a[i]})
			i++
			j++
		case i < len(a) && (j == len(b) || lcs[i+1][j] >= lcs[i][j+1]):
			ops = append(ops, diffOp{'-', a[i]})
			i++
		default:
			ops = append(ops, diffOp{'+', b[j]})
			j++
		}
	}
	return ops
}
