package githubfake

// Access is a token's level for one permission.
type Access int

const (
	// NoAccess rejects every request of the area.
	NoAccess Access = iota
	// Read allows GET requests.
	Read
	// Write allows every request.
	Write
)

// Permissions is the set of access levels a token has in every repository
// of the server.
type Permissions struct {
	Contents     Access
	PullRequests Access
	// Secrets and Variables govern the repository's Actions secrets and
	// variables.
	Secrets   Access
	Variables Access
	// Environments governs the secrets and variables of deployment
	// environments. Reading an environment itself needs only a known token.
	Environments Access
	// Login is the account the token acts as. It becomes the author of
	// comments and pull requests. Empty means "fake-user".
	Login string
	// Integration marks a GitHub App or GITHUB_TOKEN: rejections read "Resource
	// not accessible by integration" instead of "... by personal access
	// token".
	Integration bool
}

// GitHubToken emulates the default GITHUB_TOKEN of a workflow with write
// permissions: it may write contents and pull requests, and every request
// for Actions secrets or variables, of the repository or of an environment,
// gets 403 "Resource not accessible by integration".
func GitHubToken() Permissions {
	return Permissions{
		Contents:     Write,
		PullRequests: Write,
		Login:        "github-actions[bot]",
		Integration:  true,
	}
}

// FullAccess emulates a token of a repository administrator that may do
// everything the fake serves.
func FullAccess(login string) Permissions {
	return Permissions{
		Contents:     Write,
		PullRequests: Write,
		Secrets:      Write,
		Variables:    Write,
		Environments: Write,
		Login:        login,
	}
}

// AddToken accepts token with perms from now on, replacing any earlier
// permissions of the same token.
func (s *Server) AddToken(token string, perms Permissions) {
	if perms.Login == "" {
		perms.Login = "fake-user"
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.tokens[token] = perms
}

func (p Permissions) level(area string) Access {
	switch area {
	case "contents":
		return p.Contents
	case "pull_requests":
		return p.PullRequests
	case "secrets":
		return p.Secrets
	case "variables":
		return p.Variables
	case "environments":
		return p.Environments
	}
	return NoAccess
}
