package gh

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"unicode/utf8"

	"github.com/google/go-github/v60/github"
)

// PullRequestSpec is the one-file change EnsurePullRequest proposes.
type PullRequestSpec struct {
	// Base is the branch the pull request merges into. Empty means the
	// repository's default branch.
	Base string
	// Branch is the head branch, chosen by the caller and owned by the
	// action: EnsurePullRequest resets it when needed.
	Branch string
	// Path is the file to write, relative to the repository root.
	Path string
	// Content is the new file content, committed byte for byte.
	Content       []byte
	CommitMessage string
	Title         string
	Body          string
	// Labels are added to the pull request when missing. Labels added by
	// people are kept.
	Labels []string
	// BaseHead is the base branch's head as the caller read it together
	// with the content it edited, so the commit builds on exactly that
	// state. When nil, EnsurePullRequest reads the branch itself and
	// returns OperationNone when the base already has Content.
	BaseHead *BranchHead
	// BaseChecked reports that the caller read the file on the base branch
	// and found it different from Content, so the check is not repeated.
	BaseChecked bool
	// Searched reports that the caller ran FindPullRequest with this
	// Client for the same base and branch, so its result is reused instead
	// of listing pull requests again.
	Searched bool
}

// The operations a PullRequestResult reports.
const (
	OperationCreated = "created"
	OperationUpdated = "updated"
	OperationNone    = "none"
)

// PullRequestResult identifies the pull request and what happened to it.
// BranchHead is the commit a branch points at and that commit's tree.
type BranchHead struct {
	Name      string
	CommitSHA string
	TreeSHA   string
}

type PullRequestResult struct {
	// Number and URL are zero when no pull request is open.
	Number int
	URL    string
	// Operation is OperationCreated, OperationUpdated or OperationNone.
	Operation string
	// Base is the branch the pull request targets.
	Base string
	// HeadSHA is the commit at the head of the pull request, when known.
	HeadSHA string
}

// EnsurePullRequest makes one open pull request from spec.Branch into
// spec.Base carry spec.Content at spec.Path.
//
// The branch is one commit on top of the base head. It is created from the
// base head when missing, and reset onto it (a forced ref update) when it is
// behind the base or contains other content. Otherwise no commit is made. The
// commit goes through the Git data API (a tree on the base tree with the
// content inline, a commit, the ref), so with a GitHub App token GitHub
// signs it as verified. Then the open
// pull request is created, or its title, body and labels are edited where
// they differ. A second call with the same spec sends no write request and
// reports OperationNone.
//
// When spec.BaseHead is nil and the base already contains the content,
// nothing is written and the result has Operation OperationNone and no
// number. A pull request left from
// an earlier run is then for the caller to close (FindPullRequest,
// ClosePullRequest).
func (c *Client) EnsurePullRequest(ctx context.Context, repo Repo, spec PullRequestSpec) (*PullRequestResult, error) {
	info, err := c.Repository(ctx, repo)
	if err != nil {
		return nil, fmt.Errorf("ensure the pull request from %q in %q: %w", spec.Branch, repo, err)
	}
	if spec.Base == "" {
		spec.Base = info.DefaultBranch
	}
	step := fmt.Sprintf("ensure the pull request from %q into %q in %q", spec.Branch, spec.Base, repo)
	if err := spec.check(); err != nil {
		return nil, fmt.Errorf("%s: %w", step, err)
	}

	prep, err := c.prepare(ctx, repo, spec)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", step, err)
	}
	return c.publish(ctx, repo, spec, prep, step)
}

// PreparedCommit is the commit a pull request needs, made but not yet on
// any branch, so it changes nothing visible until PublishPullRequest.
type PreparedCommit struct {
	base *BranchHead
	open *github.PullRequest
	// sha is the new commit; empty when the branch already carries the
	// content (upToDate) or the base already has it (noChange).
	sha      string
	upToDate bool
	noChange bool
}

