package lint

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/rhysd/actionlint"
	"go.yaml.in/yaml/v4"

	"github.com/meshauth/meshcentral-authentik-action/internal/testutil"
)

// The rules below follow GitHub's metadata syntax for actions: the keys it
// reads, the branding icons (a subset of Feather) and colors it accepts, and
// what a Docker container action needs. The allowed icons and colors come
// from actionlint, which keeps GitHub's published lists.

// topLevelKeys are the keys GitHub reads from action.yml.
var topLevelKeys = []string{"name", "author", "description", "inputs", "outputs", "runs", "branding"}

// inputKeys are the keys of one input.
var inputKeys = []string{"description", "required", "default", "deprecationMessage"}

// dockerRunsKeys are the keys of runs for a Docker container action.
var dockerRunsKeys = []string{"using", "image", "env", "args", "entrypoint", "pre-entrypoint", "post-entrypoint", "pre-if", "post-if"}

// idPattern is the form of input and output IDs: a letter or underscore,
// then letters, digits, hyphens or underscores.
var idPattern = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_-]*$`)

// dockerImagePattern is a registry image with an explicit tag, such as
// docker://ghcr.io/owner/name:v1.
var dockerImagePattern = regexp.MustCompile(`^docker://[a-z0-9][a-z0-9._/-]*:[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$`)

// checkActionMetadata returns one message for each rule that the action.yml
// in src breaks. An empty result means the file is valid.
func checkActionMetadata(src []byte) []string {
	var doc yaml.Node
	if err := yaml.Unmarshal(src, &doc); err != nil {
		return []string{"parse action.yml: " + err.Error()}
	}
	if doc.Kind != yaml.DocumentNode || len(doc.Content) != 1 || doc.Content[0].Kind != yaml.MappingNode {
		return []string{"the file is not a YAML mapping"}
	}
	c := &checker{}
	root := c.mapping("", doc.Content[0], topLevelKeys)

	for _, key := range []string{"name", "description"} {
		if strings.TrimSpace(scalar(root[key])) == "" {
			c.addf("%s is missing or empty", key)
		}
	}
	c.branding(root["branding"])
	c.inputs(root["inputs"])
	c.outputs(root["outputs"])
	c.runs(root["runs"])
	return c.problems
}

type checker struct {
	problems []string
}

func (c *checker) addf(format string, args ...any) {
	c.problems = append(c.problems, fmt.Sprintf(format, args...))
}

// mapping returns the members of a mapping node by key. It reports keys
// outside allowed (when allowed is not nil) and keys that differ only in
// case, which would collide in the runner's INPUT_<NAME> variables.
func (c *checker) mapping(where string, node *yaml.Node, allowed []string) map[string]*yaml.Node {
	out := map[string]*yaml.Node{}
	if node == nil || node.Kind != yaml.MappingNode {
		return out
	}
	seen := map[string]string{}
	for i := 0; i+1 < len(node.Content); i += 2 {
		key := node.Content[i].Value
		if prev, ok := seen[strings.ToLower(key)]; ok {
			c.addf("%skey %q repeats %q (keys are compared without case)", prefix(where), key, prev)
			continue
		}
		seen[strings.ToLower(key)] = key
		if allowed != nil && !slices.Contains(allowed, key) {
			c.addf("%sunknown key %q", prefix(where), key)
		}
		out[key] = node.Content[i+1]
	}
	return out
}

func prefix(where string) string {
	if where == "" {
		return ""
	}
	return where + ": "
}

// scalar returns the value of a scalar node, or "" for anything else.
func scalar(n *yaml.Node) string {
	if n == nil || n.Kind != yaml.ScalarNode {
		return ""
	}
	return n.Value
}

func (c *checker) branding(node *yaml.Node) {
	if node == nil {
		c.addf("branding is missing: the Marketplace shows an icon and a color")
		return
	}
	brand := c.mapping("branding", node, []string{"icon", "color"})
	icon, color := scalar(brand["icon"]), scalar(brand["color"])
	// This is stricter than actionlint, which lowercases the name first.
	// GitHub lists lowercase names only, so only an exact match is safe.
	if _, ok := actionlint.BrandingIcons[icon]; !ok {
		c.addf("branding.icon %q is not one of the Feather icons GitHub allows", icon)
	}
	if _, ok := actionlint.BrandingColors[color]; !ok {
		c.addf("branding.color %q is not one of the colors GitHub allows", color)
	}
}

func (c *checker) inputs(node *yaml.Node) {
	if node == nil {
		return
	}
	if node.Kind != yaml.MappingNode {
		c.addf("inputs is not a mapping")
		return
	}
	for id, in := range c.mapping("inputs", node, nil) {
		where := "input " + id
		if !idPattern.MatchString(id) {
			c.addf("%s: the ID must start with a letter or _ and hold only letters, digits, - and _", where)
		}
		if in.Kind != yaml.MappingNode {
			c.addf("%s: not a mapping", where)
			continue
		}
		fields := c.mapping(where, in, inputKeys)
		if strings.TrimSpace(scalar(fields["description"])) == "" {
			c.addf("%s: description is missing or empty", where)
		}
		required := false
		if req, ok := fields["required"]; ok {
			if req.Kind != yaml.ScalarNode || req.ShortTag() != "!!bool" {
				c.addf("%s: required must be true or false, not %q", where, req.Value)
			} else {
				required = req.Value == "true"
			}
		}
		if _, hasDefault := fields["default"]; hasDefault && required {
			c.addf("%s: required and also has a default, so it can never be missing; drop one", where)
		}
	}
}

