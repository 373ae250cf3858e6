package action

import (
	"fmt"
	"io"
	"os"
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
// "name: value" line each. The summary output is left out, because the log
// already shows the change list.
func (l *localFiles) printOutputs(w io.Writer) {
	p, ok := l.paths["GITHUB_OUTPUT"]
	if !ok {
		return
	}
	raw, err := os.ReadFile(p)
	if err != nil || len(raw) == 0 {
		return
	}
	fmt.Fprintln(w, "Outputs:")
	lines := strings.Split(string(raw), "\n")
	for i := 0; i < len(lines); i++ {
		name, delim, ok := strings.Cut(lines[i], "<<")
		if !ok {
			continue
		}
		var value []string
		for i++; i < len(lines) && lines[i] != delim; i++ {
			value = append(value, lines[i])
		}
		if name != "summary" {
			fmt.Fprintf(w, "  %s: %s\n", name, strings.Join(value, "\n"))
		}
	}
}

func (l *localFiles) remove() {
	for _, p := range l.paths {
		os.Remove(p)
	}
}
