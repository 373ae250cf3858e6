package action

import (
	"context"
	"fmt"
	"strings"

	"github.com/meshauth/meshcentral-authentik-action/internal/authentik"
	"github.com/meshauth/meshcentral-authentik-action/internal/change"
	"github.com/meshauth/meshcentral-authentik-action/internal/gh"
)

// apply makes the writes in an order that the next run can repair from any
// crash point:
//
//  1. authentik: provider, application, bindings. The client ID and secret
//     are generated before the create, so a crash after it leaves objects
//     the next run adopts by slug and name.
//  2. GitHub secrets, then the fingerprint variable. A crash between the two
//     leaves a stale fingerprint, so the next run writes both secrets again.
//  3. The config.json pull request, last, so it never points at credentials
//     that are not stored yet.
//
// With rotate-client-secret the new secret goes to GitHub first and to
// authentik second; when authentik rejects it, the old secret is put back.
func (r *runner) apply(ctx context.Context, ak *authentik.Client, g *gh.Client, st *state) error {
	r.logList(st)
	res := outcome{clientID: st.akPlan.ClientID, providerPK: st.akPlan.ProviderPK, operation: "none"}
	changed := false

	r.gha.Group("Apply: authentik")
	if hasPending(st.list, "authentik provider", "authentik application", "authentik policy binding") {
		out, err := ak.Apply(ctx, st.akPlan)
		if err != nil {
			r.gha.EndGroup()
			return err
		}
		mask(r.gha, out.ClientSecret)
		res.clientID, res.providerPK = out.ClientID, out.ProviderPK
		st.akPlan.ClientSecret = out.ClientSecret
		changed = changed || out.Changed
		r.gha.Noticef("authentik provider %q and application %q are in place (provider %d).", r.in.ProviderName, r.in.ApplicationSlug, out.ProviderPK)
	} else {
		r.gha.Infof("authentik already matches.")
	}
	r.gha.EndGroup()

	r.gha.Group("Apply: GitHub secrets")
	if st.newSecret != "" {
		if err := r.rotate(ctx, ak, g, st, res); err != nil {
			r.gha.EndGroup()
			return err
		}
		res.rotated = true
		changed = true
	} else if !st.idSecret.current || !st.secret.current || !st.fpFound {
		if err := r.writeSecrets(ctx, g, st, res.clientID, st.akPlan.ClientSecret, !st.idSecret.current, !st.secret.current); err != nil {
			r.gha.EndGroup()
			return err
		}
		changed = true
	} else {
		r.gha.Infof("Secrets %s and %s are current.", r.in.ClientIDSecretName, r.in.ClientSecretSecretName)
	}
	r.gha.EndGroup()

	r.gha.Group("Apply: config.json pull request")
	// The edit is computed again with the values authentik now holds: a
	// concurrent run may have created the provider first, and a rotation
	// changes an inline secret.
	edit, err := r.editConfig(st, res.clientID)
	if err != nil {
		r.gha.EndGroup()
		return err
	}
	st.edit = edit
	op, err := r.applyPull(ctx, g, st, &res)
	r.gha.EndGroup()
	if err != nil {
		return err
	}
	res.operation = op
	changed = changed || op != "none"

	res.changed = changed
	r.report(st, res, changed, false)
	return nil
}

// hasPending reports whether any entry of the given kinds needs a write.
func hasPending(l change.List, kinds ...string) bool {
	for _, e := range l.Pending() {
		for _, k := range kinds {
			if e.Kind == k {
				return true
			}
		}
	}
	return false
}

// writeSecrets stores the client ID and secret as needed, then the
// fingerprint of both.
func (r *runner) writeSecrets(ctx context.Context, g *gh.Client, st *state, id, secret string, writeID, writeSecret bool) error {
	env := r.in.SecretsEnvironment
	if writeID {
		if err := g.PutSecret(ctx, st.repo, env, r.in.ClientIDSecretName, id); err != nil {
			return err
		}
	}
	if writeSecret {
		if err := g.PutSecret(ctx, st.repo, env, r.in.ClientSecretSecretName, secret); err != nil {
			return err
		}
	}
	fp, err := newFingerprint(r.env.Rand, id, secret)
	if err != nil {
		return err
	}
	if err := g.PutVariable(ctx, st.repo, env, FingerprintVariableName(r.in.ClientSecretSecretName), fp); err != nil {
		return err
	}
	r.gha.Noticef("Stored the client credentials in secrets %s and %s.", r.in.ClientIDSecretName, r.in.ClientSecretSecretName)
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
		if rbErr := r.writeSecrets(ctx, g, st, res.clientID, old, false, true); rbErr != nil {
			return fmt.Errorf("rotate the client secret: authentik rejected the new secret (%v), and putting the previous secret back in GitHub also failed (%v): run again to repair", err, rbErr)
		}
		return fmt.Errorf("rotate the client secret: authentik rejected the new secret, so the previous secret was put back in GitHub: %w", err)
	}
	st.akPlan.ClientSecret = st.newSecret
	r.gha.Noticef("Rotated the client secret; deploy MeshCentral with the new %s.", r.in.ClientSecretSecretName)
	return nil
}

// applyPull opens or updates the pull request, or closes one that is no
// longer needed.
func (r *runner) applyPull(ctx context.Context, g *gh.Client, st *state, res *outcome) (string, error) {
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
	pr, err := g.EnsurePullRequest(ctx, st.repo, gh.PullRequestSpec{
		Base:          st.base,
		Branch:        r.in.PullRequestBranch,
		Path:          r.in.ConfigPath,
		Content:       st.edit.Content,
		CommitMessage: r.commitMessage(st),
		Title:         r.in.PullRequestTitle,
		Body:          r.pullBody(st),
		Labels:        r.in.PullRequestLabels,
	})
	if err != nil {
		return "", err
	}
	res.pullNumber, res.pullURL = pr.Number, pr.URL
	if pr.Operation != "none" {
		r.gha.Noticef("Pull request #%d %s: %s", pr.Number, pr.Operation, pr.URL)
	}
	return pr.Operation, nil
}

func (r *runner) commitMessage(st *state) string {
	domain := "the default domain"
	if r.in.MeshCentralDomain != "" {
		domain = "domain " + r.in.MeshCentralDomain
	}
	return fmt.Sprintf("Sign in to MeshCentral %s with authentik\n\n"+
		"Points the oidc strategy of %s at authentik application %q\n"+
		"with the redirect URI %s. The client secret is\n"+
		"read from %s at deploy time.\n",
		domain, r.in.ConfigPath, r.in.ApplicationSlug, st.redirect, r.in.ClientSecretSecretName)
}

// pullBody is the pull request description: what changes and why. It never
// contains a secret, because sensitive entries carry no values.
func (r *runner) pullBody(st *state) string {
	var cfg change.List
	for _, e := range st.list.Entries {
		if e.Kind == "config.json" {
			cfg.Add(e)
		}
	}
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
