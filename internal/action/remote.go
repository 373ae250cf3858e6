package action

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/meshauth/meshcentral-authentik-action/internal/authentik"
	"github.com/meshauth/meshcentral-authentik-action/internal/change"
	"github.com/meshauth/meshcentral-authentik-action/internal/gh"
	"github.com/meshauth/meshcentral-authentik-action/internal/inputs"
	"github.com/meshauth/meshcentral-authentik-action/internal/meshconfig"
	"github.com/meshauth/meshcentral-authentik-action/internal/retry"
)

// Kinds of the change entries this package adds itself.
const (
	kindSecret      = "GitHub secret"
	kindVariable    = "GitHub variable"
	kindPullRequest = "pull request"
)

// state is the result of the read phase and the change list of the run.
// Every mode computes it the same way, and only apply acts on it.
type state struct {
	repo      gh.Repo
	repoInfo  *gh.RepoInfo
	base      string
	original  []byte
	redirect  string
	akDesired authentik.Desired
	akPlan    *authentik.Plan
	edit      *meshconfig.Result
	openPull  *gh.PullRequestResult
	hasPull   bool
	// pullContent is config.json at the head of the open pull request.
	pullContent []byte
	// fromPullHead is true when config.json was read from the head of the
	// pull request that triggered a plan, not from the base branch.
	fromPullHead bool
	idSecret     secretState
	secret       secretState
	fpVariable   string
	fpFound      bool

	// newSecret is the rotated client secret, when rotate-client-secret
	// applies to an existing provider.
	newSecret string

	list change.List
}

// secretState is the known state of one GitHub secret: whether it exists
// and whether the stored fingerprint matches the desired value.
type secretState struct {
	exists  bool
	current bool
}

func (r *runner) clients() (*authentik.Client, *gh.Client, error) {
	ua := "meshcentral-authentik-action/" + r.env.Version
	akTransport, err := r.transport(r.in.AuthentikCACert)
	if err != nil {
		return nil, nil, err
	}
	ak, err := authentik.New(authentik.Config{
		URL:        r.in.AuthentikURL,
		Token:      r.in.AuthentikToken,
		HTTPClient: &http.Client{Transport: akTransport, Timeout: 2 * time.Minute},
		UserAgent:  ua,
	})
	if err != nil {
		return nil, nil, err
	}
	apiURL := r.ghctx.APIURL
	if apiURL == "" {
		apiURL = gh.DefaultAPIURL
	}
	ghTransport, err := r.transport("")
	if err != nil {
		return nil, nil, err
	}
	g, err := gh.New(gh.Config{
		Token:      r.in.GitHubToken,
		APIURL:     apiURL,
		HTTPClient: &http.Client{Transport: ghTransport, Timeout: 2 * time.Minute},
		UserAgent:  ua,
		Rand:       r.env.Rand,
	})
	if err != nil {
		return nil, nil, err
	}
	return ak, g, nil
}

// transport returns the retrying transport for one API. It trusts the
// system roots plus extraCA (PEM); TLS verification is never switched off.
// Env.HTTPClient's transport, when set, replaces the TLS set-up.
func (r *runner) transport(extraCA string) (http.RoundTripper, error) {
	var base http.RoundTripper
	if r.env.HTTPClient != nil && r.env.HTTPClient.Transport != nil {
		base = r.env.HTTPClient.Transport
	} else {
		t := http.DefaultTransport.(*http.Transport).Clone()
		t.TLSClientConfig = &tls.Config{MinVersion: tls.VersionTLS12}
		if extraCA != "" {
			pool, err := x509.SystemCertPool()
			if err != nil {
				pool = x509.NewCertPool()
			}
			if !pool.AppendCertsFromPEM([]byte(extraCA)) {
				return nil, errors.New("input authentik-ca-certificate contains no usable PEM certificate")
			}
			t.TLSClientConfig.RootCAs = pool
		}
		base = t
	}
	return retry.New(retry.Options{
		Base:      base,
		BaseDelay: r.env.RetryBaseDelay,
		Log:       func(format string, args ...any) { r.gha.Infof(format, args...) },
	}), nil
}