// PreparePullRequest does the part of EnsurePullRequest that no one can
// see: it reads what it needs and creates the tree and commit objects. A
// caller can run it alongside other writes and call PublishPullRequest last.
func (c *Client) PreparePullRequest(ctx context.Context, repo Repo, spec PullRequestSpec) (*PreparedCommit, error) {
	info, err := c.Repository(ctx, repo)
	if err != nil {
		return nil, fmt.Errorf("prepare the pull request from %q in %q: %w", spec.Branch, repo, err)
	}
	if spec.Base == "" {
		spec.Base = info.DefaultBranch
	}
	prep, err := c.prepare(ctx, repo, spec)
	if err != nil {
		return nil, fmt.Errorf("prepare the pull request from %q into %q in %q: %w", spec.Branch, spec.Base, repo, err)
	}
	return prep, nil
}

// PublishPullRequest points the branch at the prepared commit and opens or
// updates the pull request. spec must be the one given to
// PreparePullRequest.
func (c *Client) PublishPullRequest(ctx context.Context, repo Repo, spec PullRequestSpec, prep *PreparedCommit) (*PullRequestResult, error) {
	if spec.Base == "" {
		spec.Base = prep.base.Name
	}
	return c.publish(ctx, repo, spec, prep, fmt.Sprintf("publish the pull request from %q into %q in %q", spec.Branch, spec.Base, repo))
}

func (c *Client) prepare(ctx context.Context, repo Repo, spec PullRequestSpec) (*PreparedCommit, error) {
	prep := &PreparedCommit{base: spec.BaseHead}
	if prep.base == nil {
		head, found, err := c.Branch(ctx, repo, spec.Base)
		if err != nil {
			return nil, err
		}
		if !found {
			return nil, fmt.Errorf("base branch %q not found", spec.Base)
		}
		prep.base = head
		same := false
		if !spec.BaseChecked {
			same, err = c.hasBlob(ctx, repo, head.CommitSHA, spec.Path, blobSHA(spec.Content))
		}
		if err != nil {
			return nil, err
		}
		if same {
			prep.noChange = true
			return prep, nil
		}
	}

	if spec.Searched {
		prep.open = c.cachedPull(repo, spec.Base, spec.Branch)
	} else {
		var err error
		if prep.open, _, err = c.findPull(ctx, repo, spec.Base, spec.Branch); err != nil {
			return nil, err
		}
	}

	upToDate, err := c.branchUpToDate(ctx, repo, spec, prep.base, prep.open)
	if err != nil || upToDate {
		prep.upToDate = upToDate
		return prep, err
	}
	prep.sha, err = c.commitFile(ctx, repo, spec, prep.base)
	return prep, err
}

func (c *Client) publish(ctx context.Context, repo Repo, spec PullRequestSpec, prep *PreparedCommit, step string) (*PullRequestResult, error) {
	if prep.noChange {
		return &PullRequestResult{Operation: OperationNone}, nil
	}
	committed := false
	if !prep.upToDate {
		if err := c.pointBranch(ctx, repo, spec.Branch, prep.sha, prep.open != nil); err != nil {
			return nil, fmt.Errorf("%s: %w", step, err)
		}
		committed = true
	}
	res, err := c.ensureOpenPull(ctx, repo, spec, prep.open)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", step, err)
	}
	if committed && res.Operation == OperationNone {
		res.Operation = OperationUpdated
	}
	return res, nil
}

// Branch returns the head commit and tree of a branch; found is false when
// the branch does not exist.
func (c *Client) Branch(ctx context.Context, repo Repo, name string) (*BranchHead, bool, error) {
	var b *github.Branch
	err := c.call(ctx, func() (*github.Response, error) {
		var resp *github.Response
		var err error
		b, resp, err = c.api.Repositories.GetBranch(ctx, repo.Owner, repo.Name, name, 0)
		return resp, err
	})
	switch {
	case isStatus(err, http.StatusNotFound):
		return nil, false, nil
	case err != nil:
		return nil, false, fmt.Errorf("get branch %q: %w", name, apiError(err, scopeContents))
	}
	head := &BranchHead{Name: name, CommitSHA: b.GetCommit().GetSHA(), TreeSHA: b.GetCommit().GetCommit().GetTree().GetSHA()}
	if head.CommitSHA == "" || head.TreeSHA == "" {
		return nil, false, fmt.Errorf("get branch %q: the response has no commit or tree SHA", name)
	}
	return head, true, nil
}

