// Command demo runs the action's main job (apply) against in-process fakes
// of authentik and GitHub, so it can be tried without any account. It
// prints the change list, the pull request's diff and the outputs, then
// runs apply again to show that a second run changes nothing.
package main

import (
	"bytes"
	"context"
	_ "embed"
	"fmt"
	"os"
	"sort"
	"strings"

	"github.com/meshauth/meshcentral-authentik-action/internal/action"
	"github.com/meshauth/meshcentral-authentik-action/internal/fakes/sandbox"
)

//go:embed config.json
var sampleConfig []byte

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "demo:", err)
		os.Exit(1)
	}
}

func run() error {
	sb, err := sandbox.Start(sandbox.Options{Config: sampleConfig})
	if err != nil {
		return err
	}
	defer sb.Close()
	defer os.RemoveAll(sb.Dir)

	fmt.Printf("authentik fake: %s\nGitHub fake:    %s\nrepository:     %s (%s on branch %s)\n\n",
		sb.Authentik.URL, sb.GitHub.URL(), sandbox.Repository, sandbox.ConfigPath, sandbox.Branch)

	inputs := map[string]string{"admin-groups": "admins"}
	for i, title := range []string{"First run: apply", "Second run: apply again"} {
		sb.Authentik.Reset()
		writesBefore := sb.GitHub.WriteCount()
		out, err := apply(sb, inputs)
		fmt.Printf("==== %s ====\n\n%s\n", title, indent(out))
		if err != nil {
			return err
		}
		outputs, err := sb.Outputs()
		if err != nil {
			return err
		}
		if i == 0 {
			if err := printPullRequest(sb, outputs); err != nil {
				return err
			}
		}
		printOutputs(outputs)
		fmt.Printf("Write requests: authentik %d, GitHub %d\n\n",
			sb.Authentik.WriteCount(), sb.GitHub.WriteCount()-writesBefore)
	}
	if v := append(sb.Authentik.Violations(), sb.GitHub.Violations()...); len(v) > 0 {
		return fmt.Errorf("the fakes recorded contract violations:\n%s", strings.Join(v, "\n"))
	}
	return nil
}

func apply(sb *sandbox.Sandbox, inputs map[string]string) (string, error) {
	env, err := sb.Env("push", "", inputs)
	if err != nil {
		return "", err
	}
	var out bytes.Buffer
	err = action.Run(context.Background(), action.Env{
		Getenv:     sandbox.Getenv(env),
		Stdout:     &out,
		Stderr:     &out,
		HTTPClient: sb.HTTPClient(),
		Version:    "demo",
	})
	return readable(out.String()), err
}

// readable turns workflow commands into plain log lines.
func readable(log string) string {
	var b strings.Builder
	for _, line := range strings.Split(strings.TrimRight(log, "\n"), "\n") {
		switch {
		case strings.HasPrefix(line, "::add-mask::"):
			continue
		case strings.HasPrefix(line, "::group::"):
			line = "▸ " + strings.TrimPrefix(line, "::group::")
		case line == "::endgroup::":
			continue
		case strings.HasPrefix(line, "::"):
			if i := strings.Index(line[2:], "::"); i >= 0 {
				kind, _, _ := strings.Cut(line[2:2+i], " ")
				line = kind + ": " + line[4+i:]
			}
		}
		b.WriteString(line + "\n")
	}
	return b.String()
}

func printPullRequest(sb *sandbox.Sandbox, outputs map[string]string) error {
	prs := sb.GitHub.PullRequests(sandbox.Repository)
	if len(prs) != 1 {
		return fmt.Errorf("want one pull request, the fake has %d", len(prs))
	}
	pr := prs[0]
	fmt.Printf("Pull request #%d %q (%s → %s)\n\n", pr.Number, pr.Title, pr.Head, pr.Base)
	fmt.Printf("--- diff of %s ---\n%s\n", sandbox.ConfigPath, sb.GitHub.PullRequestPatch(sandbox.Repository, pr.Number, sandbox.ConfigPath))
	for _, name := range sb.GitHub.SecretNames(sandbox.Repository, "") {
		fmt.Printf("GitHub secret %s: set (sealed with the repository's public key)\n", name)
	}
	fmt.Println()
	return nil
}

func printOutputs(outputs map[string]string) {
	names := make([]string, 0, len(outputs))
	for k := range outputs {
		if k != "summary" {
			names = append(names, k)
		}
	}
	sort.Strings(names)
	fmt.Println("Outputs:")
	for _, k := range names {
		fmt.Printf("  %-24s %s\n", k, outputs[k])
	}
}

func indent(s string) string {
	return "  " + strings.ReplaceAll(strings.TrimRight(s, "\n"), "\n", "\n  ") + "\n"
}