// remote runs apply, plan or check.
func (r *runner) remote(ctx context.Context) error {
	ak, g, err := r.clients()
	if err != nil {
		return err
	}
	r.gha.Group("Read authentik, GitHub and config.json")
	st, err := r.read(ctx, ak, g)
	r.gha.EndGroup()
	if err != nil {
		switch r.in.Mode {
		case inputs.ModePlan:
			r.planError(ctx, g, err)
		case inputs.ModeCheck:
			r.checkError(err)
		}
		return err
	}
	for _, w := range st.list.Warnings {
		r.gha.Warningf("%s", w)
	}
	switch r.in.Mode {
	case inputs.ModeApply:
		return r.apply(ctx, ak, g, st)
	case inputs.ModePlan:
		return r.plan(ctx, g, st)
	default:
		return r.check(st)
	}
}

// read gathers the current state and computes the change list without any
// write request. Independent reads run concurrently.
func (r *runner) read(ctx context.Context, ak *authentik.Client, g *gh.Client) (*state, error) {
	in := r.in
	repo, err := gh.ParseRepo(in.DeploymentRepository)
	if err != nil {
		return nil, err
	}
	st := &state{repo: repo}

	// One concurrent round of reads: none of them depends on another. The
	// authentik reads run now, and the plan is computed once config.json
	// has given the redirect URI. An empty base-branch means the default
	// branch, which the contents API and the pull request filter accept.
	st.akDesired = authentik.Desired{
		ApplicationName:   in.ApplicationName,
		ApplicationSlug:   in.ApplicationSlug,
		ApplicationGroup:  in.ApplicationGroup,
		ProviderName:      in.ProviderName,
		AuthorizationFlow: in.AuthorizationFlow,
		InvalidationFlow:  in.InvalidationFlow,
		SigningKey:        in.SigningKey,
		AllowedGroups:     in.AllowedGroups,
		ClaimGroups:       append(append([]string(nil), in.AdminGroups...), in.RequiredGroups...),
		LaunchURL:         in.MeshCentralURL.String() + "/",
	}
	var (
		wg                                                            sync.WaitGroup
		repoErr, envErr, akErr, fileErr, idErr, secErr, varErr, prErr error
		found                                                         bool
	)
	wg.Go(func() { st.repoInfo, repoErr = g.Repository(ctx, repo) })
	ref := r.configRef()
	st.fromPullHead = ref != in.BaseBranch
	wg.Go(func() { st.original, found, fileErr = g.ReadFile(ctx, repo, ref, in.ConfigPath) })
	if in.SecretsEnvironment != "" {
		wg.Go(func() { envErr = g.Environment(ctx, repo, in.SecretsEnvironment) })
	}
	wg.Go(func() { st.akPlan, akErr = ak.Read(ctx, st.akDesired) })
	wg.Go(func() {
		st.idSecret.exists, idErr = g.SecretExists(ctx, repo, in.SecretsEnvironment, in.ClientIDSecretName)
	})
	wg.Go(func() {
		st.secret.exists, secErr = g.SecretExists(ctx, repo, in.SecretsEnvironment, in.ClientSecretSecretName)
	})
	wg.Go(func() {
		st.fpVariable, st.fpFound, varErr = g.Variable(ctx, repo, in.SecretsEnvironment, FingerprintVariableName(in.ClientSecretSecretName))
	})
	wg.Go(func() {
		st.openPull, st.hasPull, prErr = g.FindPullRequest(ctx, repo, in.BaseBranch, in.PullRequestBranch)
	})
	wg.Wait()
	// Errors that come from an input get the input's name and fix.
	if envErr != nil && errors.Is(envErr, gh.ErrEnvironmentNotFound) {
		envErr = fmt.Errorf("input secrets-environment has invalid value %q: %w", in.SecretsEnvironment, envErr)
	}
	if fileErr != nil && in.BaseBranch != "" && repoErr == nil && strings.Contains(fileErr.Error(), "not found") {
		fileErr = fmt.Errorf("input base-branch has invalid value %q: %w; set it to an existing branch of %s, or leave it empty for the default branch", in.BaseBranch, fileErr, repo)
	}
	// The repository error comes first: a repository the token cannot see
	// makes every other GitHub read fail too.
	if err := firstError(repoErr, envErr, akErr, fileErr, idErr, secErr, varErr, prErr); err != nil {
		return nil, err
	}
	if in.Mode == inputs.ModeApply && st.repoInfo.CanPush != nil && !*st.repoInfo.CanPush {
		return nil, fmt.Errorf("the github-token cannot push to %s, so apply could not commit config.json: grant the GitHub App or fine-grained token \"Contents: read and write\" on this repository", repo)
	}
	st.base = in.BaseBranch
	if st.base == "" {
		st.base = st.repoInfo.DefaultBranch
	}
	// The open pull request's config.json shows whether it already carries
	// the change. Only runs with an open pull request send this request.
	if st.hasPull && st.openPull.HeadSHA != "" && !st.fromPullHead {
		content, ok, err := g.ReadFile(ctx, repo, st.openPull.HeadSHA, in.ConfigPath)
		if err != nil {
			return nil, err
		}
		if ok {
			st.pullContent = content
		}
	}
	if st.hasPull && st.openPull.Base != st.base {
		return nil, fmt.Errorf("pull request #%d from %q targets %q, not %q: close it, or set base-branch to %q", st.openPull.Number, in.PullRequestBranch, st.openPull.Base, st.base, st.openPull.Base)
	}
	if !found && st.fromPullHead {
		return nil, fmt.Errorf("config-path %q not found at the head of pull request #%d of %s: the pull request removes or moves config.json; set config-path to its new location", in.ConfigPath, r.pullRequestNumber(), repo)
	}
	if !found {
		return nil, fmt.Errorf("config-path %q not found on branch %q of %s: set config-path to the location of MeshCentral's config.json, or base-branch to the branch that has it", in.ConfigPath, st.base, repo)
	}
	if st.base == in.PullRequestBranch {
		return nil, fmt.Errorf("input pull-request-branch has invalid value %q: it is the base branch; choose another branch", in.PullRequestBranch)
	}

	redirect, warnings, err := meshconfig.RedirectURI(st.original, in.MeshCentralURL, in.MeshCentralDomain)
	if err != nil {
		return nil, withPath(in.ConfigPath, err)
	}
	st.redirect = redirect
	st.akDesired.RedirectURI = redirect
	for _, w := range warnings {
		st.list.Warn(w)
	}
	// The launch URL is the domain's root, which the redirect URI's path
	// gives: a named domain without its own dns name lives under /<domain>/.
	launch := strings.TrimSuffix(redirect, "auth-oidc-callback")
	st.akDesired.LaunchURL = launch
	st.akPlan.Compute(redirect, launch)
	for _, w := range st.akPlan.Warnings {
		st.list.Warn(w)
	}
	mask(r.gha, st.akPlan.ClientSecret)

	if in.RotateClientSecret && st.akPlan.ProviderExists {
		// Rotation writes GitHub first and puts the previous secret back if
		// authentik rejects the new one, so the previous secret must be known.
		if st.akPlan.ClientSecret == "" {
			return nil, fmt.Errorf("rotate the client secret of authentik provider %q: authentik did not return the current secret, so it could not be restored if the rotation failed; give the token's user permission to change OAuth2 providers", in.ProviderName)
		}
		st.newSecret, err = generateSecret(r.env.Rand)
		if err != nil {
			return nil, err
		}
		mask(r.gha, st.newSecret)
	}

	st.list.Add(st.akPlan.Changes...)
	if st.newSecret != "" {
		st.list.Add(change.Entry{Kind: "authentik provider", Name: in.ProviderName, Field: "client_secret", Action: change.Update, Sensitive: true})
	}
	if err := r.checkDomains(st); err != nil {
		return nil, err
	}
	r.planSecrets(st)
	if err := r.planConfig(st, st.akPlan.ClientID); err != nil {
		return nil, err
	}
	r.planPull(st)
	return st, nil
}

