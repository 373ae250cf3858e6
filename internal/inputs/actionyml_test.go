package inputs

import (
	"flag"
	"fmt"
	"os"
	"strings"
	"testing"

	"go.yaml.in/yaml/v4"
)

var update = flag.Bool("update", false, "rewrite the inputs and outputs of action.yml from Specs and Outputs")

// actionFile is the part of action.yml that the tests read.
type actionFile struct {
	Name        string `yaml:"name"`
	Description string `yaml:"description"`
	Author      string `yaml:"author"`
	Branding    struct {
		Icon  string `yaml:"icon"`
		Color string `yaml:"color"`
	} `yaml:"branding"`
	Inputs map[string]struct {
		Description string  `yaml:"description"`
		Required    *bool   `yaml:"required"`
		Default     *string `yaml:"default"`
	} `yaml:"inputs"`
	Outputs map[string]struct {
		Description string `yaml:"description"`
	} `yaml:"outputs"`
	Runs struct {
		Using string `yaml:"using"`
		Image string `yaml:"image"`
	} `yaml:"runs"`
}

const actionPath = "../../action.yml"

func TestActionYAMLMatchesSpecs(t *testing.T) {
	if *update {
		writeActionYAML(t)
	}
	raw, err := os.ReadFile(actionPath)
	if err != nil {
		t.Fatal(err)
	}
	var a actionFile
	if err := yaml.Unmarshal(raw, &a); err != nil {
		t.Fatalf("action.yml: %v", err)
	}
	if a.Runs.Using != "docker" {
		t.Errorf("runs.using = %q, want docker", a.Runs.Using)
	}
	if a.Name == "" || a.Description == "" || a.Branding.Icon == "" || a.Branding.Color == "" {
		t.Errorf("name, description and branding are required for the Marketplace: %+v", a)
	}
	if len(a.Inputs) != len(Specs) {
		t.Errorf("action.yml has %d inputs, Specs has %d", len(a.Inputs), len(Specs))
	}
	for _, s := range Specs {
		got, ok := a.Inputs[s.Name]
		if !ok {
			t.Errorf("input %s missing from action.yml", s.Name)
			continue
		}
		if got.Description != s.Description {
			t.Errorf("input %s: description differs:\n yml:  %q\n spec: %q", s.Name, got.Description, s.Description)
		}
		if got.Required == nil || *got.Required != s.Required {
			t.Errorf("input %s: required = %v, want %v", s.Name, got.Required, s.Required)
		}
		switch {
		case s.Default == "" && got.Default != nil:
			t.Errorf("input %s: default %q in action.yml, none in Specs", s.Name, *got.Default)
		case s.Default != "" && (got.Default == nil || *got.Default != s.Default):
			t.Errorf("input %s: default = %v, want %q", s.Name, got.Default, s.Default)
		}
	}
	if len(a.Outputs) != len(Outputs) {
		t.Errorf("action.yml has %d outputs, Outputs has %d", len(a.Outputs), len(Outputs))
	}
	for _, o := range Outputs {
		if got, ok := a.Outputs[o.Name]; !ok || got.Description != o.Description {
			t.Errorf("output %s: action.yml has %q, want %q", o.Name, got.Description, o.Description)
		}
	}
}

// writeActionYAML rewrites the inputs and outputs sections of action.yml,
// keeping the header and the runs section as they are.
func writeActionYAML(t *testing.T) {
	t.Helper()
	raw, err := os.ReadFile(actionPath)
	if err != nil {
		t.Fatal(err)
	}
	text := string(raw)
	start := strings.Index(text, "\ninputs:\n")
	end := strings.Index(text, "\nruns:\n")
	if start < 0 || end < start {
		t.Fatal("action.yml needs an inputs: section followed by a runs: section")
	}
	var b strings.Builder
	b.WriteString("\ninputs:\n")
	for _, s := range Specs {
		fmt.Fprintf(&b, "  %s:\n    description: %s\n    required: %t\n", s.Name, quoteYAML(s.Description), s.Required)
		if s.Default != "" {
			fmt.Fprintf(&b, "    default: %s\n", quoteYAML(s.Default))
		}
	}
	b.WriteString("\noutputs:\n")
	for _, o := range Outputs {
		fmt.Fprintf(&b, "  %s:\n    description: %s\n", o.Name, quoteYAML(o.Description))
	}
	out := text[:start] + b.String() + text[end:]
	if err := os.WriteFile(actionPath, []byte(out), 0o644); err != nil {
		t.Fatal(err)
	}
}

func quoteYAML(s string) string {
	return "'" + strings.ReplaceAll(s, "'", "''") + "'"
}

const readmePath = "../../README.md"

// readmeTables renders the inputs and outputs tables of the README.
func readmeTables() (inputsTable, outputsTable string) {
	var b strings.Builder
	b.WriteString("| input | default | description |\n| --- | --- | --- |\n")
	for _, s := range Specs {
		def := "`" + s.Default + "`"
		if s.Default == "" {
			def = ""
		}
		if s.Required {
			def = "required"
		}
		fmt.Fprintf(&b, "| `%s` | %s | %s |\n", s.Name, def, strings.ReplaceAll(s.Description, "|", "\\|"))
	}
	inputsTable = b.String()
	b.Reset()
	b.WriteString("| output | description |\n| --- | --- |\n")
	for _, o := range Outputs {
		fmt.Fprintf(&b, "| `%s` | %s |\n", o.Name, o.Description)
	}
	return inputsTable, b.String()
}

// between returns the text between two marker lines.
func between(text, start, end string) (string, int, int, bool) {
	i := strings.Index(text, start+"\n")
	j := strings.Index(text, end)
	if i < 0 || j < i {
		return "", 0, 0, false
	}
	from := i + len(start) + 1
	return text[from:j], from, j, true
}

func TestReadmeTablesMatchSpecs(t *testing.T) {
	raw, err := os.ReadFile(readmePath)
	if err != nil {
		t.Fatal(err)
	}
	text := string(raw)
	inputsTable, outputsTable := readmeTables()
	for _, tbl := range []struct{ start, end, want string }{
		{"<!-- inputs:start -->", "<!-- inputs:end -->", inputsTable},
		{"<!-- outputs:start -->", "<!-- outputs:end -->", outputsTable},
	} {
		got, from, to, ok := between(text, tbl.start, tbl.end)
		if !ok {
			t.Fatalf("README.md lacks the markers %s and %s", tbl.start, tbl.end)
		}
		if *update {
			text = text[:from] + tbl.want + text[to:]
			continue
		}
		if got != tbl.want {
			t.Errorf("README table between %s and %s differs from Specs; run go test ./internal/inputs -update", tbl.start, tbl.end)
		}
	}
	if *update {
		if err := os.WriteFile(readmePath, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}
