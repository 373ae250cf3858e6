package action

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/meshauth/meshcentral-authentik-action/internal/authentik"
	"github.com/meshauth/meshcentral-authentik-action/internal/change"
	"github.com/meshauth/meshcentral-authentik-action/internal/gh"
)

// apply makes the writes so that the next run can repair from any crash
// point. The client ID and secret of a new provider are generated before
// anything is written, so three chains can run at once:
//
//   - authentik: provider, application, bindings. A crash leaves objects the
//     next run adopts by slug and name.
//   - GitHub secrets, then the fingerprint variable, once authentik has
//     accepted the provider write. A crash between them leaves a stale
//     fingerprint, so the next run writes both secrets again.
//   - the pull request's tree and commit objects, which no branch points at
//     yet, so they change nothing visible.
//
// Only when all three have succeeded does the branch move and the pull
// request open, so a pull request never points at credentials that are not
// stored. With rotate-client-secret the new secret goes to GitHub first and
// to authentik second; when authentik rejects it, the old secret is put back.
func (r *runner) apply(ctx context.Context, ak *authentik.Client, g *gh.Client, st *state) error {
	r.logList(st)
	if st.akPlan.ProviderExists && st.effectiveSecret() == "" && !st.secret.current {
		return fmt.Errorf("authentik did not return the client secret of provider %q, so it cannot be stored in %s: give the token's user permission to change OAuth2 providers", r.in.ProviderName, r.in.ClientSecretSecretName)
	}
	res := outcome{clientID: st.akPlan.ClientID, providerPK: st.akPlan.ProviderPK, operation: "none"}
	planned := credentials{st.akPlan.ClientID, st.effectiveSecret()}

	var (
		wg                     sync.WaitGroup
		akErr, secErr, prepErr error
		akOut                  *authentik.Result
		prep                   *gh.PreparedCommit
		secretsWritten         bool
	)
	// The secrets wait until authentik has accepted the provider write, so a
	// token that may read but not write authentik fails the run before
	// anything reaches GitHub. The tree and commit objects need no wait:
	// no branch points at them yet.
	var (
		gate       = make(chan struct{})
		gateOnce   sync.Once
		providerOK atomic.Bool
	)
	openGate := func() { gateOnce.Do(func() { close(gate) }) }
	if st.akPlan.Pending() {
		st.akPlan.AfterProvider = func() {
			providerOK.Store(true)
			openGate()
		}
		wg.Go(func() {
			akOut, akErr = ak.Apply(ctx, st.akPlan)
			openGate()
		})
	} else {
		providerOK.Store(true)
		openGate()
	}
	switch {
	case st.newSecret != "":
		wg.Go(func() {
			if <-gate; !providerOK.Load() {
				return
			}
			secErr = r.rotate(ctx, ak, g, st, res)
			secretsWritten = secErr == nil
		})
	case !st.idSecret.current || !st.secret.current || !st.fpFound:
		wg.Go(func() {
			// Reading the public key is no write, so it need not wait.
			if secErr = g.LoadPublicKey(ctx, st.repo, r.in.SecretsEnvironment); secErr != nil {
				return
			}
			if <-gate; !providerOK.Load() {
				return
			}
			secErr = r.writeSecrets(ctx, g, st, planned.id, planned.secret, !st.idSecret.current, !st.secret.current)
			secretsWritten = secErr == nil
		})
	}
	if st.configChanged() {
		wg.Go(func() { prep, prepErr = g.PreparePullRequest(ctx, st.repo, r.pullSpec(st)) })
	}
	wg.Wait()
	if err := firstError(akErr, secErr, prepErr); err != nil {
		// A rotation that went through stays done even when another write
		// failed, and a deploy job waits for this output to ship it.
		if st.newSecret != "" && secretsWritten {
			r.gha.SetOutput("client-secret-rotated", "true")
			r.gha.SetOutput("changed", "true")
			return fmt.Errorf("%w (the client secret was rotated in authentik and GitHub all the same; deploy it)", err)
		}
		return err
	}

	changed := secretsWritten
	if akOut != nil {
		mask(r.gha, akOut.ClientSecret)
		res.clientID, res.providerPK = akOut.ClientID, akOut.ProviderPK
		changed = changed || akOut.Changed
		r.gha.Noticef("authentik provider %q and application %q are in place (provider %d).", r.in.ProviderName, r.in.ApplicationSlug, akOut.ProviderPK)
		// Other credentials than planned mean a concurrent run created the
		// provider first and this run adopted it.
		if got := (credentials{akOut.ClientID, akOut.ClientSecret}); got != planned && st.newSecret == "" {
			var err error
			if prep, err = r.adoptCredentials(ctx, g, st, got); err != nil {
				return err
			}
			changed = true
		}
	}

	r.gha.Group("Apply: config.json pull request")
	op, err := r.publishPull(ctx, g, st, prep, &res)
	r.gha.EndGroup()
	if err != nil {
		return err
	}
	res.operation = op
	// A deploy must follow whenever the stored client secret changed value:
	// a rotation by this run, or a secret changed in authentik out of band
	// that this run copied to GitHub.
	res.rotated = st.newSecret != "" || (secretsWritten && st.secret.exists && !st.secret.current && st.fpFound)
	changed = changed || op != "none"
	res.changed = changed
	r.report(st, res, changed, false)
	return nil
}

