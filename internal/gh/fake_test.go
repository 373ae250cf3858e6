package gh

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"slices"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/meshauth/meshcentral-authentik-action/internal/fakes/githubfake"
)

const (
	fakeRepoName = "octo/deploy"
	configPath   = "meshcentral-data/config.json"
	prBranch     = "meshcentral-authentik/default"
)

var baseConfig = []byte("{\n  \"settings\": { \"cert\": \"mesh.example.test\" }\n}\n")

// newFake starts the GitHub fake with one repository whose main branch holds
// config.json, and a Client using a token with perms.
func newFake(t *testing.T, perms githubfake.Permissions) (*githubfake.Server, *Client) {
	t.Helper()
	srv := githubfake.New(githubfake.Options{})
	t.Cleanup(srv.Close)
	if err := srv.AddRepository("octo", "deploy", "main", map[string][]byte{configPath: baseConfig, "README.md": []byte("# deploy\n")}); err != nil {
		t.Fatal(err)
	}
	if err := srv.AddEnvironment(fakeRepoName, "production"); err != nil {
		t.Fatal(err)
	}
	srv.AddToken("fake-token", perms)
	c, err := New(Config{Token: "fake-token", APIURL: srv.URL(), HTTPClient: srv.HTTPClient()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if v := srv.Violations(); len(v) > 0 {
			t.Errorf("contract violations:\n%s", strings.Join(v, "\n"))
		}
	})
	return srv, c
}

func TestFakeSecretsDecryptToTheValue(t *testing.T) {
	t.Parallel()
	srv, c := newFake(t, githubfake.FullAccess("admin"))
	ctx := context.Background()

	for _, env := range []string{"", "production"} {
		value := "secret for " + env + ` with "quotes" and ü`
		if exists, err := c.SecretExists(ctx, testRepo, env, "MESHCENTRAL_OIDC_CLIENT_SECRET"); err != nil || exists {
			t.Errorf("SecretExists(%q) before = %v, %v; want false", env, exists, err)
		}
		if err := c.PutSecret(ctx, testRepo, env, "MESHCENTRAL_OIDC_CLIENT_SECRET", value); err != nil {
			t.Fatalf("PutSecret(%q): %v", env, err)
		}
		if got, ok := srv.SecretPlaintext(fakeRepoName, env, "MESHCENTRAL_OIDC_CLIENT_SECRET"); !ok || got != value {
			t.Errorf("secret in %q decrypts to %q (%v), want %q", env, got, ok, value)
		}
		if exists, err := c.SecretExists(ctx, testRepo, env, "MESHCENTRAL_OIDC_CLIENT_SECRET"); err != nil || !exists {
			t.Errorf("SecretExists(%q) after = %v, %v; want true", env, exists, err)
		}
	}
}

func TestFakeSecretsGitHubTokenHint(t *testing.T) {
	t.Parallel()
	srv, c := newFake(t, githubfake.GitHubToken())

	err := c.PutSecret(context.Background(), testRepo, "", "MESHCENTRAL_OIDC_CLIENT_ID", "client-id")
	if err == nil {
		t.Fatal("PutSecret with GITHUB_TOKEN succeeded")
	}
	for _, want := range []string{"403", "the default GITHUB_TOKEN cannot write Actions secrets", "GitHub App"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q lacks %q", err, want)
		}
	}
	if _, ok := srv.SecretPlaintext(fakeRepoName, "", "MESHCENTRAL_OIDC_CLIENT_ID"); ok {
		t.Error("the secret was stored anyway")
	}
}

func TestFakeReadFile(t *testing.T) {
	t.Parallel()
	_, c := newFake(t, githubfake.FullAccess("admin"))
	ctx := context.Background()

	got, found, err := c.ReadFile(ctx, testRepo, "", configPath)
	if err != nil || !found || !bytes.Equal(got, baseConfig) {
		t.Errorf("ReadFile(config) = %q, %v, %v; want the seeded content", got, found, err)
	}
	_, found, err = c.ReadFile(ctx, testRepo, "main", "meshcentral-data/missing.json")
	if err != nil || found {
		t.Errorf("ReadFile(missing) found = %v, err = %v; want not found", found, err)
	}
	if _, _, err := c.ReadFile(ctx, testRepo, "main", "meshcentral-data"); err == nil || !strings.Contains(err.Error(), "directory") {
		t.Errorf("ReadFile(directory) err = %v, want a directory error", err)
	}
}

