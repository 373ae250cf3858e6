package change

import (
	"fmt"
	"strings"
)

// Summary counts the entries by action.
func (l *List) Summary() string {
	counts := map[Action]int{}
	for _, e := range l.Entries {
		counts[e.Action]++
	}
	return fmt.Sprintf("%d to create, %d to update, %d to delete, %d unchanged",
		counts[Create], counts[Update], counts[Delete], counts[None])
}

// Text renders the list for the log: the entries that need a write,
// grouped by object, one field a line, then the counts.
func (l *List) Text() string {
	var b strings.Builder
	pending := l.Pending()
	if len(pending) == 0 {
		b.WriteString("No changes: everything matches.\n")
	}
	var group string
	for _, e := range pending {
		if g := e.Kind + " " + quote(e.Name); g != group {
			group = g
			fmt.Fprintf(&b, "%s\n", g)
		}
		field := e.Field
		if field == "" {
			field = "(object)"
		}
		switch {
		case e.Action == Update || (e.Sensitive && e.Action != Create):
			fmt.Fprintf(&b, "  %-6s %s: %s -> %s\n", e.Action, field, display(e, "before"), display(e, "after"))
		case e.Action == Delete:
			fmt.Fprintf(&b, "  %-6s %s: %s\n", e.Action, field, display(e, "before"))
		default:
			fmt.Fprintf(&b, "  %-6s %s: %s\n", e.Action, field, display(e, "after"))
		}
	}
	fmt.Fprintf(&b, "%s\n", l.Summary())
	return b.String()
}

func label(e Entry) string {
	s := e.Kind
	if e.Name != "" {
		s += " " + quote(e.Name)
	}
	if e.Field != "" {
		s += " " + e.Field
	}
	return s
}

func quote(s string) string { return `"` + s + `"` }

// MarkdownOptions tunes Markdown.
type MarkdownOptions struct {
	// Title is the heading line, without the leading "### ".
	Title string
	// Intro is a paragraph under the heading.
	Intro string
	// Notes are extra sentences, such as why a block moved.
	Notes []string
	// MaxLen bounds the length of the result; 0 means no bound. When the
	// full list does not fit, unchanged entries are dropped first, then the
	// details of pending entries, and a pointer to the job summary is added.
	MaxLen int
	// Marker is prepended verbatim (a hidden HTML comment for sticky comments).
	Marker string
}

// Markdown renders the list as GitHub-flavoured markdown: a table of the
// entries that need a write, the unchanged entries folded, then warnings.
func (l *List) Markdown(opt MarkdownOptions) string {
	full := l.markdown(opt, true, true)
	if opt.MaxLen <= 0 || len(full) <= opt.MaxLen {
		return full
	}
	noNone := l.markdown(opt, false, true)
	if len(noNone) <= opt.MaxLen {
		return noNone
	}
	short := l.markdown(opt, false, false)
	if len(short) <= opt.MaxLen {
		return short
	}
	// Still too long: cut at a line boundary and add a note about the cut.
	const tail = "\n\n…the list is cut here; the job summary has all of it.\n"
	cut := short[:opt.MaxLen-len(tail)]
	if i := strings.LastIndexByte(cut, '\n'); i > 0 {
		cut = cut[:i]
	}
	return cut + tail
}

func (l *List) markdown(opt MarkdownOptions, withNone, withDetails bool) string {
	var b strings.Builder
	b.WriteString(opt.Marker)
	if opt.Title != "" {
		fmt.Fprintf(&b, "### %s\n\n", opt.Title)
	}
	if opt.Intro != "" {
		fmt.Fprintf(&b, "%s\n\n", opt.Intro)
	}
	pending := l.Pending()
	if len(pending) == 0 {
		b.WriteString("No changes: authentik, the GitHub secrets and config.json match the inputs.\n\n")
	} else if withDetails {
		b.WriteString("| Action | Item | Field | Now | After |\n| --- | --- | --- | --- | --- |\n")
		for _, e := range pending {
			fmt.Fprintf(&b, "| %s | %s | %s | %s | %s |\n", e.Action, cell(e.Kind+" "+quote(e.Name)),
				cell(e.Field), cell(display(e, "before")), cell(display(e, "after")))
		}
		b.WriteString("\n")
	} else {
		// Counts per kind first and the item list last, so that cutting the
		// end to fit the limit loses only rows of the item list.
		b.WriteString("Values are left out to fit GitHub's comment size limit; the job summary has them.\n\n")
		b.WriteString("| Item | Create | Update | Delete |\n| --- | ---: | ---: | ---: |\n")
		for _, k := range kindCounts(pending) {
			fmt.Fprintf(&b, "| %s | %d | %d | %d |\n", k.kind, k.counts[Create], k.counts[Update], k.counts[Delete])
		}
		b.WriteString("\n")
	}
	for _, n := range opt.Notes {
		fmt.Fprintf(&b, "%s\n\n", n)
	}
	if len(l.Warnings) > 0 {
		b.WriteString("**Warnings**\n\n")
		for _, w := range l.Warnings {
			fmt.Fprintf(&b, "- %s\n", w)
		}
		b.WriteString("\n")
	}
	var unchanged []Entry
	for _, e := range l.Entries {
		if !e.Changed() {
			unchanged = append(unchanged, e)
		}
	}
	if len(unchanged) > 0 && withNone {
		fmt.Fprintf(&b, "<details><summary>%d unchanged</summary>\n\n| Item | Field | Value |\n| --- | --- | --- |\n", len(unchanged))
		for _, e := range unchanged {
			fmt.Fprintf(&b, "| %s | %s | %s |\n", cell(e.Kind+" "+quote(e.Name)), cell(e.Field), cell(display(e, "after")))
		}
		b.WriteString("\n</details>\n\n")
	}
	if len(pending) > 0 && !withDetails {
		b.WriteString("| Action | Item | Field |\n| --- | --- | --- |\n")
		for _, e := range pending {
			fmt.Fprintf(&b, "| %s | %s | %s |\n", e.Action, cell(e.Kind+" "+quote(e.Name)), cell(e.Field))
		}
		b.WriteString("\n")
	}
	fmt.Fprintf(&b, "%s\n", l.Summary())
	return b.String()
}

// kindCount is the number of pending entries of one kind, by action.
type kindCount struct {
	kind   string
	counts map[Action]int
}

// kindCounts counts entries per kind, in order of first appearance.
func kindCounts(entries []Entry) []kindCount {
	var out []kindCount
	index := map[string]int{}
	for _, e := range entries {
		i, ok := index[e.Kind]
		if !ok {
			i = len(out)
			index[e.Kind] = i
			out = append(out, kindCount{kind: e.Kind, counts: map[Action]int{}})
		}
		out[i].counts[e.Action]++
	}
	return out
}

// cell escapes a value for a markdown table cell.
func cell(s string) string {
	if s == "" {
		return ""
	}
	s = strings.ReplaceAll(s, "|", "\\|")
	s = strings.ReplaceAll(s, "\n", " ")
	return "`" + strings.ReplaceAll(s, "`", "'") + "`"
}