func (s PullRequestSpec) check() error {
	switch {
	case s.Branch == "":
		return errors.New("missing pull request branch")
	case s.Branch == s.Base:
		return fmt.Errorf("the pull request branch %q is the base branch", s.Branch)
	case strings.TrimSpace(s.Title) == "":
		return errors.New("missing pull request title")
	case strings.TrimSpace(s.CommitMessage) == "":
		return errors.New("missing commit message")
	}
	return checkPath(s.Path)
}

// hasBlob reports whether the file at filePath in commit sha has the blob ID
// want.
func (c *Client) hasBlob(ctx context.Context, repo Repo, sha, filePath, want string) (bool, error) {
	file, found, err := c.contents(ctx, repo, sha, filePath)
	if err != nil {
		return false, fmt.Errorf("read %q at %q: %w", filePath, sha, err)
	}
	return found && file.GetSHA() == want, nil
}

// branchUpToDate reports whether the branch of the open pull request is
// one commit on the base head with the content, so nothing needs a commit.
func (c *Client) branchUpToDate(ctx context.Context, repo Repo, spec PullRequestSpec, base *BranchHead, open *github.PullRequest) (bool, error) {
	if open == nil {
		return false, nil
	}
	headSHA := open.GetHead().GetSHA()
	if headSHA == "" || headSHA == base.CommitSHA {
		return false, nil
	}
	head, err := c.commit(ctx, repo, headSHA)
	if err != nil {
		return false, err
	}
	if len(head.Parents) != 1 || head.Parents[0].GetSHA() != base.CommitSHA {
		return false, nil
	}
	return c.hasBlob(ctx, repo, headSHA, spec.Path, blobSHA(spec.Content))
}

func (c *Client) commit(ctx context.Context, repo Repo, sha string) (*github.Commit, error) {
	var commit *github.Commit
	err := c.call(ctx, func() (*github.Response, error) {
		var resp *github.Response
		var err error
		commit, resp, err = c.api.Git.GetCommit(ctx, repo.Owner, repo.Name, sha)
		return resp, err
	})
	if err != nil {
		return nil, fmt.Errorf("get commit %q: %w", sha, apiError(err, scopeContents))
	}
	return commit, nil
}

// commitFile creates the tree on the base tree (with the file's content
// inline, so no separate blob request) and the commit whose only parent is
// the base head, and returns the commit SHA.
func (c *Client) commitFile(ctx context.Context, repo Repo, spec PullRequestSpec, base *BranchHead) (string, error) {
	entry := &github.TreeEntry{
		Path: github.String(spec.Path),
		Mode: github.String("100644"),
		Type: github.String("blob"),
	}
	if utf8.Valid(spec.Content) {
		entry.Content = github.String(string(spec.Content))
	} else {
		// Inline content travels as a JSON string, which cannot carry bytes
		// that are not UTF-8; a base64 blob keeps them byte for byte.
		sha, err := c.createBlob(ctx, repo, spec)
		if err != nil {
			return "", err
		}
		entry.SHA = github.String(sha)
	}
	var tree *github.Tree
	err := c.call(ctx, func() (*github.Response, error) {
		var resp *github.Response
		var err error
		tree, resp, err = c.api.Git.CreateTree(ctx, repo.Owner, repo.Name, base.TreeSHA, []*github.TreeEntry{entry})
		return resp, err
	})
	if err != nil {
		return "", fmt.Errorf("create the tree with %q: %w", spec.Path, apiError(err, scopeContents))
	}

	var commit *github.Commit
	err = c.call(ctx, func() (*github.Response, error) {
		var resp *github.Response
		var err error
		commit, resp, err = c.api.Git.CreateCommit(ctx, repo.Owner, repo.Name, &github.Commit{
			Message: github.String(spec.CommitMessage),
			Tree:    &github.Tree{SHA: tree.SHA},
			Parents: []*github.Commit{{SHA: github.String(base.CommitSHA)}},
		}, nil)
		return resp, err
	})
	if err != nil {
		return "", fmt.Errorf("create the commit on %q: %w", spec.Branch, apiError(err, scopeContents))
	}
	return commit.GetSHA(), nil
}

