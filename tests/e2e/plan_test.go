package e2e

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"unicode/utf16"

	"github.com/meshauth/meshcentral-authentik-action/internal/fakes/authentikfake"
	"github.com/meshauth/meshcentral-authentik-action/internal/fakes/githubfake"
	"github.com/meshauth/meshcentral-authentik-action/internal/fakes/sandbox"
	"github.com/meshauth/meshcentral-authentik-action/internal/testutil"
)

// planMarker is the hidden marker of the sticky plan comment.
const planMarker = "<!-- meshcentral-authentik:plan -->"

// requestMark counts the requests each fake has received at one moment, so
// that a test can look at the requests of one run only.
type requestMark struct{ ak, gh int }

// mark returns the request counts of both fakes now.

func (w *world) mark() requestMark {
	return requestMark{len(w.sb.Authentik.Requests()), len(w.sb.GitHub.Requests())}
}

// requestsSince returns the requests both fakes received after m.
func (w *world) requestsSince(m requestMark) ([]authentikfake.Request, []githubfake.Request) {
	return w.sb.Authentik.Requests()[m.ak:], w.sb.GitHub.Requests()[m.gh:]
}

// commentWrite reports whether r creates a comment on pull request number
// or edits a comment.
func commentWrite(r githubfake.Request, number int) bool {
	prefix := "/repos/" + sandbox.Repository + "/issues/"
	switch r.Method {
	case "POST":
		return r.Path == fmt.Sprintf("%s%d/comments", prefix, number)
	case "PATCH":
		return regexp.MustCompile(`^` + regexp.QuoteMeta(prefix) + `comments/\d+$`).MatchString(r.Path)
	}
	return false
}

// onlyReads fails the test for every request after m that is not a GET,
// except comment writes on pull request number (none when number is 0).
// It returns the comment writes.
func (w *world) onlyReads(t *testing.T, m requestMark, number int) []githubfake.Request {
	t.Helper()
	akReqs, ghReqs := w.requestsSince(m)
	for _, r := range akReqs {
		if r.Method != "GET" {
			t.Errorf("authentik received %s %s", r.Method, r.Path)
		}
	}
	var comments []githubfake.Request
	for _, r := range ghReqs {
		switch {
		case number != 0 && commentWrite(r, number):
			comments = append(comments, r)
		case r.Method != "GET":
			t.Errorf("GitHub received %s %s", r.Method, r.Path)
		}
	}
	return comments
}