// effectiveSecret is the client secret authentik will hold after apply.
func (st *state) effectiveSecret() string {
	if st.newSecret != "" {
		return st.newSecret
	}
	return st.akPlan.ClientSecret
}

// planSecrets adds the entries for the two secrets and the fingerprint
// variable, comparing the stored fingerprints with authentik's values.
func (r *runner) planSecrets(st *state) {
	fp, ok := parseFingerprint(st.fpVariable)
	st.idSecret.current = st.idSecret.exists && ok && fp.matchesID(st.akPlan.ClientID)
	st.secret.current = st.secret.exists && ok && fp.matchesSecret(st.effectiveSecret())
	if st.akPlan.ProviderExists && st.effectiveSecret() == "" {
		// authentik returns the client secret only to users who may change
		// the provider. Without it the stored secret cannot be compared, so
		// it is not reported as drift.
		st.secret.current = st.secret.exists
		st.list.Warn("authentik did not return the provider's client secret, so the stored secret was not compared; give the token's user permission to change OAuth2 providers")
	}

	target := "repository " + st.repo.String()
	if r.in.SecretsEnvironment != "" {
		target = "environment " + r.in.SecretsEnvironment + " of " + st.repo.String()
	}
	for _, s := range []struct {
		name  string
		state secretState
	}{{r.in.ClientIDSecretName, st.idSecret}, {r.in.ClientSecretSecretName, st.secret}} {
		e := change.Entry{Kind: kindSecret, Name: s.name, Field: target, Sensitive: true, Action: change.None}
		switch {
		case !s.state.exists:
			e.Action = change.Create
		case !s.state.current:
			e.Action = change.Update
		}
		st.list.Add(e)
	}
	vr := change.Entry{Kind: kindVariable, Name: FingerprintVariableName(r.in.ClientSecretSecretName), Field: target, Sensitive: true, Action: change.None}
	switch {
	case !st.fpFound:
		vr.Action = change.Create
	case !st.idSecret.current || !st.secret.current:
		vr.Action = change.Update
	}
	st.list.Add(vr)
}

