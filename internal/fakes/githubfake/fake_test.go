package githubfake

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/google/go-github/v60/github"
	"golang.org/x/crypto/nacl/box"
)

const (
	owner      = "acme"
	repoName   = "deploy"
	fullRepo   = owner + "/" + repoName
	configPath = "meshcentral-data/config.json"
	adminToken = "ghp_admin"
	actionsTok = "ghs_actions"
)

var seedConfig = []byte("{\n  \"settings\": {\n    \"cert\": \"mesh.example.com\"\n  }\n}\n")

// newFake starts a fake with one repository, one environment and two
// tokens, and returns a go-github client for the admin token.
func newFake(t *testing.T, opts Options) (*Server, *github.Client) {
	t.Helper()
	s := New(opts)
	t.Cleanup(s.Close)
	if err := s.AddRepository(owner, repoName, "main", map[string][]byte{configPath: seedConfig, "README.md": []byte("hi\n")}); err != nil {
		t.Fatal(err)
	}
	if err := s.AddEnvironment(fullRepo, "production"); err != nil {
		t.Fatal(err)
	}
	s.AddToken(adminToken, FullAccess("admin"))
	s.AddToken(actionsTok, GitHubToken())
	return s, clientFor(t, s, adminToken)
}

func clientFor(t *testing.T, s *Server, token string) *github.Client {
	t.Helper()
	c := github.NewClient(s.HTTPClient()).WithAuthToken(token)
	base, err := url.Parse(s.URL())
	if err != nil {
		t.Fatal(err)
	}
	c.BaseURL = base
	return c
}

func checkNoViolations(t *testing.T, s *Server) {
	t.Helper()
	if v := s.Violations(); len(v) != 0 {
		t.Errorf("violations on the happy path:\n%s", strings.Join(v, "\n"))
	}
}

func statusOf(err error) int {
	var er *github.ErrorResponse
	if errors.As(err, &er) {
		return er.Response.StatusCode
	}
	return 0
}

// commitOnBranch creates branch from main and commits content at path to
// it through the git data API, as the product does.
func commitOnBranch(t *testing.T, ctx context.Context, gh *github.Client, branch, path, content string) string {
	t.Helper()
	mainRef, _, err := gh.Git.GetRef(ctx, owner, repoName, "heads/main")
	if err != nil {
		t.Fatalf("get main: %v", err)
	}

	if _, _, err := gh.Git.CreateRef(ctx, owner, repoName, &github.Reference{
		Ref: github.String("refs/heads/" + branch), Object: &github.GitObject{SHA: mainRef.Object.SHA},
	}); err != nil {
		t.Fatalf("create ref: %v", err)
	}

	parent, _, err := gh.Git.GetCommit(ctx, owner, repoName, mainRef.Object.GetSHA())
	if err != nil {
		t.Fatalf("get commit: %v", err)
	}

	tree, _, err := gh.Git.CreateTree(ctx, owner, repoName, parent.Tree.GetSHA(), []*github.TreeEntry{{
		Path: github.String(path), Mode: github.String("100644"), Type: github.String("blob"), Content: github.String(content),
	}})
	if err != nil {
		t.Fatalf("create tree: %v", err)
	}

	commit, _, err := gh.Git.CreateCommit(ctx, owner, repoName, &github.Commit{
		Message: github.String("Edit " + path), Tree: tree, Parents: []*github.Commit{parent},
	}, nil)
	if err != nil {
		t.Fatalf("create commit: %v", err)
	}

	ref, _, err := gh.Git.UpdateRef(ctx, owner, repoName, &github.Reference{
		Ref: github.String("refs/heads/" + branch), Object: &github.GitObject{SHA: commit.SHA},
	}, false)
	if err != nil {
		t.Fatalf("update ref: %v", err)
	}
	if ref.Object.GetSHA() != commit.GetSHA() {
		t.Fatalf("ref points at %s, want %s", ref.Object.GetSHA(), commit.GetSHA())
	}
	return commit.GetSHA()
}

