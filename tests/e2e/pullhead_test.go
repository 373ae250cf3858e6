package e2e

import (
	"fmt"
	"strings"
	"testing"

	"github.com/meshauth/meshcentral-authentik-action/internal/fakes/sandbox"
)

// TestPlanReadsPullRequestHead: a pull request that breaks the oidc block
// (newAccounts as a string, which MeshCentral does not take as true) gets a
// plan that repairs it, because plan reads config.json from the pull
// request's head, not from the base branch.
func TestPlanReadsPullRequestHead(t *testing.T) {
	w := appliedWorld(t)
	gh := w.sb.GitHub
	base := w.baseFile(t)
	broken := strings.Replace(string(base), `"newAccounts": true`, `"newAccounts": "true"`, 1)
	if broken == string(base) {
		t.Fatalf("base config has no newAccounts to break:\n%s", base)
	}
	must(t, gh.CreateBranch(sandbox.Repository, "contributor", sandbox.Branch))
	if _, err := gh.CommitFile(sandbox.Repository, "contributor", sandbox.ConfigPath, []byte(broken), "Break newAccounts"); err != nil {
		t.Fatal(err)
	}
	n, err := gh.OpenPullRequest(sandbox.Repository, "contributor", sandbox.Branch, "Break newAccounts", "")
	if err != nil {
		t.Fatal(err)
	}
	head, ok := gh.BranchHead(sandbox.Repository, "contributor")
	if !ok {
		t.Fatal("no contributor branch")
	}
	event := fmt.Sprintf(`{"number":%d,"pull_request":{"number":%d,"head":{"sha":%q}}}`, n, n, head)

	res := w.runEvent("pull_request", event, map[string]string{"mode": "plan", "allowed-groups": "staff"}).mustSucceed(t)
	wantOutput(t, res, "changed", "true")
	contains(t, "summary", res.summary, "newAccounts")
	comments := w.planComments(n)
	if len(comments) != 1 {
		t.Fatalf("%d plan comments, want 1", len(comments))
	}
	contains(t, "comment", comments[0].Body, "newAccounts")
}

// TestApplyRerunWithOpenPullRequest: while the action's pull request waits
// to be merged, a rerun writes nothing and reports that, instead of listing the
// config.json changes as pending.
func TestApplyRerunWithOpenPullRequest(t *testing.T) {
	w := newWorld(t, []byte(baseConfig))
	w.run(nil).mustSucceed(t)
	res := w.run(nil).mustSucceed(t)
	wantOutput(t, res, "changed", "false")
	contains(t, "summary", res.summary, "0 to create, 0 to update, 0 to delete")
	contains(t, "summary", res.summary, "already carries the config.json change")
	check := w.run(map[string]string{"mode": "check", "fail-on-drift": "false"}).mustSucceed(t)
	wantOutput(t, check, "drift", "true")
}

// TestPlanCommentsOnlyOnItsOwnRepository: a workflow in one repository
// that plans for another deployment repository must not comment on the
// deployment repository's pull request of the same number.
func TestPlanCommentsOnlyOnItsOwnRepository(t *testing.T) {
	w := newWorld(t, []byte(baseConfig))
	gh := w.sb.GitHub
	must(t, gh.AddRepository("acme", "other", "main", map[string][]byte{sandbox.ConfigPath: []byte(baseConfig)}))
	must(t, gh.CreateBranch("acme/other", "topic", "main"))
	if _, err := gh.CommitFile("acme/other", "topic", "README.md", []byte("x\n"), "Add README"); err != nil {
		t.Fatal(err)
	}
	n, err := gh.OpenPullRequest("acme/other", "topic", "main", "Unrelated", "")
	if err != nil {
		t.Fatal(err)
	}
	res := w.runEvent("pull_request", pullRequestEvent(n), map[string]string{"mode": "plan", "deployment-repository": "acme/other"}).mustSucceed(t)
	if c := gh.Comments("acme/other", n); len(c) != 0 {
		t.Errorf("%d comments on acme/other#%d, want none", len(c), n)
	}
	contains(t, "log", res.stdout, "job summary only")
}