// adoptCredentials handles a provider that a concurrent run created first
// and this run adopted: it stores that provider's credentials, edits
// config.json for them and prepares the pull request again.
func (r *runner) adoptCredentials(ctx context.Context, g *gh.Client, st *state, got credentials) (*gh.PreparedCommit, error) {
	r.gha.Warningf("authentik provider %q was created by a concurrent run; using its credentials.", r.in.ProviderName)
	st.akPlan.ClientID, st.akPlan.ClientSecret = got.id, got.secret
	if err := r.writeSecrets(ctx, g, st, got.id, got.secret, true, true); err != nil {
		return nil, err
	}
	edit, err := r.editConfig(st, got.id)
	if err != nil {
		return nil, err
	}
	st.edit = edit

	// The pull request body lists the config.json entries, so they must
	// name the adopted client ID, not the planned one.
	var list change.List
	for _, e := range st.list.Entries {
		if e.Kind != "config.json" {
			list.Add(e)
		}
	}
	list.Add(edit.Changes...)
	list.Warnings = st.list.Warnings
	st.list = list

	if !st.configChanged() {
		return nil, nil
	}
	return g.PreparePullRequest(ctx, st.repo, r.pullSpec(st))
}

// credentials are a client ID and secret, compared as a pair.
type credentials struct{ id, secret string }

// writeSecrets stores the client ID and secret as needed, then the
// fingerprint of both.
func (r *runner) writeSecrets(ctx context.Context, g *gh.Client, st *state, id, secret string, writeID, writeSecret bool) error {
	if (writeID && id == "") || (writeSecret && secret == "") {
		return fmt.Errorf("store the client credentials: the value for %s or %s is empty, so nothing was written", r.in.ClientIDSecretName, r.in.ClientSecretSecretName)
	}
	env := r.in.SecretsEnvironment
	var idErr, secretErr error
	var wg sync.WaitGroup
	if writeID {
		wg.Go(func() { idErr = g.PutSecret(ctx, st.repo, env, r.in.ClientIDSecretName, id) })
	}
	if writeSecret {
		wg.Go(func() { secretErr = g.PutSecret(ctx, st.repo, env, r.in.ClientSecretSecretName, secret) })
	}
	wg.Wait()
	if err := firstError(idErr, secretErr); err != nil {
		return err
	}
	fp, err := newFingerprint(r.env.Rand, id, secret)
	if err != nil {
		return err
	}
	if err := g.PutVariable(ctx, st.repo, env, FingerprintVariableName(r.in.ClientSecretSecretName), fp); err != nil {
		return err
	}
	var stored []string
	if writeID {
		stored = append(stored, r.in.ClientIDSecretName)
	}
	if writeSecret {
		stored = append(stored, r.in.ClientSecretSecretName)
	}
	if len(stored) > 0 {
		r.gha.Noticef("Stored %s in GitHub secrets.", strings.Join(stored, " and "))
	}
	return nil
}

// rotate stores the new secret in GitHub, then sets it in authentik, and
// puts the previous secret back in GitHub when authentik rejects it.
func (r *runner) rotate(ctx context.Context, ak *authentik.Client, g *gh.Client, st *state, res outcome) error {
	old := st.akPlan.ClientSecret
	if err := r.writeSecrets(ctx, g, st, res.clientID, st.newSecret, !st.idSecret.current, true); err != nil {
		return fmt.Errorf("rotate the client secret: %w", err)
	}
	if err := ak.SetClientSecret(ctx, res.providerPK, st.newSecret); err != nil {
		// A PATCH whose response was lost may have been applied: keep the new
		// secret in GitHub when authentik has it.
		if now, rdErr := ak.Plan(ctx, st.akDesired); rdErr == nil && now.ClientSecret == st.newSecret {
			r.gha.Warningf("authentik did not confirm the new client secret (%s), but reading the provider shows it in place.", err)
			st.akPlan.ClientSecret = st.newSecret
			r.gha.Noticef("Rotated the client secret; deploy MeshCentral with the new %s.", r.in.ClientSecretSecretName)
			return nil
		}
		if rbErr := r.writeSecrets(ctx, g, st, res.clientID, old, false, true); rbErr != nil {
			return fmt.Errorf("rotate the client secret: authentik rejected the new secret (%v), and putting the previous secret back in GitHub also failed (%v): run again to repair", err, rbErr)
		}
		return fmt.Errorf("rotate the client secret: authentik rejected the new secret, so the previous secret was put back in GitHub: %w", err)
	}
	st.akPlan.ClientSecret = st.newSecret
	r.gha.Noticef("Rotated the client secret; deploy MeshCentral with the new %s.", r.in.ClientSecretSecretName)
	return nil
}