func TestRepositoryAndContents(t *testing.T) {
	s, gh := newFake(t, Options{})
	ctx := context.Background()

	repo, _, err := gh.Repositories.Get(ctx, owner, repoName)
	if err != nil {
		t.Fatal(err)
	}
	if repo.GetDefaultBranch() != "main" {
		t.Errorf("default branch = %q, want main", repo.GetDefaultBranch())
	}
	if repo.GetFullName() != fullRepo {
		t.Errorf("full name = %q, want %q", repo.GetFullName(), fullRepo)
	}
	if repo.GetID() == 0 {
		t.Error("repository has no ID")
	}
	if !repo.GetPermissions()["push"] {
		t.Errorf("permissions = %v, want push", repo.GetPermissions())
	}

	file, _, _, err := gh.Repositories.GetContents(ctx, owner, repoName, configPath, &github.RepositoryContentGetOptions{Ref: "main"})
	if err != nil {
		t.Fatal(err)
	}
	got, err := file.GetContent()
	if err != nil {
		t.Fatal(err)
	}
	if got != string(seedConfig) {
		t.Errorf("content = %q, want %q", got, seedConfig)
	}
	// git's own object ID for the same bytes.
	if want := hashObject("blob", seedConfig); file.GetSHA() != want {
		t.Errorf("sha = %s, want %s", file.GetSHA(), want)
	}

	_, _, resp, err := gh.Repositories.GetContents(ctx, owner, repoName, "missing.json", nil)
	if resp == nil || resp.StatusCode != http.StatusNotFound || err == nil {
		t.Errorf("missing file: resp %v, err %v; want 404", resp, err)
	}

	_, dir, _, err := gh.Repositories.GetContents(ctx, owner, repoName, "meshcentral-data", nil)
	if err != nil || len(dir) != 1 || dir[0].GetPath() != configPath {
		t.Errorf("directory listing = %v, %v", dir, err)
	}

	branch, _, err := gh.Repositories.GetBranch(ctx, owner, repoName, "main", 0)
	if err != nil {
		t.Fatal(err)
	}
	head, _ := s.BranchHead(fullRepo, "main")
	if branch.GetCommit().GetSHA() != head {
		t.Errorf("branch head = %s, want %s", branch.GetCommit().GetSHA(), head)
	}
	checkNoViolations(t, s)
}

func TestGitHashesMatchGit(t *testing.T) {
	// Object IDs that git hash-object, git write-tree and git commit-tree
	// print for the same content.
	if got := hashObject("blob", []byte("hello\n")); got != "ce013625030ba8dba906f756967f9e9ca394464a" {
		t.Errorf("blob hash = %s", got)
	}
	g := newGitStore()
	if got := g.buildTree(map[string]fileEntry{}); got != "4b825dc642cb6eb9a060e54bf8d69288fbee4904" {
		t.Errorf("empty tree hash = %s", got)
	}
	// A tree with one file "hello" that contains "hello\n".
	oneFile := g.buildTree(map[string]fileEntry{"hello": {mode: "100644", sha: hashObject("blob", []byte("hello\n"))}})
	if oneFile != "b4d01e9b0c4a9356736dfddf8830ba9a54f5271c" {
		t.Errorf("one-file tree hash = %s", oneFile)
	}
	// a.txt sorts before the tree a/, as git orders them.
	nested := g.buildTree(map[string]fileEntry{
		"a.txt":   {mode: "100644", sha: g.putBlob([]byte("x\n"))},
		"a/b.txt": {mode: "100644", sha: g.putBlob([]byte("y\n"))},
	})
	if nested != "6a55a348f7f8240994b8dc26c7b4a4a85838a2a2" {
		t.Errorf("nested tree hash = %s", nested)
	}
	sig := signature{name: "n", email: "e@x", date: time.Unix(1700000000, 0)}
	c := g.putCommit(commitObject{tree: nested, message: "msg\n", author: sig, committer: sig})
	if c.sha != "6ccd25c3d716e6cb229b880b8f4f5f8e5d06e4c8" {
		t.Errorf("commit hash = %s", c.sha)
	}
}

