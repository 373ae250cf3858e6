package lint

import (
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"go.yaml.in/yaml/v4"

	"github.com/meshauth/meshcentral-authentik-action/internal/testutil"
)

// workflow is the part of a workflow file that these tests read.
type workflow struct {
	On          map[string]any `yaml:"on"`
	Concurrency struct {
		Group string `yaml:"group"`
	} `yaml:"concurrency"`
	Jobs map[string]struct {
		Permissions map[string]string `yaml:"permissions"`
		Steps       []struct {
			Uses string            `yaml:"uses"`
			With map[string]string `yaml:"with"`
		} `yaml:"steps"`
	} `yaml:"jobs"`
}

func readWorkflow(t *testing.T, path string) workflow {
	t.Helper()
	src, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var w workflow
	if err := yaml.Unmarshal(src, &w); err != nil {
		t.Fatalf("%s: %v", filepath.Base(path), err)
	}
	return w
}

func TestExamplesHaveConcurrencyGroups(t *testing.T) {
	root := testutil.ModuleRoot(t)
	files, err := filepath.Glob(filepath.Join(root, "examples", "*.yml"))
	if err != nil {
		t.Fatal(err)
	}
	if len(files) != 4 {
		t.Fatalf("found %d examples, want apply, plan, check and deploy", len(files))
	}
	readme, err := os.ReadFile(filepath.Join(root, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		name := "examples/" + filepath.Base(f)
		if w := readWorkflow(t, f); strings.TrimSpace(w.Concurrency.Group) == "" {
			t.Errorf("%s has no concurrency group", name)
		}
		if !strings.Contains(string(readme), "]("+name+")") {
			t.Errorf("README.md does not link %s", name)
		}
	}
}

func TestReleaseWorkflowPublishesBothPlatforms(t *testing.T) {
	root := testutil.ModuleRoot(t)
	w := readWorkflow(t, filepath.Join(root, ".github", "workflows", "release.yml"))

	push, _ := w.On["push"].(map[string]any)
	tags, _ := push["tags"].([]any)
	if !slices.Contains(tags, any("v*.*.*")) {
		t.Errorf("release.yml runs on tags %v, want v*.*.*", tags)
	}

	uses := map[string]map[string]string{}
	var packagesWrite, contentsWrite bool
	for _, job := range w.Jobs {
		packagesWrite = packagesWrite || job.Permissions["packages"] == "write"
		contentsWrite = contentsWrite || job.Permissions["contents"] == "write"
		for _, step := range job.Steps {
			action, _, _ := strings.Cut(step.Uses, "@")
			uses[action] = step.With
		}
	}
	for _, action := range []string{"docker/setup-qemu-action", "docker/setup-buildx-action", "docker/login-action", "docker/build-push-action"} {
		if _, ok := uses[action]; !ok {
			t.Errorf("release.yml does not use %s", action)
		}
	}
	if got := uses["docker/login-action"]["registry"]; got != "ghcr.io" {
		t.Errorf("docker/login-action registry = %q, want ghcr.io", got)
	}
	build := uses["docker/build-push-action"]
	for _, platform := range []string{"linux/amd64", "linux/arm64"} {
		if !strings.Contains(build["platforms"], platform) {
			t.Errorf("docker/build-push-action platforms = %q, want %s in it", build["platforms"], platform)
		}
	}
	if build["push"] != "true" {
		t.Errorf("docker/build-push-action push = %q, want true", build["push"])
	}
	if !packagesWrite {
		t.Error("no job of release.yml has packages: write, which pushing to ghcr.io needs")
	}
	if !contentsWrite {
		t.Error("no job of release.yml has contents: write, which moving the tags needs")
	}
}

// TestActionImageLineIsPinnable checks the line that release.yml and
// e2e.yml rewrite with sed: exactly one runs.image line, indented by two
// spaces.
func TestActionImageLineIsPinnable(t *testing.T) {
	root := testutil.ModuleRoot(t)
	src, err := os.ReadFile(filepath.Join(root, "action.yml"))
	if err != nil {
		t.Fatal(err)
	}
	var lines []string
	for _, line := range strings.Split(string(src), "\n") {
		if strings.HasPrefix(line, "  image: ") {
			lines = append(lines, line)
		}
	}
	if len(lines) != 1 {
		t.Fatalf("action.yml has %d lines starting with \"  image: \", want exactly the runs.image line: %q", len(lines), lines)
	}
	for _, wf := range []string{"release.yml", "e2e.yml"} {
		text, err := os.ReadFile(filepath.Join(root, ".github", "workflows", wf))
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(string(text), `s|^  image: .*$|`) {
			t.Errorf("%s no longer rewrites the image line this test guards", wf)
		}
	}
}

func TestChangelogHasUnreleasedSection(t *testing.T) {
	root := testutil.ModuleRoot(t)
	src, err := os.ReadFile(filepath.Join(root, "CHANGELOG.md"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(src), "\n## [Unreleased]\n") {
		t.Error("CHANGELOG.md has no \"## [Unreleased]\" section")
	}
}

// markdownLink matches the target of an inline Markdown link.
var markdownLink = regexp.MustCompile(`\]\(([^)\s]+)\)`)

func TestDocsLinksResolve(t *testing.T) {
	root := testutil.ModuleRoot(t)
	docs, err := filepath.Glob(filepath.Join(root, "docs", "*.md"))
	if err != nil {
		t.Fatal(err)
	}
	files := append([]string{filepath.Join(root, "README.md"), filepath.Join(root, "CHANGELOG.md")}, docs...)
	for _, f := range files {
		src, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range markdownLink.FindAllStringSubmatch(string(src), -1) {
			target, _, _ := strings.Cut(m[1], "#")
			if target == "" || strings.Contains(target, "://") {
				continue
			}
			if _, err := os.Stat(filepath.Join(filepath.Dir(f), filepath.FromSlash(target))); err != nil {
				rel, _ := filepath.Rel(root, f)
				t.Errorf("%s links %s, which does not exist", rel, m[1])
			}
		}
	}
}