func (c *checker) outputs(node *yaml.Node) {
	if node == nil {
		return
	}
	if node.Kind != yaml.MappingNode {
		c.addf("outputs is not a mapping")
		return
	}
	for id, out := range c.mapping("outputs", node, nil) {
		where := "output " + id
		if !idPattern.MatchString(id) {
			c.addf("%s: the ID must start with a letter or _ and hold only letters, digits, - and _", where)
		}
		// A Docker action sets its outputs itself. The value key is for
		// composite actions only.
		fields := c.mapping(where, out, []string{"description"})
		if strings.TrimSpace(scalar(fields["description"])) == "" {
			c.addf("%s: description is missing or empty", where)
		}
	}
}

func (c *checker) runs(node *yaml.Node) {
	if node == nil {
		c.addf("runs is missing")
		return
	}
	runs := c.mapping("runs", node, dockerRunsKeys)
	if using := scalar(runs["using"]); using != "docker" {
		c.addf("runs.using is %q, want docker (a container action)", using)
	}
	image := scalar(runs["image"])
	switch {
	case image == "":
		c.addf("runs.image is missing: a Docker action needs Dockerfile or a docker:// image")
	case image == "Dockerfile":
	case !dockerImagePattern.MatchString(image):
		c.addf("runs.image %q is neither Dockerfile nor docker://<lowercase image>:<tag>", image)
	}
}

func TestActionMetadata(t *testing.T) {
	root := testutil.ModuleRoot(t)
	src, err := os.ReadFile(filepath.Join(root, "action.yml"))
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range checkActionMetadata(src) {
		t.Errorf("action.yml: %s", p)
	}
}

// validAction is a minimal action.yml that passes every rule. Each case of
// TestActionMetadataRules breaks one rule.
const validAction = `name: Example
description: Does one thing.
branding:
  icon: log-in
  color: orange
inputs:
  token:
    description: A token.
    required: true
  mode:
    description: The mode.
    required: false
    default: apply
outputs:
  changed:
    description: Whether something changed.
runs:
  using: docker
  image: docker://ghcr.io/example/action:v1
`

func TestActionMetadataRules(t *testing.T) {
	if got := checkActionMetadata([]byte(validAction)); len(got) != 0 {
		t.Fatalf("the valid example breaks rules: %q", got)
	}
	tests := []struct {
		name     string
		old, new string
		want     string
	}{
		{"empty name", "name: Example", "name: ''", "name is missing or empty"},
		{"no description", "description: Does one thing.\n", "", "description is missing or empty"},
		{"icon outside the set", "icon: log-in", "icon: rocket", `branding.icon "rocket" is not one of`},
		{"icon in another case", "icon: log-in", "icon: Log-In", `branding.icon "Log-In" is not one of`},
		{"color outside the list", "color: orange", "color: pink", `branding.color "pink" is not one of`},
		{"no branding", "branding:\n  icon: log-in\n  color: orange\n", "", "branding is missing"},
		{"input without description", "    description: A token.\n", "", "input token: description is missing or empty"},
		{"required with a default", "    required: true\n", "    required: true\n    default: x\n", "input token: required and also has a default"},
		{"required as a string", "    required: true\n", "    required: 'yes'\n", `input token: required must be true or false, not "yes"`},
		{"unknown input key", "    default: apply\n", "    default: apply\n    type: string\n", `input mode: unknown key "type"`},
		{"input IDs differing in case", "  mode:\n", "  Token:\n    description: again\n  mode:\n", `key "Token" repeats "token"`},
		{"bad input ID", "  mode:\n", "  1mode:\n", "input 1mode: the ID must start with a letter"},
		{"output without description", "    description: Whether something changed.\n", "    description: ''\n", "output changed: description is missing or empty"},
		{"output with value", "    description: Whether something changed.\n", "    description: Whether something changed.\n    value: x\n", `output changed: unknown key "value"`},
		{"not docker", "using: docker", "using: node20", `runs.using is "node20", want docker`},
		{"no image", "  image: docker://ghcr.io/example/action:v1\n", "", "runs.image is missing"},
		{"image without tag", "docker://ghcr.io/example/action:v1", "docker://ghcr.io/example/action", "is neither Dockerfile nor docker://"},
		{"image in upper case", "docker://ghcr.io/example/action:v1", "docker://ghcr.io/Example/action:v1", "is neither Dockerfile nor docker://"},
		{"javascript key in runs", "  using: docker\n", "  using: docker\n  main: index.js\n", `runs: unknown key "main"`},
		{"unknown top-level key", "name: Example\n", "name: Example\nversion: 1\n", `unknown key "version"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if !strings.Contains(validAction, tt.old) {
				t.Fatalf("the valid example does not contain %q", tt.old)
			}
			src := strings.Replace(validAction, tt.old, tt.new, 1)
			got := checkActionMetadata([]byte(src))
			found := false
			for _, p := range got {
				found = found || strings.Contains(p, tt.want)
			}
			if !found {
				t.Errorf("problems = %q, want one containing %q", got, tt.want)
			}
		})
	}
}

func TestActionMetadataAcceptsDockerfile(t *testing.T) {
	src := strings.Replace(validAction, "docker://ghcr.io/example/action:v1", "Dockerfile", 1)
	if got := checkActionMetadata([]byte(src)); len(got) != 0 {
		t.Errorf("image Dockerfile: problems = %q, want none", got)
	}
}