func TestBranchCommitAndPullRequest(t *testing.T) {
	s, gh := newFake(t, Options{})
	ctx := context.Background()
	newConfig := strings.Replace(string(seedConfig), "mesh.example.com", "mesh.example.org", 1)
	sha := commitOnBranch(t, ctx, gh, "meshcentral-oidc", configPath, newConfig)

	if got, ok := s.File(fullRepo, "meshcentral-oidc", configPath); !ok || string(got) != newConfig {
		t.Errorf("file on branch = %q, %v", got, ok)
	}
	if got, _ := s.File(fullRepo, "main", configPath); string(got) != string(seedConfig) {
		t.Errorf("main changed: %q", got)
	}
	if got, _ := s.File(fullRepo, "meshcentral-oidc", "README.md"); string(got) != "hi\n" {
		t.Errorf("base_tree lost README.md: %q", got)
	}

	pr, _, err := gh.PullRequests.Create(ctx, owner, repoName, &github.NewPullRequest{
		Title: github.String("Sign in with authentik"), Head: github.String("meshcentral-oidc"),
		Base: github.String("main"), Body: github.String("changes"),
	})
	if err != nil {
		t.Fatal(err)
	}
	if pr.GetNumber() != 1 {
		t.Errorf("number = %d, want 1", pr.GetNumber())
	}
	if pr.GetHead().GetSHA() != sha {
		t.Errorf("head SHA = %s, want %s", pr.GetHead().GetSHA(), sha)
	}
	if pr.GetState() != "open" {
		t.Errorf("state = %q, want open", pr.GetState())
	}

	_, _, err = gh.PullRequests.Create(ctx, owner, repoName, &github.NewPullRequest{
		Title: github.String("again"), Head: github.String(owner + ":meshcentral-oidc"), Base: github.String("main"),
	})
	var er *github.ErrorResponse
	if !errors.As(err, &er) {
		t.Fatalf("duplicate pull request error = %v, want an ErrorResponse", err)
	}
	if er.Response.StatusCode != http.StatusUnprocessableEntity {
		t.Errorf("duplicate pull request status = %d, want 422", er.Response.StatusCode)
	}
	if len(er.Errors) != 1 || er.Errors[0].Message != "A pull request already exists for acme:meshcentral-oidc." {
		t.Errorf("duplicate pull request errors = %+v", er.Errors)
	}

	if _, _, err := gh.Issues.AddLabelsToIssue(ctx, owner, repoName, 1, []string{"authentik"}); err != nil {
		t.Fatal(err)
	}
	found, _, err := gh.PullRequests.List(ctx, owner, repoName, &github.PullRequestListOptions{Head: owner + ":meshcentral-oidc", Base: "main"})
	if err != nil || len(found) != 1 || found[0].GetNumber() != 1 || len(found[0].Labels) != 1 {
		t.Errorf("list by head = %v, %v", found, err)
	}
	other, _, err := gh.PullRequests.List(ctx, owner, repoName, &github.PullRequestListOptions{Head: owner + ":other"})
	if err != nil || len(other) != 0 {
		t.Errorf("list by other head = %v, %v", other, err)
	}

	files, _, err := gh.PullRequests.ListFiles(ctx, owner, repoName, 1, nil)
	if err != nil || len(files) != 1 {
		t.Fatalf("files = %v, %v; want one file", files, err)
	}
	if files[0].GetFilename() != configPath || files[0].GetStatus() != "modified" {
		t.Errorf("file = %q %q, want %q modified", files[0].GetFilename(), files[0].GetStatus(), configPath)
	}
	if files[0].GetAdditions() != 1 || files[0].GetDeletions() != 1 {
		t.Errorf("changes = +%d -%d, want +1 -1", files[0].GetAdditions(), files[0].GetDeletions())
	}
	if !strings.Contains(files[0].GetPatch(), "-    \"cert\": \"mesh.example.com\"\n+    \"cert\": \"mesh.example.org\"") {
		t.Errorf("patch = %q", files[0].GetPatch())
	}
	if got := s.PullRequestFile(fullRepo, 1, configPath); string(got) != newConfig {
		t.Errorf("PullRequestFile = %q", got)
	}

	closed, _, err := gh.PullRequests.Edit(ctx, owner, repoName, 1, &github.PullRequest{State: github.String("closed")})
	if err != nil || closed.GetState() != "closed" || closed.ClosedAt == nil {
		t.Errorf("close = %v, %v", closed, err)
	}
	prs := s.PullRequests(fullRepo)
	if len(prs) != 1 || prs[0].State != "closed" || prs[0].Labels[0] != "authentik" || prs[0].ChangedFiles[0] != configPath {
		t.Errorf("PullRequests = %+v", prs)
	}
	checkNoViolations(t, s)
}

func TestPullRequestWithoutCommitsRejected(t *testing.T) {
	s, gh := newFake(t, Options{})
	if err := s.CreateBranch(fullRepo, "empty", "main"); err != nil {
		t.Fatal(err)
	}
	_, _, err := gh.PullRequests.Create(context.Background(), owner, repoName, &github.NewPullRequest{
		Title: github.String("t"), Head: github.String("empty"), Base: github.String("main"),
	})
	if statusOf(err) != http.StatusUnprocessableEntity || !strings.Contains(err.Error(), "No commits between main and empty") {
		t.Errorf("err = %v", err)
	}
}