func prSpec(content string) PullRequestSpec {
	return PullRequestSpec{
		Base:          "main",
		Branch:        prBranch,
		Path:          configPath,
		Content:       []byte(content),
		CommitMessage: "Sign in to MeshCentral through authentik",
		Title:         "Sign in to MeshCentral through authentik",
		Body:          "Changes:\n- domains.\"\".authStrategies.oidc",
		Labels:        []string{"meshcentral", "authentik"},
	}
}

// onlyPull returns the repository's one pull request.
func onlyPull(t *testing.T, srv *githubfake.Server) githubfake.PullRequest {
	t.Helper()
	prs := srv.PullRequests(fakeRepoName)
	if len(prs) != 1 {
		t.Fatalf("repository has %d pull requests, want 1: %+v", len(prs), prs)
	}
	return prs[0]
}

func TestFakeEnsurePullRequestLifecycle(t *testing.T) {
	t.Parallel()
	srv, c := newFake(t, githubfake.FullAccess("admin"))
	ctx := context.Background()
	first := "{\n  \"settings\": { \"cert\": \"mesh.example.test\" },\n  \"domains\": {}\n}\n"

	// First run: branch, commit and pull request are created.
	res, err := c.EnsurePullRequest(ctx, testRepo, prSpec(first))
	if err != nil {
		t.Fatalf("first EnsurePullRequest: %v", err)
	}
	pr := onlyPull(t, srv)
	if res.Operation != OperationCreated || res.Number != pr.Number || res.URL == "" {
		t.Errorf("first result = %+v, want created #%d with a URL", res, pr.Number)
	}
	if pr.Head != prBranch || pr.Base != "main" || pr.State != "open" || pr.Title != prSpec("").Title {
		t.Errorf("pull request = %+v", pr)
	}
	if !slices.Equal(pr.ChangedFiles, []string{configPath}) {
		t.Errorf("changed files = %q, want only %q", pr.ChangedFiles, configPath)
	}
	if labels := slices.Sorted(slices.Values(pr.Labels)); !slices.Equal(labels, []string{"authentik", "meshcentral"}) {
		t.Errorf("labels = %q", pr.Labels)
	}
	if got, _ := srv.File(fakeRepoName, prBranch, configPath); string(got) != first {
		t.Errorf("branch file = %q, want %q", got, first)
	}
	if got, _ := srv.File(fakeRepoName, "main", configPath); !bytes.Equal(got, baseConfig) {
		t.Errorf("main changed to %q", got)
	}

	// Second run with the same spec: no write request at all.
	writes := srv.WriteCount()
	res, err = c.EnsurePullRequest(ctx, testRepo, prSpec(first))
	if err != nil || res.Operation != OperationNone || res.Number != pr.Number {
		t.Errorf("repeated EnsurePullRequest = %+v, %v; want none on #%d", res, err, pr.Number)
	}
	if n := srv.WriteCount() - writes; n != 0 {
		t.Errorf("repeated EnsurePullRequest sent %d write requests, want 0", n)
	}

	// New content: the same branch and pull request are updated.
	second := strings.Replace(first, "{}", `{ "": {} }`, 1)
	res, err = c.EnsurePullRequest(ctx, testRepo, prSpec(second))
	if err != nil || res.Operation != OperationUpdated || res.Number != pr.Number {
		t.Errorf("EnsurePullRequest(new content) = %+v, %v; want updated #%d", res, err, pr.Number)
	}
	onlyPull(t, srv)
	if got := srv.PullRequestFile(fakeRepoName, pr.Number, configPath); string(got) != second {
		t.Errorf("pull request file = %q, want %q", got, second)
	}

	// The base moves on: the branch is behind, so it is reset onto the new
	// base head with the same content.
	baseHead, err := srv.CommitFile(fakeRepoName, "main", "README.md", []byte("# deploy\nmore\n"), "Edit the readme")
	if err != nil {
		t.Fatal(err)
	}
	res, err = c.EnsurePullRequest(ctx, testRepo, prSpec(second))
	if err != nil || res.Operation != OperationUpdated {
		t.Errorf("EnsurePullRequest(base moved) = %+v, %v; want updated", res, err)
	}
	if got, _ := srv.File(fakeRepoName, prBranch, "README.md"); string(got) != "# deploy\nmore\n" {
		t.Errorf("branch README = %q, want the new base's", got)
	}
	if head, _ := srv.BranchHead(fakeRepoName, prBranch); head == baseHead {
		t.Error("branch points at the base head, want one commit on top")
	}
	if pr := onlyPull(t, srv); !slices.Equal(pr.ChangedFiles, []string{configPath}) {
		t.Errorf("changed files after the reset = %q", pr.ChangedFiles)
	}

	// A new title edits the pull request and nothing else.
	writes = srv.WriteCount()
	spec := prSpec(second)
	spec.Title = "Connect MeshCentral to authentik"
	res, err = c.EnsurePullRequest(ctx, testRepo, spec)
	if err != nil || res.Operation != OperationUpdated {
		t.Errorf("EnsurePullRequest(new title) = %+v, %v; want updated", res, err)
	}
	if n := srv.WriteCount() - writes; n != 1 {
		t.Errorf("title change sent %d writes, want 1", n)
	}
	if pr := onlyPull(t, srv); pr.Title != spec.Title || pr.Body != spec.Body {
		t.Errorf("pull request after the edit = %+v", pr)
	}
}

