package action

import (
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
)

// localFiles replaces the runner's GITHUB_OUTPUT and GITHUB_STEP_SUMMARY
// files when the binary runs outside Actions, where go-githubactions would
// otherwise fail to write outputs.
type localFiles struct {
	paths map[string]string
}

// newLocalFiles creates temporary files for the file-command variables that
// getenv leaves empty.
func newLocalFiles(getenv func(string) string) (*localFiles, error) {
	l := &localFiles{paths: map[string]string{}}
	for _, name := range []string{"GITHUB_OUTPUT", "GITHUB_STEP_SUMMARY"} {
		if getenv(name) != "" {
			continue
		}
		f, err := os.CreateTemp("", "meshcentral-authentik-"+strings.ToLower(name)+"-*")
		if err != nil {
			l.remove()
			return nil, fmt.Errorf("create a local file for %s: %w", name, err)
		}
		f.Close()
		l.paths[name] = f.Name()
	}
	return l, nil
}

// getenv returns the local file for the variables it replaced.
func (l *localFiles) getenv(next func(string) string) func(string) string {
	return func(name string) string {
		if p, ok := l.paths[name]; ok {
			return p
		}
		return next(name)
	}
}

// printOutputs writes the outputs of a run outside Actions to w, one
// "name: value" line each, sorted by name. The summary output is left out,
// because the log already shows the change list.
func (l *localFiles) printOutputs(w io.Writer) {
	p, ok := l.paths["GITHUB_OUTPUT"]
	if !ok {
		return
	}
	raw, err := os.ReadFile(p)
	if err != nil || len(raw) == 0 {
		return
	}
	outputs, err := ParseOutputFile(string(raw))
	if err != nil {
		fmt.Fprintf(w, "read the outputs: %v\n", err)
		return
	}
	names := make([]string, 0, len(outputs))
	for name := range outputs {
		if name != "summary" {
			names = append(names, name)
		}
	}
	sort.Strings(names)
	fmt.Fprintln(w, "Outputs:")
	for _, name := range names {
		fmt.Fprintf(w, "  %s: %s\n", name, outputs[name])
	}
}

// ParseOutputFile parses the runner's file-command format: "name=value"
// lines and "name<<DELIMITER" heredocs.
func ParseOutputFile(raw string) (map[string]string, error) {
	out := map[string]string{}
	lines := strings.Split(raw, "\n")
	for i := 0; i < len(lines); i++ {
		line := lines[i]
		if line == "" {
			continue
		}
		if name, delim, ok := strings.Cut(line, "<<"); ok && !strings.Contains(name, "=") {
			var value []string
			for i++; i < len(lines) && lines[i] != delim; i++ {
				value = append(value, lines[i])
			}
			if i == len(lines) {
				return nil, fmt.Errorf("output %q: delimiter %q not found", name, delim)
			}
			out[name] = strings.Join(value, "\n")
			continue
		}
		name, value, ok := strings.Cut(line, "=")
		if !ok {
			return nil, fmt.Errorf("output file line %d has neither = nor <<: %q", i+1, line)
		}
		out[name] = value
	}
	return out, nil
}

func (l *localFiles) remove() {
	for _, p := range l.paths {
		os.Remove(p)
	}
}
