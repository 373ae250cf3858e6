// Package inputs reads the action's inputs from the workflow (INPUT_*
// variables) or from command-line flags of the same names, and validates all
// of them in one place before any request is made.
package inputs

import (
	"crypto/x509"
	"encoding/pem"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/url"
	"path"
	"regexp"
	"strconv"
	"strings"
)

// Modes of a run.
const (
	ModeApply  = "apply"
	ModePlan   = "plan"
	ModeCheck  = "check"
	ModeRender = "render"
)

// Inputs are the validated inputs of one run.
type Inputs struct {
	Mode string

	AuthentikURL       *url.URL
	AuthentikToken     string
	AuthentikCACert    string
	ApplicationName    string
	ApplicationSlug    string
	ApplicationGroup   string
	ProviderName       string
	AuthorizationFlow  string
	InvalidationFlow   string
	SigningKey         string
	AllowedGroups      []string
	RotateClientSecret bool

	MeshCentralURL    *url.URL
	MeshCentralDomain string
	ConfigPath        string
	NewAccounts       bool
	AdminGroups       []string
	RequiredGroups    []string
	SyncGroups        bool

	GitHubToken            string
	DeploymentRepository   string
	BaseBranch             string
	PullRequestBranch      string
	PullRequestTitle       string
	PullRequestLabels      []string
	SecretsEnvironment     string
	ClientIDSecretName     string
	ClientSecretSecretName string
	ClientSecretInConfig   string

	FailOnDrift       bool
	RenderOutput      string
	ClientSecret      string
	AllowInsecureHTTP bool
}

// GroupsSet reports whether any group input was given, so the oidc block
// gets a groups object.
func (in *Inputs) GroupsSet() bool {
	return len(in.AdminGroups) > 0 || len(in.RequiredGroups) > 0 || in.SyncGroups
}

// Placeholder returns the text that stands for the client secret in the
// committed config.json.
func (in *Inputs) Placeholder() string {
	return "${" + in.ClientSecretSecretName + "}"
}

// Secrets returns the secret input values that were given, for masking.
func (in *Inputs) Secrets() []string {
	var out []string
	for _, s := range []string{in.AuthentikToken, in.GitHubToken, in.ClientSecret} {
		if s != "" {
			out = append(out, s)
		}
	}
	return out
}

// ErrHelp is returned by Load when --help was given; the usage has been
// written to the output.
var ErrHelp = flag.ErrHelp

// ErrVersion is returned by Load when --version was given.
var ErrVersion = errors.New("version requested")

// Raw returns the unvalidated value of every input: a flag when one was
// given, else INPUT_<NAME> (the runner's spelling, hyphens kept) or
// INPUT_<NAME> with underscores (easier to set from a shell), else the
// default.
func Raw(getenv func(string) string, args []string, usage io.Writer) (map[string]string, error) {
	fs := flag.NewFlagSet("meshcentral-authentik", flag.ContinueOnError)
	fs.SetOutput(usage)
	values := make(map[string]*string, len(Specs))
	for _, s := range Specs {
		values[s.Name] = fs.String(s.Name, "", s.Description+defaultNote(s))
	}
	version := fs.Bool("version", false, "Print the version and exit.")
	fs.Usage = func() {
		fmt.Fprintf(usage, "Usage: meshcentral-authentik [--name value ...]\n\n"+
			"Every flag can also be set as INPUT_<NAME> in the environment, as the Actions runner does.\n\n")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("unexpected argument %q: every input is a flag such as --mode plan", fs.Arg(0))
	}
	if *version {
		return nil, ErrVersion
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })

	raw := make(map[string]string, len(Specs))
	for _, s := range Specs {
		v, ok := *values[s.Name], set[s.Name]
		if !ok {
			v, ok = lookupEnv(getenv, s.Name)
		}
		if !ok {
			v = s.Default
		}
		raw[s.Name] = v
	}
	return raw, nil
}

func defaultNote(s Spec) string {
	if s.Default == "" {
		return ""
	}
	return " (default " + s.Default + ")"
}

