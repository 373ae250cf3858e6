package action

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/meshauth/meshcentral-authentik-action/internal/change"
	"github.com/meshauth/meshcentral-authentik-action/internal/gh"
)

// commentMarker finds the sticky plan comment. It is matched by this hidden
// marker, never by author, because App tokens and personal tokens comment
// as different users.
const commentMarker = "<!-- meshcentral-authentik:plan -->"

// commentLimit is GitHub's maximum comment length (65,536 characters), less
// a margin for the marker line.
const commentLimit = 65000

// plan reports the change list; on pull_request events it also posts it as
// the sticky comment. No other write request is made.
func (r *runner) plan(ctx context.Context, g *gh.Client, st *state) error {
	r.logList(st)
	res := outcome{clientID: existingID(st), providerPK: st.akPlan.ProviderPK, operation: "none", changed: st.list.Changed()}
	if st.hasPull {
		res.pullNumber, res.pullURL = st.openPull.Number, st.openPull.URL
	}
	r.report(st, res, st.list.Changed(), st.list.Changed())
	r.comment(ctx, g, st.repo, r.markdown(st, "Plan"))
	return nil
}

// check reports drift: any difference between the desired state and
// authentik, the secrets or config.json on the base branch.
func (r *runner) check(st *state) error {
	r.logList(st)
	drift := st.list.Changed()
	res := outcome{clientID: existingID(st), providerPK: st.akPlan.ProviderPK, operation: "none"}
	if st.hasPull {
		res.pullNumber, res.pullURL = st.openPull.Number, st.openPull.URL
	}
	r.report(st, res, drift, drift)
	if !drift {
		r.gha.Infof("No drift.")
		return nil
	}
	var items []string
	for _, e := range st.list.Pending() {
		items = append(items, strings.TrimSpace(e.Kind+" "+e.Name+" "+e.Field))
	}
	msg := fmt.Sprintf("drift found in %d item(s): %s; run the action in apply mode to repair", len(items), strings.Join(items, "; "))
	if !r.in.FailOnDrift {
		r.gha.Warningf("%s", msg)
		return nil
	}
	return errors.New(msg)
}

// existingID returns the client ID only when the provider exists, so plan
// and check never print an ID that authentik does not hold yet.
func existingID(st *state) string {
	if st.akPlan.ProviderExists {
		return st.akPlan.ClientID
	}
	return ""
}

func (r *runner) logList(st *state) {
	r.gha.Group("Change list")
	for _, line := range strings.Split(strings.TrimRight(st.list.Text(), "\n"), "\n") {
		r.gha.Infof("%s", line)
	}
	r.gha.EndGroup()
}

// markdown renders the change list for the job summary and the comment.
func (r *runner) markdown(st *state, title string) string {
	domain := "the default domain"
	if r.in.MeshCentralDomain != "" {
		domain = "domain `" + r.in.MeshCentralDomain + "`"
	}
	intro := fmt.Sprintf("MeshCentral (%s, `%s`) signing in through authentik application `%s`; redirect URI `%s`.",
		domain, r.in.ConfigPath, r.in.ApplicationSlug, st.redirect)
	var notes []string
	if st.edit != nil {
		notes = st.edit.Notes
	}
	return st.list.Markdown(change.MarkdownOptions{
		Title:  fmt.Sprintf("meshcentral-authentik %s: %s", strings.ToLower(title), st.list.Summary()),
		Intro:  intro,
		Notes:  notes,
		MaxLen: commentLimit,
	})
}

// comment posts or updates the sticky comment on pull_request events. A
// token that cannot comment (pull requests from forks get a read-only token)
// is reported in the summary and does not fail the run.
func (r *runner) comment(ctx context.Context, g *gh.Client, repo gh.Repo, body string) {
	number := r.pullRequestNumber()
	if number == 0 {
		return
	}
	op, err := g.UpsertComment(ctx, repo, number, commentMarker, commentMarker+"\n"+body)
	if err != nil {
		r.gha.Warningf("could not post the plan on pull request #%d (%s); the plan is in the job summary. Pull requests from forks get a token that cannot comment.", number, err)
		r.gha.AddStepSummary(fmt.Sprintf("\n> The plan could not be posted on pull request #%d: %s\n", number, err))
		return
	}
	r.gha.Infof("Plan comment on pull request #%d: %s.", number, op)
}

// pullRequestNumber returns the pull request of a pull_request or
// pull_request_target event, or 0.
func (r *runner) pullRequestNumber() int {
	if !strings.HasPrefix(r.ghctx.EventName, "pull_request") {
		return 0
	}
	if pr, ok := r.ghctx.Event["pull_request"].(map[string]any); ok {
		if n, ok := pr["number"].(float64); ok {
			return int(n)
		}
	}
	if n, ok := r.ghctx.Event["number"].(float64); ok {
		return int(n)
	}
	return 0
}

// planError shows an error that stops the plan in the summary and, on pull
// requests, in the sticky comment, so the author sees it where the plan
// would have been.
func (r *runner) planError(ctx context.Context, g *gh.Client, err error) {
	body := fmt.Sprintf("### meshcentral-authentik plan: error\n\nNo plan could be made, and nothing would be changed:\n\n```\n%s\n```\n", err)
	r.gha.AddStepSummary(body)
	r.gha.SetOutput("summary", body)
	repo, perr := gh.ParseRepo(r.in.DeploymentRepository)
	if perr != nil {
		return
	}
	r.comment(ctx, g, repo, body)
}