// openContributorPR opens a pull request from a contributor's branch that
// changes README.md, for plan runs on pull_request events.
func (w *world) openContributorPR(t *testing.T) int {
	t.Helper()
	gh := w.sb.GitHub
	if err := gh.CreateBranch(sandbox.Repository, "contributor", sandbox.Branch); err != nil {
		t.Fatal(err)
	}
	if _, err := gh.CommitFile(sandbox.Repository, "contributor", "README.md", []byte("# MeshCentral deployment\n\nNow with sign-in.\n"), "Describe sign-in"); err != nil {
		t.Fatal(err)
	}
	n, err := gh.OpenPullRequest(sandbox.Repository, "contributor", sandbox.Branch, "Describe sign-in", "")
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// pullRequestEvent is the payload of a pull_request event for number.
func pullRequestEvent(number int) string {
	return fmt.Sprintf(`{"action":"synchronize","number":%d,"pull_request":{"number":%d,"state":"open"}}`, number, number)
}

// planComments returns the comments on pull request number that carry the
// plan marker.
func (w *world) planComments(number int) []githubfake.Comment {
	var out []githubfake.Comment
	for _, c := range w.sb.GitHub.Comments(sandbox.Repository, number) {
		if strings.Contains(c.Body, planMarker) {
			out = append(out, c)
		}
	}
	return out
}

// chatter posts n comments from other accounts on pull request number.
func (w *world) chatter(t *testing.T, number, n int, prefix string) {
	t.Helper()
	for i := range n {
		user := []string{"alice", "bob", "renovate[bot]"}[i%3]
		if _, err := w.sb.GitHub.AddComment(sandbox.Repository, number, user, fmt.Sprintf("%s comment %d", prefix, i)); err != nil {
			t.Fatal(err)
		}
	}
}

// commentPages counts the requests for each page of the comments of pull
// request number.
func commentPages(reqs []githubfake.Request, number int) map[string]int {
	pages := map[string]int{}
	path := fmt.Sprintf("/repos/%s/issues/%d/comments", sandbox.Repository, number)
	page := regexp.MustCompile(`(?:^|&)page=(\d+)`)
	for _, r := range reqs {
		if r.Method != "GET" || r.Path != path {
			continue
		}
		p := "1"
		if m := page.FindStringSubmatch(r.Query); m != nil {
			p = m[1]
		}
		pages[p]++
	}
	return pages
}

func TestPlanPushSendsOnlyReads(t *testing.T) {
	w := newWorld(t, []byte(baseConfig))
	m := w.mark()
	res := w.run(map[string]string{"mode": "plan", "allowed-groups": "staff"}).mustSucceed(t)
	w.onlyReads(t, m, 0)
	if ak, gh := w.writes(); ak != 0 || gh != 0 {
		t.Errorf("write counts: authentik %d, GitHub %d; want none", ak, gh)
	}
	if _, ok := w.sb.Authentik.Provider("Provider for MeshCentral"); ok {
		t.Error("plan created the provider")
	}
	if n := len(w.pulls()); n != 0 {
		t.Errorf("plan opened %d pull requests", n)
	}
	for k, want := range map[string]string{"changed": "true", "drift": "true", "pull-request-operation": "none", "client-id": "", "client-secret-rotated": "false"} {
		wantOutput(t, res, k, want)
	}
	for _, want := range []string{"meshcentral-authentik plan", "authentik provider", "authentik policy binding", "MESHCENTRAL_OIDC_CLIENT_SECRET",
		"https://mesh.example.com/auth-oidc-callback", "(generated by apply)"} {
		contains(t, "job summary", res.summary, want)
	}
	if res.outputs["summary"] == "" || !strings.Contains(res.summary, strings.TrimSpace(res.outputs["summary"])) {
		t.Errorf("summary output is not the job summary:\n%s", res.outputs["summary"])
	}
}

// TestPlanStickyComment runs plan three times on one pull request: the
// first creates the comment, the second with the same state leaves it
// alone, the third after an input change edits the same comment. Other
// accounts' comments fill more than one page before and between the runs,
// so the marker has to be found past the first page.
func TestPlanStickyComment(t *testing.T) {
	w := newWorld(t, []byte(baseConfig))
	number := w.openContributorPR(t)
	// The client lists 100 comments a page, the fake's maximum.
	w.chatter(t, number, 104, "before")
	event := pullRequestEvent(number)
	inputs := map[string]string{"mode": "plan", "admin-groups": "admins"}

	m := w.mark()
	res := w.runEvent("pull_request", event, inputs).mustSucceed(t)
	writes := w.onlyReads(t, m, number)
	if len(writes) != 1 || writes[0].Method != "POST" {
		t.Fatalf("first plan: comment writes %v, want one POST", methods(writes))
	}
	first := w.planComments(number)
	if len(first) != 1 {
		t.Fatalf("first plan: %d plan comments, want 1", len(first))
	}
	c := first[0]
	if !strings.HasPrefix(c.Body, planMarker+"\n") {
		t.Errorf("comment does not start with the marker line:\n%.200s", c.Body)
	}
	contains(t, "comment", c.Body, "meshcentral-authentik plan")
	contains(t, "comment", c.Body, `"admins"`)
	contains(t, "log", res.stdout, "Plan comment on pull request #"+fmt.Sprint(number)+": created")
	wantOutput(t, res, "changed", "true")

	w.chatter(t, number, 7, "between")
	m = w.mark()
	res = w.runEvent("pull_request", event, inputs).mustSucceed(t)
	if writes := w.onlyReads(t, m, number); len(writes) != 0 {
		t.Errorf("second plan with the same state: comment writes %v, want none", methods(writes))
	}
	_, ghReqs := w.requestsSince(m)
	if pages := commentPages(ghReqs, number); pages["2"] == 0 {
		t.Errorf("second plan read comment pages %v; the marker is on page 2", pages)
	}
	second := w.planComments(number)
	if len(second) != 1 || second[0].ID != c.ID || second[0].Body != c.Body {
		t.Errorf("second plan: plan comments %+v, want comment %d unchanged", second, c.ID)
	}
	contains(t, "log", res.stdout, fmt.Sprintf("Plan comment on pull request #%d: none", number))

	inputs["admin-groups"] = "admins, operators"
	m = w.mark()
	w.runEvent("pull_request", event, inputs).mustSucceed(t)
	writes = w.onlyReads(t, m, number)
	want := fmt.Sprintf("/repos/%s/issues/comments/%d", sandbox.Repository, c.ID)
	if len(writes) != 1 || writes[0].Method != "PATCH" || writes[0].Path != want {
		t.Fatalf("third plan: comment writes %v, want PATCH %s", methods(writes), want)
	}
	third := w.planComments(number)
	if len(third) != 1 || third[0].ID != c.ID {
		t.Fatalf("third plan: plan comments %+v, want only comment %d", third, c.ID)
	}
	contains(t, "edited comment", third[0].Body, `"operators"`)
	if n := len(w.sb.GitHub.Comments(sandbox.Repository, number)); n != 104+7+1 {
		t.Errorf("%d comments on the pull request, want the 111 others and the plan", n)
	}
	if ak, _ := w.writes(); ak != 0 {
		t.Errorf("authentik received %d write requests", ak)
	}
}

// wantOutput fails the test when output name is not set to want.
func wantOutput(t *testing.T, res result, name, want string) {
	t.Helper()
	got, ok := res.outputs[name]
	switch {
	case !ok:
		t.Errorf("output %s not set, want %q", name, want)
	case got != want:
		t.Errorf("output %s = %q, want %q", name, got, want)
	}
}

// methods lists the method and path of each request, for messages.
func methods(reqs []githubfake.Request) []string {
	var out []string
	for _, r := range reqs {
		out = append(out, r.Method+" "+r.Path)
	}
	return out
}

// TestPlanOnPushPostsNoComment: only pull_request events get the comment,
// even when the payload carries a pull request number.
func TestPlanOnPushPostsNoComment(t *testing.T) {
	w := newWorld(t, []byte(baseConfig))
	number := w.openContributorPR(t)
	m := w.mark()
	w.runEvent("push", pullRequestEvent(number), map[string]string{"mode": "plan"}).mustSucceed(t)
	w.onlyReads(t, m, 0)
	if c := w.planComments(number); len(c) != 0 {
		t.Errorf("plan on push commented: %+v", c)
	}
}

// TestPlanFoldsLargePlan binds 700 groups with long names, which makes a
// change list far over GitHub's comment limit. The comment must be folded
// under the limit and still posted, and the job summary keeps every entry.
func TestPlanFoldsLargePlan(t *testing.T) {
	w := newWorld(t, []byte(baseConfig))
	var groups []string
	for i := range 700 {
		name := fmt.Sprintf("department-%04d-with-a-rather-long-descriptive-group-name-for-meshcentral", i)
		w.sb.Authentik.AddGroup(name)
		groups = append(groups, name)
	}
	number := w.openContributorPR(t)
	m := w.mark()
	res := w.runEvent("pull_request", pullRequestEvent(number), map[string]string{
		"mode":           "plan",
		"allowed-groups": strings.Join(groups, "\n"),
	}).mustSucceed(t)
	writes := w.onlyReads(t, m, number)
	if len(writes) != 1 || writes[0].Method != "POST" {
		t.Fatalf("comment writes %v, want one POST", methods(writes))
	}
	comments := w.planComments(number)
	if len(comments) != 1 {
		t.Fatalf("%d plan comments, want 1", len(comments))
	}
	body := comments[0].Body
	if n := len(utf16.Encode([]rune(body))); n >= 65536 {
		t.Errorf("comment has %d characters, GitHub's limit is 65,536", n)
	}
	if !strings.HasPrefix(body, planMarker) {
		t.Error("folded comment lost its marker")
	}
	if !strings.Contains(body, "job summary") {
		t.Errorf("folded comment does not point at the job summary:\n%s", body[max(0, len(body)-400):])
	}
	contains(t, "folded comment", body, groups[0])

	// The full list is far over the comment limit, and the summary has it.
	if len(res.summary) <= 65536 {
		t.Errorf("job summary has %d bytes; the plan was meant to exceed the comment limit", len(res.summary))
	}
	for _, g := range []string{groups[0], groups[350], groups[699]} {
		contains(t, "job summary", res.summary, g)
	}
	if strings.Contains(res.summary, "the list is cut here") || strings.Contains(res.summary, "Values are left out") {
		t.Error("the job summary was folded like the comment")
	}
}

// TestPlanCommentNotPermitted: a pull request from a fork gets a token that
// may read pull requests but not comment. The plan is still made, the
// failed comment is reported in the summary and the log, and the run
// succeeds.
func TestPlanCommentNotPermitted(t *testing.T) {
	w := newWorld(t, []byte(baseConfig))
	const token = "ghs_forkReadOnlyToken0123456789abcdefgh"
	w.sb.GitHub.AddToken(token, githubfake.Permissions{
		Contents: githubfake.Read, PullRequests: githubfake.Read,
		Secrets: githubfake.Read, Variables: githubfake.Read,
		Login: "github-actions[bot]", Integration: true,
	})
	number := w.openContributorPR(t)
	m := w.mark()
	res := w.runEvent("pull_request", pullRequestEvent(number), map[string]string{
		"mode": "plan", "github-token": token,
	}).mustSucceed(t)
	w.onlyReads(t, m, number)
	if c := w.planComments(number); len(c) != 0 {
		t.Errorf("a read-only token posted %d plan comments", len(c))
	}
	contains(t, "job summary", res.summary, "meshcentral-authentik plan")
	contains(t, "job summary", res.summary, fmt.Sprintf("could not be posted on pull request #%d", number))
	contains(t, "log", res.stdout, "::warning")
	wantOutput(t, res, "changed", "true")
	wantOutput(t, res, "drift", "true")
}

// TestPlanAfterApplyShowsNoChanges: once apply ran and its pull request is
// merged, the plan comment reports that nothing changes.
func TestPlanAfterApplyShowsNoChanges(t *testing.T) {
	w := newWorld(t, []byte(baseConfig))
	w.run(nil).mustSucceed(t)
	w.mergeActionPR(t)
	// Merging on GitHub closes the pull request. The fake cannot merge, so
	// the apply that the merge commit's push starts closes it instead.
	w.run(nil).mustSucceed(t)
	number := w.openContributorPR(t)
	m := w.mark()
	res := w.runEvent("pull_request", pullRequestEvent(number), map[string]string{"mode": "plan"}).mustSucceed(t)
	w.onlyReads(t, m, number)
	wantOutput(t, res, "changed", "false")
	wantOutput(t, res, "drift", "false")
	c := w.planComments(number)
	if len(c) != 1 {
		t.Fatalf("%d plan comments, want 1", len(c))
	}
	contains(t, "comment", c[0].Body, "No changes")
}

// TestPlanDNSDomainOnlyShowsError runs the shared dns-domain-only case: the
// plan is replaced by the error, in the summary and the comment, and
// nothing but the comment is written.
func TestPlanDNSDomainOnlyShowsError(t *testing.T) {
	dir := filepath.Join(testutil.SharedDir(t), "cases", "dns-domain-only")
	config, err := os.ReadFile(filepath.Join(dir, "config.json"))
	if err != nil {
		t.Fatal(err)
	}
	inputs := readInputsEnv(t, filepath.Join(dir, "inputs.env"))
	// The sandbox points authentik-url at its fake.
	delete(inputs, "authentik-url")
	inputs["mode"] = "plan"

	w := newWorld(t, config)
	number := w.openContributorPR(t)
	m := w.mark()
	res := w.runEvent("pull_request", pullRequestEvent(number), inputs)
	if res.exitCode == 0 {
		t.Fatalf("plan succeeded on a config that crashes MeshCentral:\n%s", res.stdout)
	}
	writes := w.onlyReads(t, m, number)
	if len(writes) != 1 || writes[0].Method != "POST" {
		t.Errorf("comment writes %v, want one POST", methods(writes))
	}
	for where, text := range map[string]string{"job summary": res.summary, "summary output": res.outputs["summary"], "log": res.stdout} {
		for _, want := range []string{`default domain ""`, "crashes at start", `meshcentral-domain ""`} {
			contains(t, where, text, want)
		}
	}
	if strings.Contains(res.summary, "| Action |") {
		t.Errorf("the summary shows a plan table next to the error:\n%s", res.summary)
	}
	c := w.planComments(number)
	if len(c) != 1 {
		t.Fatalf("%d plan comments, want 1", len(c))
	}
	contains(t, "comment", c[0].Body, "crashes at start")
	contains(t, "comment", c[0].Body, "No plan could be made")
	contains(t, "log", res.stdout, "::error")
}

// readInputsEnv reads name=value lines of a case's inputs.env.
func readInputsEnv(t *testing.T, path string) map[string]string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	out := map[string]string{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		k, v, ok := strings.Cut(line, "=")
		if !ok {
			t.Fatalf("%s: line %q is not name=value", path, line)
		}
		out[k] = v
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}