// lookupEnv returns the input from the environment. An empty variable counts
// as unset, because the runner sets INPUT_X="" for inputs without a default
// that the workflow left out.
func lookupEnv(getenv func(string) string, name string) (string, bool) {
	upper := strings.ToUpper(name)
	for _, key := range []string{"INPUT_" + upper, "INPUT_" + strings.ReplaceAll(upper, "-", "_")} {
		if v := strings.TrimSpace(getenv(key)); v != "" {
			return v, true
		}
	}
	return "", false
}

// Context is the workflow run information from the runner; Load uses it
// for defaults such as the deployment repository.
type Context struct {
	Repository string // GITHUB_REPOSITORY
}

// Load reads and validates every input. Errors name the input, the value
// (never for secret inputs) and the fix; all of them are reported at once.
func Load(getenv func(string) string, args []string, usage io.Writer, ctx Context) (*Inputs, error) {
	raw, err := Raw(getenv, args, usage)
	if err != nil {
		return nil, err
	}
	return Parse(raw, ctx)
}

// Parse validates raw input values.
func Parse(raw map[string]string, ctx Context) (*Inputs, error) {
	p := &parser{raw: raw}
	in := &Inputs{}

	in.Mode = strings.ToLower(p.str("mode"))
	switch in.Mode {
	case ModeApply, ModePlan, ModeCheck, ModeRender:
	default:
		p.fail("mode", in.Mode, "use apply, plan, check or render")
	}
	remote := in.Mode != ModeRender

	in.AllowInsecureHTTP = p.boolean("allow-insecure-http")
	in.AuthentikToken = p.str("authentik-token")
	in.GitHubToken = p.str("github-token")
	in.ClientSecret = p.str("client-secret")
	in.ApplicationName = p.str("application-name")
	in.ApplicationSlug = p.str("application-slug")
	in.ApplicationGroup = p.str("application-group")
	in.ProviderName = p.str("provider-name")
	in.AuthorizationFlow = p.str("authorization-flow")
	in.InvalidationFlow = p.str("invalidation-flow")
	in.SigningKey = p.str("signing-key")
	in.AllowedGroups = p.list("allowed-groups")
	in.RotateClientSecret = p.boolean("rotate-client-secret")
	in.MeshCentralDomain = strings.ToLower(p.str("meshcentral-domain"))
	in.ConfigPath = p.str("config-path")
	in.NewAccounts = p.boolean("new-accounts")
	in.AdminGroups = p.list("admin-groups")
	in.RequiredGroups = p.list("required-groups")
	in.SyncGroups = p.boolean("sync-groups")
	in.DeploymentRepository = p.str("deployment-repository")
	in.BaseBranch = p.str("base-branch")
	in.PullRequestBranch = p.str("pull-request-branch")
	in.PullRequestTitle = p.str("pull-request-title")
	in.PullRequestLabels = p.list("pull-request-labels")
	in.SecretsEnvironment = p.str("secrets-environment")
	in.ClientIDSecretName = p.str("client-id-secret-name")
	in.ClientSecretSecretName = p.str("client-secret-secret-name")
	in.ClientSecretInConfig = strings.ToLower(p.str("client-secret-in-config"))
	in.FailOnDrift = p.boolean("fail-on-drift")
	in.RenderOutput = p.str("render-output")
	in.AuthentikCACert = p.str("authentik-ca-certificate")

	if in.ApplicationSlug == "" {
		in.ApplicationSlug = "meshcentral"
		if in.MeshCentralDomain != "" {
			in.ApplicationSlug = "meshcentral-" + strings.ReplaceAll(in.MeshCentralDomain, "_", "-")
		}
	}
	if in.ApplicationName == "" {
		in.ApplicationName = "MeshCentral"
		if in.MeshCentralDomain != "" {
			in.ApplicationName = "MeshCentral (" + in.MeshCentralDomain + ")"
		}
	}
	p.configPath(in.ConfigPath)
	if in.ClientIDSecretName == "" {
		in.ClientIDSecretName = DefaultSecretName(in.MeshCentralDomain, "CLIENT_ID")
	}
	if in.ClientSecretSecretName == "" {
		in.ClientSecretSecretName = DefaultSecretName(in.MeshCentralDomain, "CLIENT_SECRET")
	}
	p.secretName("client-id-secret-name", in.ClientIDSecretName)
	p.secretName("client-secret-secret-name", in.ClientSecretSecretName)
	if strings.EqualFold(in.ClientIDSecretName, in.ClientSecretSecretName) && in.ClientIDSecretName != "" {
		p.fail("client-secret-secret-name", in.ClientSecretSecretName, "use a name different from client-id-secret-name")
	}
	switch in.ClientSecretInConfig {
	case "placeholder", "inline":
	default:
		p.fail("client-secret-in-config", in.ClientSecretInConfig, "use placeholder or inline")
	}

	if in.Mode == ModeRender {
		p.required("render-output", in.RenderOutput, "set it to the path of the file to write outside the checked-in config-path, for example rendered/config.json")
		if in.RenderOutput != "" && path.Clean(in.RenderOutput) == path.Clean(in.ConfigPath) {
			p.fail("render-output", in.RenderOutput, "write the rendered file somewhere other than config-path, such as rendered/config.json, so the secret never lands in the checked-in file")
		}
		p.requiredSecret("client-secret", in.ClientSecret, "pass ${{ secrets."+in.ClientSecretSecretName+" }}")
	}
	p.domain(in.MeshCentralDomain)
	if !remote {
		return in, p.err()
	}

	in.AuthentikURL = p.url("authentik-url", in.AllowInsecureHTTP, false)
	in.MeshCentralURL = p.url("meshcentral-url", in.AllowInsecureHTTP, true)
	p.requiredSecret("authentik-token", in.AuthentikToken, "create an API token in authentik (Directory → Tokens and App passwords) and pass it from a secret")
	p.requiredSecret("github-token", in.GitHubToken, "pass a GitHub App token or a fine-grained token that may write secrets, variables, contents and pull requests")
	p.slug("application-slug", in.ApplicationSlug)
	p.slug("authorization-flow", in.AuthorizationFlow)
	p.slug("invalidation-flow", in.InvalidationFlow)
	p.required("application-name", in.ApplicationName, "give the application a name")
	if in.ProviderName == "" {
		in.ProviderName = DefaultProviderName(in.ApplicationSlug)
	}
	p.required("signing-key", in.SigningKey, "name an RSA certificate-key pair; without one authentik signs HS256 tokens that MeshCentral rejects")
	p.caCert(in.AuthentikCACert)

	if in.DeploymentRepository == "" {
		in.DeploymentRepository = ctx.Repository
	}
	p.repository(in.DeploymentRepository)
	p.branch("base-branch", in.BaseBranch)
	if in.PullRequestBranch == "" {
		in.PullRequestBranch = DefaultBranchName(in.MeshCentralDomain)
	}
	p.branch("pull-request-branch", in.PullRequestBranch)
	if in.BaseBranch != "" && in.BaseBranch == in.PullRequestBranch {
		p.fail("pull-request-branch", in.PullRequestBranch, "use a branch other than base-branch")
	}
	p.required("pull-request-title", in.PullRequestTitle, "give the pull request a title")
	if strings.ContainsAny(in.SecretsEnvironment, "/\\\n") || in.SecretsEnvironment == "." || in.SecretsEnvironment == ".." {
		p.fail("secrets-environment", in.SecretsEnvironment, "use the name of an environment of the deployment repository")
	}
	if in.Mode != ModeApply && in.RotateClientSecret {
		p.fail("rotate-client-secret", "true", "rotate only in apply mode; plan and check never write")
	}
	return in, p.err()
}

