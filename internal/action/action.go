// Package action runs the four modes of the action (apply, plan, check and
// render). It is the only package that imports the others: the adapters for
// authentik, GitHub and config.json each turn desired state into change
// entries, and this package decides the order of the writes.
package action

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/sethvargo/go-githubactions"

	"github.com/meshauth/meshcentral-authentik-action/internal/inputs"
)

// Env is everything a run takes from its process, injected so tests and the
// demo can run the action in-process.
type Env struct {
	Getenv func(string) string
	Args   []string
	// Stdout receives workflow commands and the log.
	Stdout io.Writer
	// Stderr receives --help and --version output.
	Stderr io.Writer
	// HTTPClient, when set, is used for both APIs instead of clients built
	// from the inputs (the demo passes one that trusts its fakes).
	HTTPClient *http.Client
	// Rand is the source of generated secrets and salts; crypto/rand when nil.
	Rand io.Reader
	// Version is printed by --version and sent in the User-Agent header.
	Version string
	// RetryBaseDelay, when positive, replaces the retry transport's first
	// backoff ceiling, so fault tests need not wait half a second per retry.
	RetryBaseDelay time.Duration
}

// ErrReported is wrapped by errors that Run has already written to the log
// as a workflow error, so main only sets the exit code.
var ErrReported = errors.New("reported")

// Run executes one run of the action. It returns nil on success, and an
// error wrapping ErrReported after writing it to the log otherwise;
// inputs.ErrHelp and inputs.ErrVersion are returned unwrapped.
func Run(ctx context.Context, env Env) error {
	if env.Getenv == nil {
		env.Getenv = os.Getenv
	}
	if env.Rand == nil {
		env.Rand = rand.Reader
	}
	if env.Stderr == nil {
		env.Stderr = io.Discard
	}
	local, err := newLocalFiles(env.Getenv)
	if err != nil {
		return err
	}
	defer local.remove()
	defer local.printOutputs(env.Stdout)
	env.Getenv = local.getenv(env.Getenv)
	gha := githubactions.New(githubactions.WithGetenv(env.Getenv), githubactions.WithWriter(env.Stdout))

	raw, err := inputs.Raw(env.Getenv, env.Args, env.Stderr)
	if errors.Is(err, inputs.ErrVersion) {
		fmt.Fprintf(env.Stderr, "meshcentral-authentik %s\n", env.Version)
		return err
	}
	if err != nil {
		if errors.Is(err, inputs.ErrHelp) {
			return err
		}
		gha.Errorf("%s", err)
		return fmt.Errorf("%w: %v", ErrReported, err)
	}
	// Mask secret inputs before anything can print them, valid or not.
	for _, s := range inputs.Specs {
		if s.Secret {
			mask(gha, raw[s.Name])
		}
	}

	ghctx, err := gha.Context()
	if err != nil {
		gha.Errorf("read the workflow context: %s", err)
		return fmt.Errorf("%w: %v", ErrReported, err)
	}
	in, err := inputs.Parse(raw, inputs.Context{Repository: ghctx.Repository})
	if err != nil {
		for _, e := range unjoin(err) {
			gha.WithFieldsMap(map[string]string{"title": "Invalid input"}).Errorf("%s", e)
		}
		gha.Errorf("nothing was changed: fix the inputs above and run again")
		return fmt.Errorf("%w: %v", ErrReported, err)
	}

	r := &runner{env: env, gha: gha, in: in, ghctx: ghctx}
	if in.Mode == inputs.ModeRender {
		err = r.render()
	} else {
		err = r.remote(ctx)
	}
	if err != nil {
		r.fail(err)
		return fmt.Errorf("%w: %v", ErrReported, err)
	}
	return nil
}

// unjoin returns the errors an errors.Join produced, or err alone.
func unjoin(err error) []error {
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		return j.Unwrap()
	}
	return []error{err}
}

// mask asks the runner to hide a secret and its common encodings in the
// log. Each line is masked on its own, because the runner matches per line.
func mask(gha *githubactions.Action, secret string) {
	if strings.TrimSpace(secret) == "" {
		return
	}
	for _, line := range strings.Split(secret, "\n") {
		line = strings.TrimSpace(line)
		if line == "" {
			continue
		}
		gha.AddMask(line)
		gha.AddMask(base64.StdEncoding.EncodeToString([]byte(line)))
		gha.AddMask(base64.URLEncoding.EncodeToString([]byte(line)))
		gha.AddMask(base64.RawStdEncoding.EncodeToString([]byte(line)))
	}
}

// runner carries one run's state between its steps.
type runner struct {
	env   Env
	gha   *githubactions.Action
	in    *inputs.Inputs
	ghctx *githubactions.GitHubContext
}

// fail writes the run's error as a workflow error, with a file annotation
// when the error points into config.json.
func (r *runner) fail(err error) {
	fields := map[string]string{"title": "meshcentral-authentik " + r.in.Mode + " failed"}
	var loc interface{ Location() (string, int, int) }
	if errors.As(err, &loc) {
		file, line, col := loc.Location()
		fields["file"] = file
		if line > 0 {
			fields["line"] = fmt.Sprint(line)
			fields["col"] = fmt.Sprint(col)
		}
	}
	r.gha.WithFieldsMap(fields).Errorf("%s", err)
}
