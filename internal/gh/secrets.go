package gh

import (
	"context"
	"encoding/base64"
	"fmt"
	"net/url"
	"regexp"
	"strconv"
	"strings"

	"github.com/google/go-github/v60/github"
	"golang.org/x/crypto/nacl/box"
)

var secretNamePattern = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

// ValidSecretName checks name against GitHub's rules for Actions secret
// names: letters, digits and underscores only, not starting with a digit or
// with GITHUB_ (in any case).
func ValidSecretName(name string) error { return validName("secret", name) }

// validName applies the naming rules GitHub shares between Actions secrets
// and variables.
func validName(kind, name string) error {
	switch {
	case name == "":
		return fmt.Errorf("%s name is empty", kind)
	case !secretNamePattern.MatchString(name):
		if name[0] >= '0' && name[0] <= '9' {
			return fmt.Errorf("invalid %s name %q: it starts with a digit, and GitHub names start with a letter or '_'", kind, name)
		}
		return fmt.Errorf("invalid %s name %q: it may contain only letters, digits and '_'", kind, name)
	case strings.HasPrefix(strings.ToUpper(name), "GITHUB_"):
		return fmt.Errorf("invalid %s name %q: the GITHUB_ prefix is reserved by GitHub", kind, name)
	}
	return nil
}

// target is the store of a secret or variable: a repository, or one of its
// environments when env is not empty.
type target struct {
	repo Repo
	env  string
}

func (t target) key() string { return t.repo.String() + "\x00" + t.env }

// String describes the target for error messages.
func (t target) String() string {
	if t.env == "" {
		return strconv.Quote(t.repo.String())
	}
	return fmt.Sprintf("environment %q of %q", t.env, t.repo.String())
}

type publicKey struct {
	id  string
	key [32]byte
}