// desiredConfig is the oidc block for a client ID and secret.
func (r *runner) desiredConfig(st *state, clientID, secret string) meshconfig.Desired {
	in := r.in
	value := in.Placeholder()
	if in.ClientSecretInConfig == "inline" {
		value = secret
	}
	return meshconfig.Desired{
		Domain:                 in.MeshCentralDomain,
		Issuer:                 st.akPlan.Issuer,
		ClientID:               clientID,
		ClientSecret:           value,
		RedirectURI:            st.redirect,
		NewAccounts:            in.NewAccounts,
		AdminGroups:            in.AdminGroups,
		RequiredGroups:         in.RequiredGroups,
		SyncGroups:             in.SyncGroups,
		GroupsSet:              in.GroupsSet(),
		KnownSecretPlaceholder: in.Placeholder(),
	}
}

// editConfig edits config.json in memory for a client ID.
func (r *runner) editConfig(st *state, clientID string) (*meshconfig.Result, error) {
	edit, err := meshconfig.Edit(r.in.ConfigPath, st.original, r.desiredConfig(st, clientID, st.effectiveSecret()))
	if err != nil {
		return nil, withPath(r.in.ConfigPath, err)
	}
	return edit, nil
}

// planConfig edits config.json in memory and adds its entries.
func (r *runner) planConfig(st *state, clientID string) error {
	edit, err := r.editConfig(st, clientID)
	if err != nil {
		return err
	}
	st.edit = edit
	st.list.Add(edit.Changes...)
	for _, w := range edit.Warnings {
		st.list.Warn(w)
	}
	return nil
}

// configChanged reports whether the edit differs from the base branch.
func (st *state) configChanged() bool {
	return st.edit != nil && string(st.edit.Content) != string(st.original)
}

// planPull adds the pull request entry.
func (r *runner) planPull(st *state) {
	if st.fromPullHead {
		// The plan is about the triggering pull request's config.json; the
		// action's own pull request is not what it would change.
		return
	}
	e := change.Entry{Kind: kindPullRequest, Name: r.in.PullRequestBranch, Field: "into " + st.base, Action: change.None}
	switch {
	case st.configChanged() && st.hasPull && st.pullContent != nil && string(st.pullContent) == string(st.edit.Content):
		e.Before = st.openPull.URL
		e.After = "already carries the config.json change; merge it"
		// Apply and plan would write nothing for config.json, so its entries
		// are not pending for them. Check keeps them, because the base
		// branch still differs until the merge.
		if r.in.Mode != inputs.ModeCheck {
			for i := range st.list.Entries {
				if st.list.Entries[i].Kind == meshconfig.Kind {
					st.list.Entries[i].Action = change.None
				}
			}
		}
	case st.configChanged() && st.hasPull:
		e.Before = st.openPull.URL
		e.After = "updated with the config.json change"
		e.Action = change.Update
	case st.configChanged():
		e.After = "opened with the config.json change"
		e.Action = change.Create
	case st.hasPull:
		e.Before = st.openPull.URL
		e.After = "closed: config.json already matches"
		e.Action = change.Delete
	}
	st.list.Add(e)
}