func TestFakeEnsurePullRequestBaseAlreadyHasContent(t *testing.T) {
	t.Parallel()
	srv, c := newFake(t, githubfake.FullAccess("admin"))

	res, err := c.EnsurePullRequest(context.Background(), testRepo, prSpec(string(baseConfig)))
	if err != nil || res.Operation != OperationNone || res.Number != 0 {
		t.Errorf("EnsurePullRequest(unchanged) = %+v, %v; want none without a number", res, err)
	}
	if n := srv.WriteCount(); n != 0 {
		t.Errorf("sent %d writes, want 0", n)
	}
	if b := srv.Branches(fakeRepoName); !slices.Equal(b, []string{"main"}) {
		t.Errorf("branches = %q, want only main", b)
	}
}

func TestFakeEnsurePullRequestActionsNotPermitted(t *testing.T) {
	t.Parallel()
	srv, c := newFake(t, githubfake.GitHubToken())
	srv.SetActionsCannotCreatePullRequests(true)

	_, err := c.EnsurePullRequest(context.Background(), testRepo, prSpec("{}\n"))
	if err == nil {
		t.Fatal("EnsurePullRequest succeeded although Actions may not create pull requests")
	}
	for _, want := range []string{"403", "Settings → Actions → General → Workflow permissions", "GitHub App"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q lacks %q", err, want)
		}
	}
}

// hideFirstPullList puts a proxy in front of the fake that returns an empty
// page for the first pull request listing, as GitHub can just after another
// run opened the pull request.
func hideFirstPullList(t *testing.T, srv *githubfake.Server) string {
	t.Helper()
	target, err := url.Parse(srv.URL())
	if err != nil {
		t.Fatal(err)
	}
	proxy := httputil.NewSingleHostReverseProxy(target)
	proxy.Transport = srv.HTTPClient().Transport
	var hidden atomic.Bool
	front := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodGet && strings.HasSuffix(r.URL.Path, "/pulls") && hidden.CompareAndSwap(false, true) {
			writeJSONStatus(w, 200, []any{})
			return
		}
		proxy.ServeHTTP(w, r)
	}))
	t.Cleanup(front.Close)
	return front.URL + "/"
}

