package action

import (
	"fmt"
	"strconv"
)

// outcome is the result of a run (or, in plan and check, the expected
// result), as the outputs report it.
type outcome struct {
	clientID   string
	providerPK int32
	operation  string
	pullNumber int
	pullURL    string
	rotated    bool
	changed    bool
}

// report sets every output and writes the job summary. The client secret
// is never an output.
func (r *runner) report(st *state, res outcome, changed, drift bool) {
	title := map[string]string{"apply": "Applied", "plan": "Plan", "check": "Drift check"}[r.in.Mode]
	md := r.markdown(st, title)

	r.gha.SetOutput("client-id", res.clientID)
	r.gha.SetOutput("issuer", st.akPlan.Issuer)
	r.gha.SetOutput("redirect-uri", st.redirect)
	if res.providerPK != 0 {
		r.gha.SetOutput("provider-id", strconv.Itoa(int(res.providerPK)))
	} else {
		r.gha.SetOutput("provider-id", "")
	}
	r.gha.SetOutput("application-slug", r.in.ApplicationSlug)
	r.gha.SetOutput("changed", strconv.FormatBool(changed))
	r.gha.SetOutput("drift", strconv.FormatBool(drift))
	if res.pullNumber != 0 {
		r.gha.SetOutput("pull-request-number", strconv.Itoa(res.pullNumber))
	} else {
		r.gha.SetOutput("pull-request-number", "")
	}
	r.gha.SetOutput("pull-request-url", res.pullURL)
	r.gha.SetOutput("pull-request-operation", res.operation)
	r.gha.SetOutput("client-secret-rotated", strconv.FormatBool(res.rotated))
	r.gha.SetOutput("summary", md)
	r.gha.AddStepSummary(md)

	switch {
	case r.in.Mode == "apply" && changed:
		r.gha.Infof("Done: %s. Pull request: %s.", st.list.Summary(), orNone(res.pullURL, res.operation))
	case r.in.Mode == "apply":
		r.gha.Infof("Done: nothing to change.")
	default:
		r.gha.Infof("%s: %s.", title, st.list.Summary())
	}
}

func orNone(url, op string) string {
	switch {
	case url == "":
		return "none"
	case op == "none":
		return url + " (up to date)"
	}
	return fmt.Sprintf("%s (%s)", url, op)
}