// DefaultProviderName returns the provider name used when provider-name is
// not set. A provider serves one application, so a second application (for
// another MeshCentral domain) needs a name of its own.
func DefaultProviderName(slug string) string {
	if slug == "meshcentral" {
		return "Provider for MeshCentral"
	}
	return "Provider for MeshCentral (" + slug + ")"
}

// DefaultSecretName returns the secret name used when the input is not set:
// one pair of secrets per MeshCentral domain, so that setting up a second
// domain never overwrites the first domain's credentials.
func DefaultSecretName(domain, suffix string) string {
	if domain == "" {
		return "MESHCENTRAL_OIDC_" + suffix
	}
	var b strings.Builder
	for _, r := range strings.ToUpper(domain) {
		if (r >= 'A' && r <= 'Z') || (r >= '0' && r <= '9') {
			b.WriteRune(r)
		} else {
			b.WriteByte('_')
		}
	}
	return "MESHCENTRAL_" + b.String() + "_OIDC_" + suffix
}

// DefaultBranchName returns the pull request branch used for a domain when
// pull-request-branch is not set: one branch per domain.
func DefaultBranchName(domain string) string {
	if domain == "" {
		return "meshcentral-authentik/default"
	}
	return "meshcentral-authentik/" + domain
}

// parser collects validation errors so all of them are reported together.
type parser struct {
	raw  map[string]string
	errs []error
}