func TestNonFastForwardNeedsForce(t *testing.T) {
	s, gh := newFake(t, Options{})
	ctx := context.Background()
	first := commitOnBranch(t, ctx, gh, "work", "a.txt", "one\n")
	mainHead, _ := s.BranchHead(fullRepo, "main")

	ref := &github.Reference{Ref: github.String("refs/heads/work"), Object: &github.GitObject{SHA: github.String(mainHead)}}
	_, _, err := gh.Git.UpdateRef(ctx, owner, repoName, ref, false)
	if statusOf(err) != http.StatusUnprocessableEntity || !strings.Contains(err.Error(), "Update is not a fast forward") {
		t.Errorf("backwards update without force: %v", err)
	}
	if head, _ := s.BranchHead(fullRepo, "work"); head != first {
		t.Errorf("rejected update moved the branch to %s", head)
	}
	if _, _, err := gh.Git.UpdateRef(ctx, owner, repoName, ref, true); err != nil {
		t.Errorf("forced update: %v", err)
	}
	if _, err := gh.Git.DeleteRef(ctx, owner, repoName, "heads/work"); err != nil {
		t.Errorf("delete ref: %v", err)
	}
	if _, _, err := gh.Git.GetRef(ctx, owner, repoName, "heads/work"); statusOf(err) != http.StatusNotFound {
		t.Errorf("deleted ref still found: %v", err)
	}
	checkNoViolations(t, s)
}

func TestTreeDeletesWithNullSHA(t *testing.T) {
	s, gh := newFake(t, Options{})
	ctx := context.Background()
	head, _ := s.BranchHead(fullRepo, "main")
	parent, _, err := gh.Git.GetCommit(ctx, owner, repoName, head)
	if err != nil {
		t.Fatal(err)
	}
	tree, _, err := gh.Git.CreateTree(ctx, owner, repoName, parent.Tree.GetSHA(), []*github.TreeEntry{{
		Path: github.String("README.md"), Mode: github.String("100644"), Type: github.String("blob"),
	}})
	if err != nil {
		t.Fatal(err)
	}
	got, _, err := gh.Git.GetTree(ctx, owner, repoName, tree.GetSHA(), true)
	if err != nil {
		t.Fatal(err)
	}
	var paths []string
	for _, e := range got.Entries {
		paths = append(paths, e.GetPath())
	}
	if strings.Join(paths, ",") != "meshcentral-data,"+configPath {
		t.Errorf("paths = %v", paths)
	}
	checkNoViolations(t, s)
}

func TestCommentsPaginateAndLimitLength(t *testing.T) {
	s, gh := newFake(t, Options{})
	ctx := context.Background()
	commitOnBranch(t, ctx, gh, "b", "x.txt", "x\n")
	if _, err := s.OpenPullRequest(fullRepo, "b", "main", "t", ""); err != nil {
		t.Fatal(err)
	}
	for i := range 7 {
		if _, _, err := gh.Issues.CreateComment(ctx, owner, repoName, 1, &github.IssueComment{Body: github.String(fmt.Sprintf("comment %d", i))}); err != nil {
			t.Fatal(err)
		}
	}

	var bodies []string
	pages := 0
	opts := &github.IssueListCommentsOptions{}
	for {
		list, resp, err := gh.Issues.ListComments(ctx, owner, repoName, 1, opts)
		if err != nil {
			t.Fatal(err)
		}
		pages++
		for _, c := range list {
			bodies = append(bodies, c.GetBody())
		}
		if resp.NextPage == 0 {
			break
		}
		opts.Page = resp.NextPage
	}
	if pages != 2 {
		t.Errorf("pages = %d, want 2", pages)
	}
	if len(bodies) != 7 || bodies[6] != "comment 6" {
		t.Errorf("bodies = %v, want comment 0 to comment 6", bodies)
	}
	first, _, _ := gh.Issues.ListComments(ctx, owner, repoName, 1, nil)
	if len(first) != 5 {
		t.Errorf("first page holds %d comments, want the default 5", len(first))
	}

	id := s.Comments(fullRepo, 1)[3].ID
	edited, _, err := gh.Issues.EditComment(ctx, owner, repoName, id, &github.IssueComment{Body: github.String("sticky")})
	if err != nil || edited.GetBody() != "sticky" || s.Comments(fullRepo, 1)[3].Body != "sticky" {
		t.Errorf("edit = %v, %v", edited, err)
	}

	long := strings.Repeat("é", maxCommentRunes+1)
	_, _, err = gh.Issues.EditComment(ctx, owner, repoName, id, &github.IssueComment{Body: github.String(long)})
	var er *github.ErrorResponse
	if !errors.As(err, &er) {
		t.Fatalf("long body error = %v, want an ErrorResponse", err)
	}
	if er.Response.StatusCode != http.StatusUnprocessableEntity {
		t.Errorf("long body status = %d, want 422", er.Response.StatusCode)
	}
	if len(er.Errors) != 1 || er.Errors[0].Message != "body is too long (maximum is 65536 characters)" {
		t.Errorf("long body errors = %+v", er.Errors)
	}
	exact := strings.Repeat("é", maxCommentRunes)
	if _, _, err := gh.Issues.CreateComment(ctx, owner, repoName, 1, &github.IssueComment{Body: github.String(exact)}); err != nil {
		t.Errorf("65,536 characters rejected: %v", err)
	}
	checkNoViolations(t, s)
}

