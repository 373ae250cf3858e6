// Package lint checks the workflow files users copy: the repository's own
// workflows and the examples, with actionlint.
package lint

import (
	"io"
	"path/filepath"
	"testing"

	"github.com/rhysd/actionlint"

	"github.com/meshauth/meshcentral-authentik-action/internal/testutil"
)

func TestWorkflowsPassActionlint(t *testing.T) {
	root := testutil.ModuleRoot(t)
	var files []string
	for _, pattern := range []string{".github/workflows/*.yml", "examples/*.yml"} {
		matches, err := filepath.Glob(filepath.Join(root, pattern))
		if err != nil {
			t.Fatal(err)
		}
		files = append(files, matches...)
	}
	if len(files) < 5 {
		t.Fatalf("found %d workflow files, want the CI workflow and the four examples", len(files))
	}
	linter, err := actionlint.NewLinter(io.Discard, &actionlint.LinterOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		errs, err := linter.LintFile(f, nil)
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		for _, e := range errs {
			t.Errorf("%s:%d:%d: %s [%s]", filepath.Base(f), e.Line, e.Column, e.Message, e.Kind)
		}
	}
}