func TestFakeEnsurePullRequestDuplicate422(t *testing.T) {
	t.Parallel()
	srv, _ := newFake(t, githubfake.FullAccess("admin"))
	if err := srv.CreateBranch(fakeRepoName, prBranch, "main"); err != nil {
		t.Fatal(err)
	}
	if _, err := srv.CommitFile(fakeRepoName, prBranch, configPath, []byte("{\"old\": true}\n"), "Earlier run"); err != nil {
		t.Fatal(err)
	}
	number, err := srv.OpenPullRequest(fakeRepoName, prBranch, "main", "Old title", "old body")
	if err != nil {
		t.Fatal(err)
	}
	c, err := New(Config{Token: "fake-token", APIURL: hideFirstPullList(t, srv)})
	if err != nil {
		t.Fatal(err)
	}

	res, err := c.EnsurePullRequest(context.Background(), testRepo, prSpec("{\"new\": true}\n"))
	if err != nil {
		t.Fatalf("EnsurePullRequest after a 422 duplicate: %v", err)
	}
	if res.Number != number || res.Operation != OperationUpdated {
		t.Errorf("result = %+v, want updated #%d", res, number)
	}
	pr := onlyPull(t, srv)
	if pr.Title != prSpec("").Title || pr.Body != prSpec("").Body {
		t.Errorf("pull request = %+v, want the spec's title and body", pr)
	}
	var sawDuplicate bool
	for _, r := range srv.Requests() {
		if r.Method == http.MethodPost && strings.HasSuffix(r.Path, "/pulls") && r.Status == http.StatusUnprocessableEntity {
			sawDuplicate = true
		}
	}
	if !sawDuplicate {
		t.Error("the create request was not answered 422, so the test did not exercise the duplicate path")
	}
}

func TestFakeClosePullRequest(t *testing.T) {
	t.Parallel()
	srv, c := newFake(t, githubfake.FullAccess("admin"))
	ctx := context.Background()
	res, err := c.EnsurePullRequest(ctx, testRepo, prSpec("{}\n"))
	if err != nil {
		t.Fatal(err)
	}

	if err := c.ClosePullRequest(ctx, testRepo, res.Number, "main", "x"); err == nil {
		t.Error("ClosePullRequest accepted the default branch")
	}
	if err := c.ClosePullRequest(ctx, testRepo, res.Number, "other-branch", "x"); err == nil {
		t.Error("ClosePullRequest accepted a branch that is not the pull request's head")
	}
	if err := c.ClosePullRequest(ctx, testRepo, res.Number, prBranch, "No longer needed."); err != nil {
		t.Fatalf("ClosePullRequest: %v", err)
	}
	if pr := onlyPull(t, srv); pr.State != "closed" {
		t.Errorf("state = %q, want closed", pr.State)
	}
	if b := srv.Branches(fakeRepoName); slices.Contains(b, prBranch) {
		t.Errorf("branches = %q, want %q deleted", b, prBranch)
	}
	comments := srv.Comments(fakeRepoName, res.Number)
	if len(comments) != 1 || comments[0].Body != "No longer needed." {
		t.Errorf("comments = %+v, want the closing comment", comments)
	}
	if _, found, err := c.FindPullRequest(ctx, testRepo, "main", prBranch); err != nil || found {
		t.Errorf("FindPullRequest after closing: found = %v, err = %v", found, err)
	}

	// Closing again is not an error: the pull request is closed and the
	// branch is gone.
	if err := c.ClosePullRequest(ctx, testRepo, res.Number, prBranch, "again"); err != nil {
		t.Errorf("second ClosePullRequest: %v", err)
	}
	if n := len(srv.Comments(fakeRepoName, res.Number)); n != 1 {
		t.Errorf("%d comments after the second close, want 1", n)
	}
}