// SecretExists reports whether the Actions secret name exists in repo, or in
// its environment env when env is not empty. The secret names of a target
// are listed once (every page) and cached.
func (c *Client) SecretExists(ctx context.Context, repo Repo, env, name string) (bool, error) {
	t := target{repo, env}
	names, err := c.secretNames(ctx, t)
	if err != nil {
		return false, fmt.Errorf("check GitHub secret %q in %s: %w", name, t, err)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return names[strings.ToUpper(name)], nil
}

func (c *Client) secretNames(ctx context.Context, t target) (map[string]bool, error) {
	defer c.single("secrets\x00" + t.key())()
	c.mu.Lock()
	names, ok := c.secrets[t.key()]
	c.mu.Unlock()
	if ok {
		return names, nil
	}

	// Only environment secrets are addressed by repository ID.
	info := &RepoInfo{}
	if t.env != "" {
		var err error
		if info, err = c.Repository(ctx, t.repo); err != nil {
			return nil, err
		}
	}
	names = map[string]bool{}
	opts := &github.ListOptions{PerPage: 100}
	for {
		var page *github.Secrets
		err := c.call(ctx, func() (*github.Response, error) {
			var resp *github.Response
			var err error
			if t.env == "" {
				page, resp, err = c.api.Actions.ListRepoSecrets(ctx, t.repo.Owner, t.repo.Name, opts)
			} else {
				page, resp, err = c.api.Actions.ListEnvSecrets(ctx, int(info.ID), url.PathEscape(t.env), opts)
			}
			if err == nil {
				opts.Page = resp.NextPage
			}
			return resp, err
		})
		if err != nil {
			return nil, envError(apiError(err, scopeSecrets), t)
		}
		for _, s := range page.Secrets {
			names[strings.ToUpper(s.Name)] = true
		}
		if opts.Page == 0 {
			break
		}
	}

	c.mu.Lock()
	c.secrets[t.key()] = names
	c.mu.Unlock()
	return names, nil
}

// LoadPublicKey reads and caches the public key that PutSecret seals with,
// so a caller can fetch it before it is allowed to write.
func (c *Client) LoadPublicKey(ctx context.Context, repo Repo, env string) error {
	t := target{repo, env}
	info, err := c.Repository(ctx, repo)
	if err != nil {
		return fmt.Errorf("get the secrets public key of %s: %w", t, err)
	}
	if _, err := c.publicKey(ctx, t, info); err != nil {
		return fmt.Errorf("get the secrets public key of %s: %w", t, err)
	}
	return nil
}

// PutSecret creates or updates the Actions secret name in repo, or in its
// environment env when env is not empty. The value is sealed with the
// target's public key (fetched once per target and cached), so it leaves
// this process only encrypted.
func (c *Client) PutSecret(ctx context.Context, repo Repo, env, name, value string) error {
	t := target{repo, env}
	step := fmt.Sprintf("put GitHub secret %q in %s", name, t)
	if err := ValidSecretName(name); err != nil {
		return fmt.Errorf("%s: %w", step, err)
	}
	info, err := c.Repository(ctx, repo)
	if err != nil {
		return fmt.Errorf("%s: %w", step, err)
	}
	pk, err := c.publicKey(ctx, t, info)
	if err != nil {
		return fmt.Errorf("%s: %w", step, err)
	}

	sealed, err := box.SealAnonymous(nil, []byte(value), &pk.key, c.rand)
	if err != nil {
		return fmt.Errorf("%s: seal the value: %w", step, err)
	}
	secret := &github.EncryptedSecret{
		Name:           name,
		KeyID:          pk.id,
		EncryptedValue: base64.StdEncoding.EncodeToString(sealed),
	}
	err = c.call(ctx, func() (*github.Response, error) {
		if env == "" {
			return c.api.Actions.CreateOrUpdateRepoSecret(ctx, repo.Owner, repo.Name, secret)
		}
		return c.api.Actions.CreateOrUpdateEnvSecret(ctx, int(info.ID), url.PathEscape(env), secret)
	})
	if err != nil {
		return fmt.Errorf("%s: %w", step, envError(apiError(err, scopeSecrets), t))
	}

	c.mu.Lock()
	if names, ok := c.secrets[t.key()]; ok {
		names[strings.ToUpper(name)] = true
	}
	c.mu.Unlock()
	return nil
}

// publicKey returns the target's sealing key, checked to be 32 bytes with a
// key ID.
func (c *Client) publicKey(ctx context.Context, t target, info *RepoInfo) (*publicKey, error) {
	defer c.single("key\x00" + t.key())()
	c.mu.Lock()
	pk, ok := c.keys[t.key()]
	c.mu.Unlock()
	if ok {
		return pk, nil
	}

	var got *github.PublicKey
	err := c.call(ctx, func() (*github.Response, error) {
		var resp *github.Response
		var err error
		if t.env == "" {
			got, resp, err = c.api.Actions.GetRepoPublicKey(ctx, t.repo.Owner, t.repo.Name)
		} else {
			got, resp, err = c.api.Actions.GetEnvPublicKey(ctx, int(info.ID), url.PathEscape(t.env))
		}
		return resp, err
	})
	if err != nil {
		return nil, fmt.Errorf("get the public key of %s: %w", t, envError(apiError(err, scopeSecrets), t))
	}

	raw, err := base64.StdEncoding.DecodeString(got.GetKey())
	if err != nil {
		return nil, fmt.Errorf("decode the public key of %s: not base64", t)
	}
	if len(raw) != 32 {
		return nil, fmt.Errorf("decode the public key of %s: the key is %d bytes, expected 32", t, len(raw))
	}
	if got.GetKeyID() == "" {
		return nil, fmt.Errorf("decode the public key of %s: missing key_id", t)
	}
	pk = &publicKey{id: got.GetKeyID()}
	copy(pk.key[:], raw)

	c.mu.Lock()
	c.keys[t.key()] = pk
	c.mu.Unlock()
	return pk, nil
}

// envError adds the likely cause to a 404 on an environment endpoint: the
// repository was already found, so the environment is missing.
func envError(err error, t target) error {
	if t.env == "" || !isStatus(err, 404) {
		return err
	}
	if e := toAPIError(err); e != nil && e.Hint == "" {
		e.Hint = fmt.Sprintf("environment %q may not exist in %q; create it under the repository's Settings → Environments", t.env, t.repo.String())
	}
	return err
}