func firstError(errs ...error) error {
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

// pathError points an error at a line of config.json for annotations.
type pathError struct {
	path      string
	line, col int
	err       error
}

func (e *pathError) Error() string                { return e.err.Error() }
func (e *pathError) Unwrap() error                { return e.err }
func (e *pathError) Location() (string, int, int) { return e.path, e.line, e.col }

// withPath attaches the config path (and line and column when the error
// carries them) so the error becomes a file annotation.
func withPath(path string, err error) error {
	pe := &pathError{path: path, err: err}
	if se, ok := err.(*meshconfig.SyntaxError); ok {
		pe.line, pe.col = se.Line, se.Column
	}
	return pe
}

// secretAlphabet is the character set of generated client secrets, the same
// letters and digits authentik uses for its own.
const secretAlphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"

// generateSecret returns a 128-character random client secret.
func generateSecret(rand io.Reader) (string, error) {
	buf := make([]byte, 128)
	if _, err := io.ReadFull(rand, buf); err != nil {
		return "", fmt.Errorf("generate a client secret: %w", err)
	}
	var b strings.Builder
	for _, c := range buf {
		// 256 is not a multiple of 62, so reject the top values to keep
		// every character equally likely.
		for c >= 248 {
			one := make([]byte, 1)
			if _, err := io.ReadFull(rand, one); err != nil {
				return "", fmt.Errorf("generate a client secret: %w", err)
			}
			c = one[0]
		}
		b.WriteByte(secretAlphabet[int(c)%len(secretAlphabet)])
	}
	return b.String(), nil
}

// checkDomains rejects, before any write, a named domain that config.json
// does not have, because a typo would otherwise add a new domain. It also
// rejects a run whose application or client secret placeholder another
// domain's oidc block already uses. The two domains would then compete for
// one provider's redirect URI, or render the same secret, and one of them
// could no longer sign in.
func (r *runner) checkDomains(st *state) error {
	domains, err := meshconfig.Domains(st.original)
	if err != nil {
		return nil // Edit reports syntax errors with their position
	}
	var names []string
	found := r.in.MeshCentralDomain == ""
	for _, d := range domains {
		names = append(names, strconv.Quote(d.Name))
		if strings.EqualFold(d.Name, r.in.MeshCentralDomain) {
			found = true
		}
	}
	if !found {
		sort.Strings(names)
		return fmt.Errorf("input meshcentral-domain has invalid value %q: %s has no such domain (its domains: %s); fix the name, or add the domain to config.json first",
			r.in.MeshCentralDomain, r.in.ConfigPath, strings.Join(names, ", "))
	}

	for _, d := range domains {
		switch {
		case strings.EqualFold(d.Name, r.in.MeshCentralDomain):
			continue
		case d.Issuer != "" && strings.TrimSuffix(d.Issuer, "/") == strings.TrimSuffix(st.akPlan.Issuer, "/"):
			return fmt.Errorf("input application-slug has value %q, which domain %q of %s already signs in with: set application-slug to a slug of its own for domain %q, such as %s",
				r.in.ApplicationSlug, d.Name, r.in.ConfigPath, r.in.MeshCentralDomain, "meshcentral-"+r.in.MeshCentralDomain)
		case d.ClientSecret == r.in.Placeholder():
			return fmt.Errorf("input client-secret-secret-name has value %q, which domain %q of %s already uses for its own client: set client-id-secret-name and client-secret-secret-name to names of their own for domain %q, such as %s",
				r.in.ClientSecretSecretName, d.Name, r.in.ConfigPath, r.in.MeshCentralDomain, inputs.DefaultSecretName(r.in.MeshCentralDomain, "CLIENT_SECRET"))
		}
	}
	return nil
}

// configRef is the ref config.json is read from. On a pull_request event in
// plan mode it is the pull request's head, so the plan shows what apply
// would do once the pull request is merged. Otherwise it is base-branch,
// which is empty for the default branch.
func (r *runner) configRef() string {
	if r.in.Mode != inputs.ModePlan || !strings.HasPrefix(r.ghctx.EventName, "pull_request") ||
		!strings.EqualFold(r.in.DeploymentRepository, r.ghctx.Repository) {
		return r.in.BaseBranch
	}
	pr, _ := r.ghctx.Event["pull_request"].(map[string]any)
	head, _ := pr["head"].(map[string]any)
	if sha, _ := head["sha"].(string); sha != "" {
		return sha
	}
	return r.in.BaseBranch
}