// InputError is a rejected input: its name, the value (empty for secret
// inputs) and the fix.
type InputError struct {
	Input string
	Value string
	Fix   string
}

func (e *InputError) Error() string {
	if e.Value == "" {
		return fmt.Sprintf("input %s is missing: %s", e.Input, e.Fix)
	}
	return fmt.Sprintf("input %s has invalid value %q: %s", e.Input, e.Value, e.Fix)
}

func (p *parser) fail(name, value, fix string) {
	p.errs = append(p.errs, &InputError{Input: name, Value: value, Fix: fix})
}

func (p *parser) err() error { return errors.Join(p.errs...) }

func (p *parser) str(name string) string { return strings.TrimSpace(p.raw[name]) }

func (p *parser) required(name, value, fix string) {
	if value == "" {
		p.fail(name, "", fix)
	}
}

// requiredSecret checks presence without ever putting the value in an error.
func (p *parser) requiredSecret(name, value, fix string) {
	if value == "" {
		p.fail(name, "", fix)
	} else if strings.ContainsAny(value, "\r\n") {
		p.errs = append(p.errs, fmt.Errorf("input %s contains a line break: pass the secret alone, without a trailing newline", name))
	}
}

// boolean accepts the YAML 1.2 core schema spellings, as the runner's
// getBooleanInput does.
func (p *parser) boolean(name string) bool {
	v := p.str(name)
	switch v {
	case "true", "True", "TRUE":
		return true
	case "false", "False", "FALSE":
		return false
	}
	p.fail(name, v, "use true or false")
	return false
}

// list splits a value of several lines on line breaks only, so items may
// contain commas, and a one-line value on commas. It trims, and drops
// empty items and duplicates, keeping the first spelling.
func (p *parser) list(name string) []string {
	var out []string
	seen := map[string]bool{}
	v := strings.TrimSpace(p.raw[name])
	sep := func(r rune) bool { return r == ',' }
	if strings.ContainsAny(v, "\r\n") {
		sep = func(r rune) bool { return r == '\n' || r == '\r' }
	}
	for _, item := range strings.FieldsFunc(v, sep) {
		item = strings.TrimSpace(item)
		if item == "" || seen[item] {
			continue
		}
		seen[item] = true
		out = append(out, item)
	}
	return out
}

func (p *parser) url(name string, allowHTTP, noPath bool) *url.URL {
	v := p.str(name)
	if v == "" {
		p.fail(name, "", "set it to an https URL such as https://example.com")
		return nil
	}
	u, err := url.Parse(v)
	if err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") {
		p.fail(name, v, "use an absolute URL such as https://example.com")
		return nil
	}
	if u.Scheme == "http" && !allowHTTP {
		p.fail(name, v, "use https, because tokens and sign-in redirects would travel in clear; set allow-insecure-http: true only on a trusted network")
		return nil
	}
	if u.User != nil || u.RawQuery != "" || u.Fragment != "" {
		p.fail(name, v, "remove the user info, query or fragment")
		return nil
	}
	if port := u.Port(); port != "" {
		if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 {
			p.fail(name, v, "use a port from 1 to 65535, or none for 443")
			return nil
		}
	}
	u.Path = strings.TrimRight(u.Path, "/")
	if noPath && u.Path != "" {
		p.fail(name, v, "remove the path; set meshcentral-domain for a named MeshCentral domain")
		return nil
	}
	u.RawPath = ""
	u.Host = strings.ToLower(u.Host)
	return u
}

