package gh

import (
	"context"
	"crypto/sha1"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"path"
	"strings"

	"github.com/google/go-github/v60/github"
)

// ReadFile returns the content of the file at filePath on ref, a branch, tag
// or commit SHA (empty means the default branch). found is false when no file
// is there, and also when the repository itself is not visible, because both
// return 404. Callers that need to tell them apart call Repository, which
// may run concurrently. A directory, a symlink or a missing ref is an error.
func (c *Client) ReadFile(ctx context.Context, repo Repo, ref, filePath string) (content []byte, found bool, err error) {
	step := fmt.Sprintf("read %q from %q", filePath, repo)
	if ref != "" {
		step += fmt.Sprintf(" at %q", ref)
	}
	if err := checkPath(filePath); err != nil {
		return nil, false, fmt.Errorf("%s: %w", step, err)
	}
	file, found, err := c.contents(ctx, repo, ref, filePath)
	if err != nil || !found {
		return nil, found, wrapStep(step, err)
	}
	data, err := c.fileBytes(ctx, repo, file)
	if err != nil {
		return nil, false, fmt.Errorf("%s: %w", step, err)
	}
	return data, true, nil
}

// contents fetches the metadata (and, below 1 MB, the content) of a regular
// file.
func (c *Client) contents(ctx context.Context, repo Repo, ref, filePath string) (*github.RepositoryContent, bool, error) {
	var file *github.RepositoryContent
	var dir []*github.RepositoryContent
	err := c.call(ctx, func() (*github.Response, error) {
		var resp *github.Response
		var err error
		file, dir, resp, err = c.api.Repositories.GetContents(ctx, repo.Owner, repo.Name, filePath,
			&github.RepositoryContentGetOptions{Ref: ref})
		return resp, err
	})
	switch {
	case isStatus(err, http.StatusNotFound) && hasMessage(err, "No commit found"):
		return nil, false, fmt.Errorf("ref %q not found: %w", ref, apiError(err, scopeContents))
	case isStatus(err, http.StatusNotFound):
		return nil, false, nil
	case err != nil:
		return nil, false, apiError(err, scopeContents)
	case file == nil || dir != nil:
		return nil, false, fmt.Errorf("%q is a directory, not a file", filePath)
	case file.GetType() != "file":
		return nil, false, fmt.Errorf("%q is a %s, not a regular file", filePath, file.GetType())
	}
	return file, true, nil
}

// fileBytes decodes a file's content, fetching the blob for files the
// contents API does not inline (1 MB and more).
func (c *Client) fileBytes(ctx context.Context, repo Repo, file *github.RepositoryContent) ([]byte, error) {
	if file.GetEncoding() != "none" && (file.Content != nil || file.GetSize() == 0) {
		s, err := file.GetContent()
		if err != nil {
			return nil, fmt.Errorf("decode the file content: %w", err)
		}
		return []byte(s), nil
	}
	var data []byte
	err := c.call(ctx, func() (*github.Response, error) {
		var resp *github.Response
		var err error
		data, resp, err = c.api.Git.GetBlobRaw(ctx, repo.Owner, repo.Name, file.GetSHA())
		return resp, err
	})
	if err != nil {
		return nil, fmt.Errorf("get blob %q: %w", file.GetSHA(), apiError(err, scopeContents))
	}
	return data, nil
}

// checkPath rejects paths the contents and tree APIs would misread.
func checkPath(p string) error {
	switch {
	case p == "":
		return errors.New("missing file path")
	case strings.HasPrefix(p, "/") || strings.HasSuffix(p, "/"):
		return fmt.Errorf("path %q must be relative to the repository root, without leading or trailing '/'", p)
	case path.Clean(p) != p || strings.Contains(p, ".."):
		return fmt.Errorf("path %q must be clean, without '..', '.' or doubled '/'", p)
	}
	return nil
}

// blobSHA returns the Git object ID of a blob with content, as git
// hash-object computes it. Comparing it with the SHA GitHub reports avoids
// downloading the file.
func blobSHA(content []byte) string {
	h := sha1.New()
	fmt.Fprintf(h, "blob %d\x00", len(content))
	h.Write(content)
	return hex.EncodeToString(h.Sum(nil))
}

func wrapStep(step string, err error) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf("%s: %w", step, err)
}