// pointBranch creates the branch at sha, or moves it there with a forced
// update when it exists (or turns out to exist).
func (c *Client) pointBranch(ctx context.Context, repo Repo, branch, sha string, exists bool) error {
	ref := &github.Reference{Ref: github.String("refs/heads/" + branch), Object: &github.GitObject{SHA: github.String(sha)}}
	if !exists {
		err := c.call(ctx, func() (*github.Response, error) {
			_, resp, err := c.api.Git.CreateRef(ctx, repo.Owner, repo.Name, ref)
			return resp, err
		})
		if err == nil {
			return nil
		}
		if !isStatus(err, http.StatusUnprocessableEntity) || !hasMessage(err, "already exists") {
			return fmt.Errorf("create branch %q: %w", branch, apiError(err, scopeContents))
		}
	}
	err := c.call(ctx, func() (*github.Response, error) {
		_, resp, err := c.api.Git.UpdateRef(ctx, repo.Owner, repo.Name, ref, true)
		return resp, err
	})
	if err != nil {
		return fmt.Errorf("update branch %q: %w", branch, apiError(err, scopeContents))
	}
	return nil
}

// ensureOpenPull opens the pull request or brings the open one's title,
// body and labels to the spec.
func (c *Client) ensureOpenPull(ctx context.Context, repo Repo, spec PullRequestSpec, pr *github.PullRequest) (*PullRequestResult, error) {
	var found bool
	var err error
	op := OperationNone
	if pr == nil {
		pr, err = c.createPull(ctx, repo, spec)
		switch {
		case err == nil:
			op = OperationCreated
		case hasMessage(err, msgPullExists):
			// Another run opened it after the search above.
			var ferr error
			pr, found, ferr = c.findPull(ctx, repo, spec.Base, spec.Branch)
			if ferr != nil || !found {
				return nil, err
			}
		default:
			return nil, err
		}
	}

	edited, err := c.editPull(ctx, repo, pr, spec)
	if err != nil {
		return nil, err
	}
	labeled, err := c.addLabels(ctx, repo, pr, spec.Labels)
	if err != nil {
		return nil, err
	}
	if op == OperationNone && (edited || labeled) {
		op = OperationUpdated
	}
	return &PullRequestResult{Number: pr.GetNumber(), URL: pr.GetHTMLURL(), Operation: op}, nil
}

func (c *Client) createPull(ctx context.Context, repo Repo, spec PullRequestSpec) (*github.PullRequest, error) {
	var pr *github.PullRequest
	err := c.call(ctx, func() (*github.Response, error) {
		var resp *github.Response
		var err error
		pr, resp, err = c.api.PullRequests.Create(ctx, repo.Owner, repo.Name, &github.NewPullRequest{
			Title: github.String(spec.Title),
			Head:  github.String(spec.Branch),
			Base:  github.String(spec.Base),
			Body:  github.String(spec.Body),
		})
		return resp, err
	})
	if err != nil {
		return nil, fmt.Errorf("create the pull request: %w", apiError(err, scopePulls))
	}
	return pr, nil
}

// editPull sets the title and body where they differ from the spec.
func (c *Client) editPull(ctx context.Context, repo Repo, pr *github.PullRequest, spec PullRequestSpec) (bool, error) {
	patch := &github.PullRequest{}
	if pr.GetTitle() != spec.Title {
		patch.Title = github.String(spec.Title)
	}
	if normalizeNewlines(pr.GetBody()) != normalizeNewlines(spec.Body) {
		patch.Body = github.String(spec.Body)
	}
	if patch.Title == nil && patch.Body == nil {
		return false, nil
	}
	err := c.call(ctx, func() (*github.Response, error) {
		_, resp, err := c.api.PullRequests.Edit(ctx, repo.Owner, repo.Name, pr.GetNumber(), patch)
		return resp, err
	})
	if err != nil {
		return false, fmt.Errorf("edit pull request #%d: %w", pr.GetNumber(), apiError(err, scopePulls))
	}
	return true, nil
}