func sealFor(t *testing.T, key *github.PublicKey, value string) string {
	t.Helper()
	raw, err := base64.StdEncoding.DecodeString(key.GetKey())
	if err != nil || len(raw) != 32 {
		t.Fatalf("public key %q: %v", key.GetKey(), err)
	}
	var pub [32]byte
	copy(pub[:], raw)
	sealed, err := box.SealAnonymous(nil, []byte(value), &pub, rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return base64.StdEncoding.EncodeToString(sealed)
}

func TestSecretsRoundTrip(t *testing.T) {
	s, gh := newFake(t, Options{})
	ctx := context.Background()
	repo, _, err := gh.Repositories.Get(ctx, owner, repoName)
	if err != nil {
		t.Fatal(err)
	}

	key, _, err := gh.Actions.GetRepoPublicKey(ctx, owner, repoName)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := gh.Actions.CreateOrUpdateRepoSecret(ctx, owner, repoName, &github.EncryptedSecret{
		Name: "MESHCENTRAL_OIDC_CLIENT_SECRET", KeyID: key.GetKeyID(), EncryptedValue: sealFor(t, key, "s3cret"),
	})
	if err != nil || resp.StatusCode != http.StatusCreated {
		t.Fatalf("create secret: %v, %v", resp, err)
	}
	resp, err = gh.Actions.CreateOrUpdateRepoSecret(ctx, owner, repoName, &github.EncryptedSecret{
		Name: "MESHCENTRAL_OIDC_CLIENT_SECRET", KeyID: key.GetKeyID(), EncryptedValue: sealFor(t, key, "rotated"),
	})
	if err != nil || resp.StatusCode != http.StatusNoContent {
		t.Fatalf("update secret: %v, %v", resp, err)
	}
	if got, ok := s.SecretPlaintext(fullRepo, "", "MESHCENTRAL_OIDC_CLIENT_SECRET"); !ok || got != "rotated" {
		t.Errorf("plaintext = %q, %v", got, ok)
	}
	meta, _, err := gh.Actions.GetRepoSecret(ctx, owner, repoName, "MESHCENTRAL_OIDC_CLIENT_SECRET")
	if err != nil || meta.Name != "MESHCENTRAL_OIDC_CLIENT_SECRET" || meta.CreatedAt.IsZero() {
		t.Errorf("secret metadata = %+v, %v", meta, err)
	}

	envKey, _, err := gh.Actions.GetEnvPublicKey(ctx, int(repo.GetID()), "production")
	if err != nil {
		t.Fatal(err)
	}
	if envKey.GetKeyID() == key.GetKeyID() || envKey.GetKey() == key.GetKey() {
		t.Errorf("environment key %s equals the repository key", envKey.GetKeyID())
	}
	if _, err := gh.Actions.CreateOrUpdateEnvSecret(ctx, int(repo.GetID()), "production", &github.EncryptedSecret{
		Name: "MESHCENTRAL_OIDC_CLIENT_ID", KeyID: envKey.GetKeyID(), EncryptedValue: sealFor(t, envKey, "client-id"),
	}); err != nil {
		t.Fatal(err)
	}
	if got, ok := s.SecretPlaintext(fullRepo, "production", "MESHCENTRAL_OIDC_CLIENT_ID"); !ok || got != "client-id" {
		t.Errorf("environment plaintext = %q, %v", got, ok)
	}
	if _, ok := s.SecretPlaintext(fullRepo, "", "MESHCENTRAL_OIDC_CLIENT_ID"); ok {
		t.Error("environment secret leaked into the repository scope")
	}

	// The /repos/{owner}/{repo}/environments form reaches the same secrets.
	req, _ := gh.NewRequest("GET", "repos/acme/deploy/environments/production/secrets", nil)
	var list github.Secrets
	if _, err := gh.Do(ctx, req, &list); err != nil || list.TotalCount != 1 || list.Secrets[0].Name != "MESHCENTRAL_OIDC_CLIENT_ID" {
		t.Errorf("list via /repos form = %+v, %v", list, err)
	}

	if _, err := gh.Actions.DeleteEnvSecret(ctx, int(repo.GetID()), "production", "MESHCENTRAL_OIDC_CLIENT_ID"); err != nil {
		t.Fatal(err)
	}
	if _, _, err := gh.Actions.GetEnvSecret(ctx, int(repo.GetID()), "production", "MESHCENTRAL_OIDC_CLIENT_ID"); statusOf(err) != http.StatusNotFound {
		t.Errorf("deleted secret still found: %v", err)
	}
	if _, _, err := gh.Actions.GetEnvPublicKey(ctx, int(repo.GetID()), "staging"); statusOf(err) != http.StatusNotFound {
		t.Errorf("missing environment: %v, want 404", err)
	}
	if _, _, err := gh.Repositories.GetEnvironment(ctx, owner, repoName, "staging"); statusOf(err) != http.StatusNotFound {
		t.Errorf("missing environment: %v, want 404", err)
	}
	checkNoViolations(t, s)
}

func TestGitHubTokenCannotTouchSecrets(t *testing.T) {
	s, _ := newFake(t, Options{})
	gh := clientFor(t, s, actionsTok)
	ctx := context.Background()

	_, _, err := gh.Actions.GetRepoPublicKey(ctx, owner, repoName)
	var er *github.ErrorResponse
	if !errors.As(err, &er) {
		t.Fatalf("public key with GITHUB_TOKEN: %v, want an ErrorResponse", err)
	}
	if er.Response.StatusCode != http.StatusForbidden {
		t.Errorf("public key status = %d, want 403", er.Response.StatusCode)
	}
	if er.Message != "Resource not accessible by integration" {
		t.Errorf("public key message = %q", er.Message)
	}
	_, err = gh.Actions.CreateOrUpdateRepoSecret(ctx, owner, repoName, &github.EncryptedSecret{Name: "X", KeyID: "1", EncryptedValue: "AA=="})
	if statusOf(err) != http.StatusForbidden {
		t.Errorf("put secret with GITHUB_TOKEN: %v", err)
	}
	if names := s.SecretNames(fullRepo, ""); len(names) != 0 {
		t.Errorf("secrets written: %v", names)
	}
	// The same token may still read contents.
	if _, _, _, err := gh.Repositories.GetContents(ctx, owner, repoName, configPath, nil); err != nil {
		t.Errorf("contents with GITHUB_TOKEN: %v", err)
	}
	checkNoViolations(t, s)
}

func TestActionsCannotCreatePullRequests(t *testing.T) {
	s, gh := newFake(t, Options{})
	ctx := context.Background()
	commitOnBranch(t, ctx, gh, "b", "x.txt", "x\n")
	s.SetActionsCannotCreatePullRequests(true)
	_, _, err := gh.PullRequests.Create(ctx, owner, repoName, &github.NewPullRequest{
		Title: github.String("t"), Head: github.String("b"), Base: github.String("main"),
	})
	if statusOf(err) != http.StatusForbidden || !strings.Contains(err.Error(), "GitHub Actions is not permitted to create or approve pull requests.") {
		t.Errorf("err = %v", err)
	}
	if len(s.PullRequests(fullRepo)) != 0 {
		t.Error("a pull request was created")
	}
}

// rawRequest sends body as-is, with auth as the Authorization header when
// it is not empty.
func rawRequest(t *testing.T, s *Server, method, path, auth, body string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(method, s.URL()+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	resp, err := s.HTTPClient().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(data)
}

func TestMalformedRequestsAreViolations(t *testing.T) {
	cases := []struct {
		name, method, path, auth, body string
		status                         int
		violation                      string
	}{
		{"unknown field", "PUT", "repos/acme/deploy/actions/secrets/X", "Bearer " + adminToken,
			`{"encrypted_value":"AA==","key_id":"1","value":"plain"}`, 422, `"value" is not a permitted key`},
		{"missing key_id", "PUT", "repos/acme/deploy/actions/secrets/X", "Bearer " + adminToken,
			`{"encrypted_value":"AA=="}`, 422, `"key_id" wasn't supplied`},
		{"stale key_id", "PUT", "repos/acme/deploy/actions/secrets/X", "Bearer " + adminToken,
			`{"encrypted_value":"AA==","key_id":"1"}`, 422, "not the current public key"},
		{"tree entry without mode", "POST", "repos/acme/deploy/git/trees", "token " + adminToken,
			`{"tree":[{"path":"a","type":"blob","content":"x"}]}`, 422, `"tree[0].mode" wasn't supplied`},
		{"not JSON", "POST", "repos/acme/deploy/git/blobs", "token " + adminToken,
			`{"content":`, 400, "body is not JSON"},
		{"unknown endpoint", "GET", "repos/acme/deploy/nonsense", "token " + adminToken,
			``, 404, "no such endpoint"},
		{"no credentials", "GET", "repos/acme/deploy", "", ``, 401, "no Authorization header"},
		{"basic auth", "GET", "repos/acme/deploy", "Basic eDp5", ``, 401, "Authorization header"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s, _ := newFake(t, Options{})
			status, body := rawRequest(t, s, tc.method, tc.path, tc.auth, tc.body)
			if status != tc.status {
				t.Errorf("status = %d (%s), want %d", status, body, tc.status)
			}
			v := s.Violations()
			if len(v) != 1 || !strings.Contains(v[0], tc.violation) {
				t.Errorf("violations = %q, want one containing %q", v, tc.violation)
			}
		})
	}
}

func TestUnknownTokenNotViolation(t *testing.T) {
	s, _ := newFake(t, Options{})
	status, _ := rawRequest(t, s, "GET", "repos/acme/deploy", "Bearer nope", "")
	if status != http.StatusUnauthorized {
		t.Errorf("status = %d", status)
	}
	checkNoViolations(t, s)
}

func TestVariables(t *testing.T) {
	s, gh := newFake(t, Options{})
	ctx := context.Background()
	repo, _, _ := gh.Repositories.Get(ctx, owner, repoName)

	if _, err := gh.Actions.CreateRepoVariable(ctx, owner, repoName, &github.ActionsVariable{Name: "issuer", Value: "https://a/"}); err != nil {
		t.Fatal(err)
	}
	if _, err := gh.Actions.CreateRepoVariable(ctx, owner, repoName, &github.ActionsVariable{Name: "ISSUER", Value: "x"}); statusOf(err) != http.StatusConflict {
		t.Errorf("duplicate variable: %v", err)
	}
	if _, err := gh.Actions.UpdateRepoVariable(ctx, owner, repoName, &github.ActionsVariable{Name: "ISSUER", Value: "https://b/"}); err != nil {
		t.Fatal(err)
	}
	v, _, err := gh.Actions.GetRepoVariable(ctx, owner, repoName, "ISSUER")
	if err != nil || v.Value != "https://b/" {
		t.Errorf("variable = %+v, %v", v, err)
	}
	if _, err := gh.Actions.CreateEnvVariable(ctx, int(repo.GetID()), "production", &github.ActionsVariable{Name: "CLIENT_ID", Value: "abc"}); err != nil {
		t.Fatal(err)
	}
	if got, ok := s.Variable(fullRepo, "production", "CLIENT_ID"); !ok || got != "abc" {
		t.Errorf("environment variable = %q, %v", got, ok)
	}
	list, _, err := gh.Actions.ListEnvVariables(ctx, int(repo.GetID()), "production", nil)
	if err != nil || list.TotalCount != 1 {
		t.Errorf("list = %+v, %v", list, err)
	}
	if _, err := gh.Actions.DeleteRepoVariable(ctx, owner, repoName, "ISSUER"); err != nil {
		t.Fatal(err)
	}
	if _, ok := s.Variable(fullRepo, "", "ISSUER"); ok {
		t.Error("variable still there after delete")
	}
	checkNoViolations(t, s)
}

func TestFaults(t *testing.T) {
	s, gh := newFake(t, Options{})
	ctx := context.Background()

	s.SetFault(func(seq int, r *http.Request) Fault {
		switch seq {
		case 1:
			return Status500
		case 2:
			return DropConnection
		}
		return None
	})
	if _, _, err := gh.Repositories.Get(ctx, owner, repoName); statusOf(err) != http.StatusInternalServerError {
		t.Errorf("first request: %v", err)
	}
	// A POST, so that the transport does not retry it on a new connection.
	if _, _, err := gh.Git.CreateBlob(ctx, owner, repoName, &github.Blob{Content: github.String("dropped")}); err == nil || statusOf(err) != 0 {
		t.Errorf("dropped request: %v", err)
	}
	if _, _, err := gh.Git.GetBlob(ctx, owner, repoName, hashObject("blob", []byte("dropped"))); statusOf(err) != http.StatusNotFound {
		t.Errorf("dropped write was applied: %v", err)
	}
	reqs := s.Requests()
	if len(reqs) != 3 || reqs[0].Status != 500 || reqs[1].Status != 0 || reqs[1].Method != "POST" || reqs[2].Status != 404 {
		t.Errorf("requests = %+v", reqs)
	}

	// A reply lost after the write: the blob exists though the client
	// saw an error.
	s.SetFault(func(int, *http.Request) Fault { return DropAfterApply })
	if _, _, err := gh.Git.CreateBlob(ctx, owner, repoName, &github.Blob{Content: github.String("kept"), Encoding: github.String("utf-8")}); err == nil {
		t.Error("dropped write got a response")
	}
	s.SetFault(nil)
	if _, _, err := gh.Git.GetBlob(ctx, owner, repoName, hashObject("blob", []byte("kept"))); err != nil {
		t.Errorf("write lost: %v", err)
	}
	if s.WriteCount() != 2 {
		t.Errorf("WriteCount = %d, want 2", s.WriteCount())
	}
}

func TestSecondaryRateLimit(t *testing.T) {
	s, gh := newFake(t, Options{})
	ctx := context.Background()
	s.RateLimitWrites(1)
	_, _, err := gh.Git.CreateBlob(ctx, owner, repoName, &github.Blob{Content: github.String("x")})
	var rl *github.AbuseRateLimitError
	if !errors.As(err, &rl) || rl.RetryAfter == nil || rl.RetryAfter.Seconds() != 1 ||
		!strings.Contains(rl.Message, "secondary rate limit") {
		t.Fatalf("err = %#v", err)
	}
	// go-github now sends nothing until Retry-After has passed. A fresh
	// client shows that the server still serves reads and the next write.
	fresh := clientFor(t, s, adminToken)
	if _, _, err := fresh.Repositories.Get(ctx, owner, repoName); err != nil {
		t.Errorf("reads are not limited: %v", err)
	}
	if _, _, err := fresh.Git.CreateBlob(ctx, owner, repoName, &github.Blob{Content: github.String("x")}); err != nil {
		t.Errorf("write after the limit: %v", err)
	}
	checkNoViolations(t, s)
}

func TestMutators(t *testing.T) {
	s, gh := newFake(t, Options{})
	ctx := context.Background()
	if _, err := s.CommitFile(fullRepo, "main", configPath, []byte("{}\n"), "tamper"); err != nil {
		t.Fatal(err)
	}
	file, _, _, err := gh.Repositories.GetContents(ctx, owner, repoName, configPath, nil)
	if err != nil {
		t.Fatal(err)
	}
	if got, _ := file.GetContent(); got != "{}\n" {
		t.Errorf("content after tamper = %q", got)
	}

	if err := s.SetSecret(fullRepo, "", "A", "v"); err != nil {
		t.Fatal(err)
	}
	if !s.DeleteSecret(fullRepo, "", "A") || s.DeleteSecret(fullRepo, "", "A") {
		t.Error("DeleteSecret does not report existence")
	}

	if err := s.CreateBranch(fullRepo, "by-hand", "main"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.CommitFile(fullRepo, "by-hand", "new.txt", []byte("n\n"), "add"); err != nil {
		t.Fatal(err)
	}
	n, err := s.OpenPullRequest(fullRepo, "by-hand", "main", "by hand", "")
	if err != nil || n != 1 {
		t.Fatalf("open by hand = %d, %v", n, err)
	}
	if _, err := s.OpenPullRequest(fullRepo, "by-hand", "main", "again", ""); err == nil {
		t.Error("second open pull request accepted")
	}
	if got := s.PullRequestPatch(fullRepo, 1, "new.txt"); got != "@@ -0,0 +1,1 @@\n+n" {
		t.Errorf("patch = %q", got)
	}
	checkNoViolations(t, s)
}

func TestPlainHTTPAndCertificate(t *testing.T) {
	plain := New(Options{PlainHTTP: true})
	defer plain.Close()
	if !strings.HasPrefix(plain.URL(), "http://127.0.0.1:") || !strings.HasSuffix(plain.URL(), "/") || plain.CertificatePEM() != nil {
		t.Errorf("plain server: %s, cert %v", plain.URL(), plain.CertificatePEM() != nil)
	}

	s := New(Options{})
	defer s.Close()
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(s.CertificatePEM()) {
		t.Fatal("certificate PEM does not parse")
	}
	client := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	resp, err := client.Get(s.URL() + "repos/x/y")
	if err != nil {
		t.Fatalf("TLS with the exported certificate: %v", err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("status = %d", resp.StatusCode)
	}
}

func TestUnifiedDiff(t *testing.T) {
	patch, add, del := unifiedDiff("a\nb\nc\n", "a\nB\nc\nd\n")
	want := "@@ -1,3 +1,4 @@\n a\n-b\n+B\n c\n+d"
	if patch != want || add != 2 || del != 1 {
		t.Errorf("patch = %q (+%d -%d), want %q (+2 -1)", patch, add, del, want)
	}
}
