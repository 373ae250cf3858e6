package change

import (
	"fmt"
	"strings"
	"testing"
)

func sample() *List {
	var l List
	l.Add(
		Entry{Kind: "authentik provider", Name: "Provider for MeshCentral", Field: "redirect_uris", Before: "https://old/cb", After: "https://new/cb", Action: Update},
		Entry{Kind: "authentik provider", Name: "Provider for MeshCentral", Field: "client_secret", Before: "old-secret-value", After: "new-secret-value", Action: Update, Sensitive: true},
		Entry{Kind: "GitHub secret", Name: "MESHCENTRAL_OIDC_CLIENT_ID", Action: Create, Sensitive: true},
		Entry{Kind: "authentik application", Name: "meshcentral", Field: "name", Before: "MeshCentral", After: "MeshCentral", Action: None},
	)
	l.Warn("settings.port is 4430 with no aliasPort")
	l.Warn("settings.port is 4430 with no aliasPort")
	return &l
}

func TestAddClearsSensitiveValues(t *testing.T) {
	l := sample()
	e := l.Entries[1]
	if e.Before != "" || e.After != "" {
		t.Errorf("sensitive entry kept values: %+v", e)
	}
}

func TestRenderingHidesSecrets(t *testing.T) {
	l := sample()
	for name, out := range map[string]string{"text": l.Text(), "markdown": l.Markdown(MarkdownOptions{Title: "Plan"})} {
		if strings.Contains(out, "secret-value") {
			t.Errorf("%s output contains a secret value:\n%s", name, out)
		}
		if !strings.Contains(out, "(changed)") {
			t.Errorf("%s output lacks (changed):\n%s", name, out)
		}
		if !strings.Contains(out, "(set)") {
			t.Errorf("%s output lacks (set) for the new secret:\n%s", name, out)
		}
	}
}

func TestWarnDropsDuplicates(t *testing.T) {
	if got := len(sample().Warnings); got != 1 {
		t.Errorf("len(Warnings) = %d, want 1", got)
	}
}

func TestChangedAndPending(t *testing.T) {
	l := sample()
	if !l.Changed() {
		t.Error("Changed = false, want true")
	}
	if got := len(l.Pending()); got != 3 {
		t.Errorf("len(Pending) = %d, want 3", got)
	}
	var empty List
	empty.Add(Entry{Kind: "k", Action: None})
	if empty.Changed() {
		t.Error("list of unchanged entries reports Changed")
	}
}

func TestMarkdownTable(t *testing.T) {
	out := sample().Markdown(MarkdownOptions{Title: "Plan", Marker: "<!-- m -->\n"})
	if !strings.HasPrefix(out, "<!-- m -->\n### Plan") {
		t.Errorf("marker or title missing:\n%s", out)
	}
	if !strings.Contains(out, "| update | `authentik provider \"Provider for MeshCentral\"` | `redirect_uris` | `https://old/cb` | `https://new/cb` |") {
		t.Errorf("update row missing:\n%s", out)
	}
	if !strings.Contains(out, "<details><summary>1 unchanged</summary>") {
		t.Errorf("unchanged entries not folded:\n%s", out)
	}
	if !strings.Contains(out, "1 to create, 2 to update, 0 to delete, 1 unchanged") {
		t.Errorf("summary line missing:\n%s", out)
	}
}

func TestMarkdownEscapesCells(t *testing.T) {
	var l List
	l.Add(Entry{Kind: "config.json", Name: "c.json", Field: "a|b", After: "x`y", Action: Create})
	out := l.Markdown(MarkdownOptions{})
	if !strings.Contains(out, "`a\\|b`") || !strings.Contains(out, "`x'y`") {
		t.Errorf("cells not escaped:\n%s", out)
	}
}

func TestMarkdownFitsMaxLen(t *testing.T) {
	var l List
	for i := 0; i < 3000; i++ {
		l.Add(Entry{Kind: "config.json", Name: "config.json", Field: strings.Repeat("f", 20), Before: strings.Repeat("b", 30), After: strings.Repeat("a", 30), Action: Update})
	}
	const max = 65536
	full := l.Markdown(MarkdownOptions{})
	if len(full) <= max {
		t.Fatalf("test list too small: %d", len(full))
	}
	out := l.Markdown(MarkdownOptions{MaxLen: max})
	if len(out) > max {
		t.Errorf("len = %d, want at most %d", len(out), max)
	}
	if !strings.Contains(out, "job summary") {
		t.Error("folded output does not point to the job summary")
	}
}

func TestTextGroupsByObject(t *testing.T) {
	out := sample().Text()
	if n := strings.Count(out, `authentik provider "Provider for MeshCentral"`); n != 1 {
		t.Errorf("provider heading appears %d times, want once:\n%s", n, out)
	}
	if !strings.Contains(out, "  update redirect_uris: https://old/cb -> https://new/cb\n") {
		t.Errorf("update line missing:\n%s", out)
	}
	if strings.Contains(out, `authentik application "meshcentral"`) {
		t.Errorf("an object with nothing to change is listed:\n%s", out)
	}
}

func TestTextNoChanges(t *testing.T) {
	var l List
	l.Add(Entry{Kind: "k", Name: "n", Action: None})
	if out := l.Text(); !strings.HasPrefix(out, "No changes") {
		t.Errorf("Text = %q", out)
	}
}

func TestMarkdownCutKeepsCountsAndWarnings(t *testing.T) {
	var l List
	l.Add(Entry{Kind: "config.json", Name: "config.json", Field: "issuer", After: "x", Action: Update})
	for i := 0; i < 5000; i++ {
		l.Add(Entry{Kind: "authentik policy binding", Name: strings.Repeat("g", 30) + fmt.Sprint(i), Field: "application", After: "meshcentral", Action: Create})
	}
	l.Warn("settings.port is 4430 with no aliasPort")
	out := l.Markdown(MarkdownOptions{MaxLen: 65536})
	if len(out) > 65536 {
		t.Fatalf("len = %d", len(out))
	}
	if !strings.Contains(out, "| config.json | 0 | 1 | 0 |") {
		t.Errorf("counts table lacks the config.json row:\n%.600s", out)
	}
	if !strings.Contains(out, "| authentik policy binding | 5000 | 0 | 0 |") {
		t.Errorf("counts table lacks the binding row:\n%.600s", out)
	}
	if !strings.Contains(out, "aliasPort") {
		t.Error("the cut dropped the warnings")
	}
}