// pullSpec is the pull request for the edited config.json. Searched is set
// because the read phase ran FindPullRequest with the same client.
func (r *runner) pullSpec(st *state) gh.PullRequestSpec {
	return gh.PullRequestSpec{
		Base:          st.base,
		Branch:        r.in.PullRequestBranch,
		Path:          r.in.ConfigPath,
		Content:       st.edit.Content,
		CommitMessage: r.commitMessage(st),
		Title:         r.in.PullRequestTitle,
		Body:          r.pullBody(st),
		Labels:        r.in.PullRequestLabels,
		// NOTE: the branch head is read when the pull request is prepared,
		// about a second after config.json was read. A commit to config.json
		// in between would be reverted by the pull request, which its diff
		// shows the reviewer. Checking for it would cost one request.
		BaseChecked: true,
		Searched:    true,
	}
}

// publishPull opens or updates the pull request from the prepared commit,
// or closes one that is no longer needed.
func (r *runner) publishPull(ctx context.Context, g *gh.Client, st *state, prep *gh.PreparedCommit, res *outcome) (string, error) {
	if !st.configChanged() {
		if !st.hasPull {
			r.gha.Infof("%s already matches on %s; no pull request needed.", r.in.ConfigPath, st.base)
			return "none", nil
		}
		comment := fmt.Sprintf("Closing: %s on %s already matches the desired sign-in settings.", r.in.ConfigPath, st.base)
		if err := g.ClosePullRequest(ctx, st.repo, st.openPull.Number, r.in.PullRequestBranch, comment); err != nil {
			return "", err
		}
		res.pullNumber, res.pullURL = st.openPull.Number, st.openPull.URL
		r.gha.Noticef("Closed pull request #%d: it is no longer needed.", st.openPull.Number)
		return "closed", nil
	}
	pr, err := g.PublishPullRequest(ctx, st.repo, r.pullSpec(st), prep)
	if err != nil {
		return "", err
	}
	res.pullNumber, res.pullURL = pr.Number, pr.URL
	if pr.Operation != "none" {
		r.gha.Noticef("Pull request #%d %s: %s", pr.Number, pr.Operation, pr.URL)
	} else {
		r.gha.Infof("Pull request #%d is up to date: %s", pr.Number, pr.URL)
	}
	return pr.Operation, nil
}

func (r *runner) commitMessage(st *state) string {
	domain := "MeshCentral"
	if r.in.MeshCentralDomain != "" {
		domain = "MeshCentral domain " + r.in.MeshCentralDomain
	}
	return fmt.Sprintf("Sign in to %s with authentik\n\n"+
		"Points the oidc strategy of %s at authentik application %q\n"+
		"with the redirect URI %s. The client secret is\n"+
		"read from %s at deploy time.\n",
		domain, r.in.ConfigPath, r.in.ApplicationSlug, st.redirect, r.in.ClientSecretSecretName)
}

// pullBody is the pull request description: what changes and why. It never
// contains a secret, because sensitive entries carry no values.
func (r *runner) pullBody(st *state) string {
	// The edit's own entries compare with the base branch, whatever the
	// change list reports about an open pull request, so the body stays the
	// same from run to run.
	var cfg change.List
	cfg.Add(st.edit.Changes...)
	cfg.Warnings = st.list.Warnings
	var b strings.Builder
	fmt.Fprintf(&b, "This pull request makes MeshCentral sign users in through authentik application `%s` (issuer `%s`).\n\n", r.in.ApplicationSlug, st.akPlan.Issuer)
	fmt.Fprintf(&b, "The redirect URI `%s` is set explicitly in config.json and in authentik, so both sides agree whatever MeshCentral's port settings are.\n\n", st.redirect)
	if r.in.ClientSecretInConfig == "placeholder" {
		fmt.Fprintf(&b, "The client secret is not committed: config.json contains the placeholder `%s`, and the deploy job fills it in from the GitHub secret of the same name (mode `render`).\n\n", r.in.Placeholder())
	}
	b.WriteString(cfg.Markdown(change.MarkdownOptions{Title: "Changes to " + r.in.ConfigPath, Notes: st.edit.Notes, MaxLen: 60000}))
	b.WriteString("\n_Opened by the meshcentral-authentik action; later runs update this pull request._\n")
	return b.String()
}