// addLabels adds the wanted labels the pull request lacks.
func (c *Client) addLabels(ctx context.Context, repo Repo, pr *github.PullRequest, want []string) (bool, error) {
	have := map[string]bool{}
	for _, l := range pr.Labels {
		have[strings.ToLower(l.GetName())] = true
	}
	var missing []string
	for _, l := range want {
		l = strings.TrimSpace(l)
		if l != "" && !have[strings.ToLower(l)] {
			have[strings.ToLower(l)] = true
			missing = append(missing, l)
		}
	}
	if len(missing) == 0 {
		return false, nil
	}
	err := c.call(ctx, func() (*github.Response, error) {
		_, resp, err := c.api.Issues.AddLabelsToIssue(ctx, repo.Owner, repo.Name, pr.GetNumber(), missing)
		return resp, err
	})
	if err != nil {
		return false, fmt.Errorf("add labels %q to pull request #%d: %w", missing, pr.GetNumber(), apiError(err, scopePulls))
	}
	return true, nil
}

// FindPullRequest returns the open pull request from branch (in repo itself)
// into base, or into any base when base is empty. Every page of the listing
// is read.
func (c *Client) FindPullRequest(ctx context.Context, repo Repo, base, branch string) (*PullRequestResult, bool, error) {
	pr, found, err := c.findPull(ctx, repo, base, branch)
	if err == nil {
		c.mu.Lock()
		if c.pulls == nil {
			c.pulls = map[string]*github.PullRequest{}
		}
		c.pulls[repo.String()+"\x00"+branch] = pr
		c.mu.Unlock()
	}
	if err != nil || !found {
		return nil, false, wrapStep(fmt.Sprintf("find the pull request from %q into %q in %q", branch, base, repo), err)
	}
	return &PullRequestResult{Number: pr.GetNumber(), URL: pr.GetHTMLURL(), Operation: OperationNone, Base: pr.GetBase().GetRef(), HeadSHA: pr.GetHead().GetSHA()}, true, nil
}

// cachedPull returns the open pull request FindPullRequest found for branch,
// or nil when it found none or targets another base.
func (c *Client) cachedPull(repo Repo, base, branch string) *github.PullRequest {
	c.mu.Lock()
	defer c.mu.Unlock()
	pr := c.pulls[repo.String()+"\x00"+branch]
	if pr == nil || pr.GetBase().GetRef() != base {
		return nil
	}
	return pr
}

func (c *Client) findPull(ctx context.Context, repo Repo, base, branch string) (*github.PullRequest, bool, error) {
	opts := &github.PullRequestListOptions{
		State:       "open",
		Head:        repo.Owner + ":" + branch,
		Base:        base,
		ListOptions: github.ListOptions{PerPage: 100},
	}
	for {
		var page []*github.PullRequest
		err := c.call(ctx, func() (*github.Response, error) {
			var resp *github.Response
			var err error
			page, resp, err = c.api.PullRequests.List(ctx, repo.Owner, repo.Name, opts)
			if err == nil {
				opts.Page = resp.NextPage
			}
			return resp, err
		})
		if err != nil {
			return nil, false, fmt.Errorf("list pull requests: %w", apiError(err, scopePulls))
		}
		// The filters are checked again: only a pull request from this
		// repository's own branch counts, never one from a fork.
		for _, pr := range page {
			if pr.GetState() == "open" && pr.GetHead().GetRef() == branch && (base == "" || pr.GetBase().GetRef() == base) &&
				sameRepo(pr.GetHead().GetRepo(), repo) {
				return pr, true, nil
			}
		}
		if opts.Page == 0 {
			return nil, false, nil
		}
	}
}

