// Package sandbox starts the authentik and GitHub fakes together, seeded
// with a deployment repository, and builds the environment a workflow step
// would see. The demo, the end-to-end tests and the benchmark share it.
package sandbox

import (
	"crypto/x509"
	"fmt"
	"github.com/meshauth/meshcentral-authentik-action/internal/action"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/meshauth/meshcentral-authentik-action/internal/fakes/authentikfake"
	"github.com/meshauth/meshcentral-authentik-action/internal/fakes/githubfake"
)

// Defaults of a sandbox.
const (
	Owner       = "acme"
	Name        = "meshcentral-deploy"
	Repository  = Owner + "/" + Name
	Branch      = "main"
	ConfigPath  = "meshcentral-data/config.json"
	GitHubToken = "ghs_sandboxGitHubToken0123456789abcdef"
	MeshURL     = "https://mesh.example.com"
)

// Sandbox is a running pair of fakes and a directory for the runner's files.
type Sandbox struct {
	Authentik *authentikfake.Server
	GitHub    *githubfake.Server
	// Dir contains the files a step writes: GITHUB_OUTPUT,
	// GITHUB_STEP_SUMMARY and the event payload.
	Dir string
}

// Options configure Start.
type Options struct {
	// Config is the config.json committed on the default branch; no file
	// is committed when nil.
	Config []byte
	// ConfigPath is the path Config is committed at; the package's
	// ConfigPath when empty.
	ConfigPath string
	// Dir is the working directory; a new temporary one when empty.
	Dir string
}

// Start starts both fakes on 127.0.0.1 with TLS and seeds the repository.
func Start(opts Options) (*Sandbox, error) {
	ak, err := authentikfake.Start(authentikfake.Options{})
	if err != nil {
		return nil, fmt.Errorf("start the authentik fake: %w", err)
	}
	gh := githubfake.New(githubfake.Options{})
	files := map[string][]byte{"README.md": []byte("# MeshCentral deployment\n")}
	path := opts.ConfigPath
	if path == "" {
		path = ConfigPath
	}
	if opts.Config != nil {
		files[path] = opts.Config
	}
	if err := gh.AddRepository(Owner, Name, Branch, files); err != nil {
		ak.Close()
		gh.Close()
		return nil, err
	}
	gh.AddToken(GitHubToken, githubfake.FullAccess("sso-bot"))
	dir := opts.Dir
	if dir == "" {
		dir, err = os.MkdirTemp("", "meshcentral-authentik-sandbox-")
		if err != nil {
			ak.Close()
			gh.Close()
			return nil, err
		}
	}
	return &Sandbox{Authentik: ak, GitHub: gh, Dir: dir}, nil
}

// Close stops both fakes.
func (s *Sandbox) Close() {
	s.Authentik.Close()
	s.GitHub.Close()
}

// HTTPClient returns a client that trusts both fakes' certificates.
func (s *Sandbox) HTTPClient() *http.Client {
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(s.Authentik.CACertPEM)
	pool.AppendCertsFromPEM(s.GitHub.CertificatePEM())
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.TLSClientConfig.RootCAs = pool
	return &http.Client{Transport: tr}
}

// CertFile writes the GitHub fake's certificate to a file in Dir, for
// SSL_CERT_FILE of a child process.
func (s *Sandbox) CertFile() (string, error) {
	p := filepath.Join(s.Dir, "github-fake-ca.pem")
	return p, os.WriteFile(p, s.GitHub.CertificatePEM(), 0o644)
}

// Env returns the environment of a workflow step running the action with
// the given inputs (names as in action.yml) on the given event. Inputs
// override the sandbox's defaults (the fakes' URLs and tokens, and
// meshcentral-url).
func (s *Sandbox) Env(eventName string, event string, inputs map[string]string) (map[string]string, error) {
	eventPath := filepath.Join(s.Dir, "event.json")
	if event == "" {
		event = "{}"
	}
	if err := os.WriteFile(eventPath, []byte(event), 0o644); err != nil {
		return nil, err
	}
	env := map[string]string{
		"GITHUB_ACTIONS":      "true",
		"GITHUB_REPOSITORY":   Repository,
		"GITHUB_API_URL":      strings.TrimSuffix(s.GitHub.URL(), "/"),
		"GITHUB_EVENT_NAME":   eventName,
		"GITHUB_EVENT_PATH":   eventPath,
		"GITHUB_OUTPUT":       filepath.Join(s.Dir, "output"),
		"GITHUB_STEP_SUMMARY": filepath.Join(s.Dir, "summary.md"),
		"GITHUB_WORKSPACE":    s.Dir,
	}
	defaults := map[string]string{
		"authentik-url":            s.Authentik.URL,
		"authentik-token":          authentikfake.DefaultToken,
		"authentik-ca-certificate": string(s.Authentik.CACertPEM),
		"meshcentral-url":          MeshURL,
		"github-token":             GitHubToken,
	}
	for k, v := range defaults {
		env[InputVar(k)] = v
	}
	for k, v := range inputs {
		env[InputVar(k)] = v
	}
	for _, f := range []string{"output", "summary.md"} {
		if err := os.WriteFile(filepath.Join(s.Dir, f), nil, 0o644); err != nil {
			return nil, err
		}
	}
	return env, nil
}

// InputVar returns the variable the runner sets for an input.
func InputVar(name string) string {
	return "INPUT_" + strings.ToUpper(name)
}

// Outputs parses the GITHUB_OUTPUT file the run wrote.
func (s *Sandbox) Outputs() (map[string]string, error) {
	raw, err := os.ReadFile(filepath.Join(s.Dir, "output"))
	if err != nil {
		return nil, err
	}
	return action.ParseOutputFile(string(raw))
}

// Summary returns the job summary the run wrote.
func (s *Sandbox) Summary() (string, error) {
	raw, err := os.ReadFile(filepath.Join(s.Dir, "summary.md"))
	return string(raw), err
}

// Getenv returns a lookup function over env, for action.Env.
func Getenv(env map[string]string) func(string) string {
	return func(k string) string { return env[k] }
}

// Environ returns env as KEY=value lines, sorted, for exec.Cmd.
func Environ(env map[string]string) []string {
	out := make([]string, 0, len(env))
	for k, v := range env {
		out = append(out, k+"="+v)
	}
	sort.Strings(out)
	return out
}

// MergePullRequest commits the config.json of an open pull request to the
// default branch, as merging it would.
func (s *Sandbox) MergePullRequest(number int) error {
	content := s.GitHub.PullRequestFile(Repository, number, ConfigPath)
	if content == nil {
		return fmt.Errorf("pull request #%d has no %s", number, ConfigPath)
	}
	_, err := s.GitHub.CommitFile(Repository, Branch, ConfigPath, content, "Merge pull request #"+fmt.Sprint(number))
	return err
}