func TestFakeUpsertCommentAcrossPages(t *testing.T) {
	t.Parallel()
	srv, c := newFake(t, githubfake.FullAccess("github-actions[bot]"))
	ctx := context.Background()
	res, err := c.EnsurePullRequest(ctx, testRepo, prSpec("{}\n"))
	if err != nil {
		t.Fatal(err)
	}

	// 230 comments by another account. The marked one is the 216th, so it
	// is on the third page of 100.
	const total, marked = 230, 215
	var markedID int64
	for i := range total {
		body := "review comment"
		if i == marked {
			body = planMarker + "\nold plan"
		}
		id, err := srv.AddComment(fakeRepoName, res.Number, "someone-else", body)
		if err != nil {
			t.Fatal(err)
		}
		if i == marked {
			markedID = id
		}
	}

	op, err := c.UpsertComment(ctx, testRepo, res.Number, planMarker, planMarker+"\nnew plan")
	if err != nil || op != CommentUpdated {
		t.Fatalf("UpsertComment = %q, %v; want updated", op, err)
	}
	comments := srv.Comments(fakeRepoName, res.Number)
	if len(comments) != total {
		t.Errorf("%d comments, want %d (edited in place)", len(comments), total)
	}
	pages := 0
	for _, r := range srv.Requests() {
		if r.Method == http.MethodGet && strings.HasSuffix(r.Path, "/comments") {
			pages++
		}
	}
	if pages != 3 {
		t.Errorf("read %d pages of comments, want 3", pages)
	}
	for _, cm := range comments {
		if cm.ID == markedID && cm.Body != planMarker+"\nnew plan" {
			t.Errorf("marked comment body = %q", cm.Body)
		}
	}

	writes := srv.WriteCount()
	op, err = c.UpsertComment(ctx, testRepo, res.Number, planMarker, planMarker+"\nnew plan")
	if err != nil || op != CommentNone {
		t.Errorf("unchanged UpsertComment = %q, %v; want none", op, err)
	}
	if n := srv.WriteCount() - writes; n != 0 {
		t.Errorf("unchanged UpsertComment sent %d writes, want 0", n)
	}
}

func TestFakeRetryAfterSecondaryRateLimit(t *testing.T) {
	t.Parallel()
	srv, c := newFake(t, githubfake.FullAccess("admin"))
	srv.RateLimitWrites(1)

	op, err := c.UpsertComment(context.Background(), testRepo, mustOpenPull(t, srv), planMarker, "plan")
	if err != nil || op != CommentCreated {
		t.Fatalf("UpsertComment after a secondary rate limit = %q, %v; want created", op, err)
	}
	var limited, created int
	for _, r := range srv.Requests() {
		if r.Method == http.MethodPost && strings.HasSuffix(r.Path, "/comments") {
			if r.Status == http.StatusForbidden || r.Status == http.StatusTooManyRequests {
				limited++
			} else if r.Status == http.StatusCreated {
				created++
				var body struct{ Body string }
				_ = json.Unmarshal(r.Body, &body)
				if !strings.HasPrefix(body.Body, planMarker) {
					t.Errorf("created body %q lacks the marker", body.Body)
				}
			}
		}
	}
	if limited != 1 || created != 1 {
		t.Errorf("comment POSTs: %d limited, %d created; want 1 and 1", limited, created)
	}
}

func mustOpenPull(t *testing.T, srv *githubfake.Server) int {
	t.Helper()
	if err := srv.CreateBranch(fakeRepoName, "topic", "main"); err != nil {
		t.Fatal(err)
	}
	if _, err := srv.CommitFile(fakeRepoName, "topic", "notes.txt", []byte("x\n"), "Add notes"); err != nil {
		t.Fatal(err)
	}
	n, err := srv.OpenPullRequest(fakeRepoName, "topic", "main", "Topic", "")
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func TestFakePersonalTokenHint(t *testing.T) {
	t.Parallel()
	perms := githubfake.FullAccess("someone")
	perms.Variables = githubfake.Read
	_, c := newFake(t, perms)

	err := c.PutVariable(context.Background(), testRepo, "", "MESHCENTRAL_ISSUER", "https://auth.example.test/")
	if err == nil {
		t.Fatal("PutVariable with read-only variables succeeded")
	}
	if !strings.Contains(err.Error(), `lacks "Variables: read and write"`) {
		t.Errorf("error %q lacks the permission hint", err)
	}
}