func sameRepo(r *github.Repository, repo Repo) bool {
	if r == nil || r.GetFullName() == "" {
		return true
	}
	return strings.EqualFold(r.GetFullName(), repo.String())
}

// ClosePullRequest closes pull request number with comment (when not empty)
// and deletes its branch. The pull request's head must be branch, and the
// branch may not be the default branch, so a wrong number deletes nothing.
// An already closed pull request or an already deleted branch is not an
// error.
func (c *Client) ClosePullRequest(ctx context.Context, repo Repo, number int, branch, comment string) error {
	step := fmt.Sprintf("close pull request #%d in %q", number, repo)
	info, err := c.Repository(ctx, repo)
	if err != nil {
		return fmt.Errorf("%s: %w", step, err)
	}
	if branch == "" || branch == info.DefaultBranch {
		return fmt.Errorf("%s: rejected deleting branch %q, which is empty or the default branch", step, branch)
	}

	var pr *github.PullRequest
	err = c.call(ctx, func() (*github.Response, error) {
		var resp *github.Response
		var err error
		pr, resp, err = c.api.PullRequests.Get(ctx, repo.Owner, repo.Name, number)
		return resp, err
	})
	if err != nil {
		return fmt.Errorf("%s: %w", step, apiError(err, scopePulls))
	}
	if pr.GetHead().GetRef() != branch || !sameRepo(pr.GetHead().GetRepo(), repo) {
		return fmt.Errorf("%s: its head is %q, not branch %q", step, pr.GetHead().GetLabel(), branch)
	}

	if pr.GetState() == "open" {
		if err := c.closeOpenPull(ctx, repo, number, comment); err != nil {
			return fmt.Errorf("%s: %w", step, err)
		}
	}

	err = c.call(ctx, func() (*github.Response, error) {
		return c.api.Git.DeleteRef(ctx, repo.Owner, repo.Name, "heads/"+branch)
	})
	alreadyDeleted := isStatus(err, http.StatusNotFound) ||
		(isStatus(err, http.StatusUnprocessableEntity) && hasMessage(err, "Reference does not exist"))
	if err != nil && !alreadyDeleted {
		return fmt.Errorf("%s: delete branch %q: %w", step, branch, apiError(err, scopeContents))
	}
	return nil
}

func (c *Client) closeOpenPull(ctx context.Context, repo Repo, number int, comment string) error {
	if comment != "" {
		err := c.call(ctx, func() (*github.Response, error) {
			_, resp, err := c.api.Issues.CreateComment(ctx, repo.Owner, repo.Name, number, &github.IssueComment{Body: github.String(comment)})
			return resp, err
		})
		if err != nil {
			return fmt.Errorf("comment: %w", apiError(err, scopeComments))
		}
	}
	err := c.call(ctx, func() (*github.Response, error) {
		_, resp, err := c.api.PullRequests.Edit(ctx, repo.Owner, repo.Name, number, &github.PullRequest{State: github.String("closed")})
		return resp, err
	})
	if err != nil {
		return apiError(err, scopePulls)
	}
	return nil
}

func normalizeNewlines(s string) string { return strings.ReplaceAll(s, "\r\n", "\n") }

// createBlob stores the file's content as a base64 blob and returns its SHA.
func (c *Client) createBlob(ctx context.Context, repo Repo, spec PullRequestSpec) (string, error) {
	var blob *github.Blob
	err := c.call(ctx, func() (*github.Response, error) {
		var resp *github.Response
		var err error
		blob, resp, err = c.api.Git.CreateBlob(ctx, repo.Owner, repo.Name, &github.Blob{
			Content:  github.String(base64.StdEncoding.EncodeToString(spec.Content)),
			Encoding: github.String("base64"),
		})
		return resp, err
	})
	if err != nil {
		return "", fmt.Errorf("create the blob of %q: %w", spec.Path, apiError(err, scopeContents))
	}
	return blob.GetSHA(), nil
}