// slugPattern is Django's SlugField rule, which authentik uses for slugs.
var slugPattern = regexp.MustCompile(`^[-a-zA-Z0-9_]+$`)

func (p *parser) slug(name, v string) {
	if !slugPattern.MatchString(v) {
		p.fail(name, v, "use letters, digits, hyphens and underscores only")
	}
}

// domainPattern limits MeshCentral domain names to characters that are safe
// in a URL path segment; MeshCentral lower-cases them.
var domainPattern = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]*$`)

func (p *parser) domain(v string) {
	if v != "" && !domainPattern.MatchString(v) {
		p.fail("meshcentral-domain", v, `use a domain key of config.json's "domains" (letters, digits, hyphens, underscores), or empty for the default domain`)
	}
}

func (p *parser) configPath(v string) {
	switch {
	case v == "":
		p.fail("config-path", "", "set it to the path of config.json in the deployment repository")
	case strings.HasPrefix(v, "/") || strings.Contains(v, "\\"):
		p.fail("config-path", v, "use a path relative to the repository root with forward slashes")
	case path.Clean(v) != v || v == "." || strings.HasPrefix(v, "../") || v == "..":
		p.fail("config-path", v, "use a clean path inside the repository, without . or .. segments")
	}
}

// secretNamePattern is GitHub's rule for secret names.
var secretNamePattern = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

func (p *parser) secretName(name, v string) {
	switch {
	case !secretNamePattern.MatchString(v):
		p.fail(name, v, "use letters, digits and underscores, not starting with a digit")
	case strings.HasPrefix(strings.ToUpper(v), "GITHUB_"):
		p.fail(name, v, "GitHub reserves names starting with GITHUB_; choose another")
	}
}

// repoPattern is GitHub's rule for owner/name: owners have letters, digits
// and inner hyphens; names also '.' and '_'.
var repoPattern = regexp.MustCompile(`^[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?/[A-Za-z0-9_.-]+$`)

func (p *parser) repository(v string) {
	if v == "" {
		p.fail("deployment-repository", "", "set it to owner/name (outside Actions, GITHUB_REPOSITORY is not set)")
	} else if !repoPattern.MatchString(v) || strings.HasSuffix(v, "/.") || strings.HasSuffix(v, "/..") {
		p.fail("deployment-repository", v, "use owner/name, for example acme/meshcentral-deploy")
	}
}

// branch applies the main rules of git check-ref-format.
func (p *parser) branch(name, v string) {
	if v == "" {
		return
	}
	bad := strings.ContainsAny(v, " ~^:?*[\\\x7f") || strings.Contains(v, "..") ||
		strings.Contains(v, "@{") || strings.Contains(v, "//") ||
		strings.HasPrefix(v, "/") || strings.HasSuffix(v, "/") ||
		strings.HasSuffix(v, ".lock") || strings.HasSuffix(v, ".") || strings.HasPrefix(v, "-")
	for _, r := range v {
		if r < 0x20 {
			bad = true
		}
	}
	if bad {
		p.fail(name, v, "use a valid git branch name, such as meshcentral-authentik/default")
	}
}

func (p *parser) caCert(v string) {
	if v == "" {
		return
	}
	rest := []byte(v)
	found := 0
	for {
		var block *pem.Block
		block, rest = pem.Decode(rest)
		if block == nil {
			break
		}
		if block.Type != "CERTIFICATE" {
			continue
		}
		if _, err := x509.ParseCertificate(block.Bytes); err != nil {
			p.errs = append(p.errs, fmt.Errorf("input authentik-ca-certificate contains a certificate that does not parse: %v", err))
			return
		}
		found++
	}
	if found == 0 {
		p.errs = append(p.errs, errors.New("input authentik-ca-certificate contains no PEM certificate: paste the CA's -----BEGIN CERTIFICATE----- block"))
	}
}
