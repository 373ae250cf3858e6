package inputs

// Spec describes one input of the action. The same table feeds flag
// parsing, action.yml (a test checks they agree) and the README tables.
type Spec struct {
	Name        string
	Default     string
	Description string
	// Required is true when every mode needs the input. No input is: render
	// needs none of the authentik inputs, so Parse checks per mode.
	Required bool
	// Secret inputs are masked before first use and never echoed.
	Secret bool
}

// Specs lists every input in the order action.yml shows them.
var Specs = []Spec{
	{Name: "mode", Default: "apply", Description: "What the run does: apply (change authentik, secrets and open the pull request), plan (show the changes; on pull_request events also as a sticky comment), check (report drift) or render (write the deployable config.json)."},
	{Name: "authentik-url", Description: "Base URL of authentik, for example https://auth.example.com. Required for apply, plan and check."},
	{Name: "authentik-token", Secret: true, Description: "authentik API token of a user allowed to manage OAuth2 providers, applications and policy bindings. Required for apply, plan and check."},
	{Name: "authentik-ca-certificate", Description: "PEM of a private CA that signed authentik's certificate. TLS verification is never switched off."},
	{Name: "application-name", Description: "Name of the authentik application. Defaults to MeshCentral for the default domain and MeshCentral (<domain>) for a named one."},
	{Name: "application-slug", Description: "Slug of the authentik application; the issuer URL ends with it. Defaults to meshcentral for the default domain and meshcentral-<domain> for a named one, so each domain has its own application and provider."},
	{Name: "application-group", Description: "Group label of the application in authentik's library."},
	{Name: "provider-name", Description: "Name of the OAuth2/OpenID provider; provider names are unique across all provider types. Defaults to Provider for MeshCentral, or Provider for MeshCentral (<application-slug>) when the slug is not meshcentral, so each domain's application gets its own provider."},
	{Name: "authorization-flow", Default: "default-provider-authorization-implicit-consent", Description: "Slug of the authorization flow the provider uses."},
	{Name: "invalidation-flow", Default: "default-provider-invalidation-flow", Description: "Slug of the invalidation (logout) flow the provider uses."},
	{Name: "signing-key", Default: "authentik Self-signed Certificate", Description: "Name of the certificate-key pair that signs ID tokens; it must hold an RSA private key so tokens are RS256."},
	{Name: "allowed-groups", Description: "authentik groups allowed to use the application, one per line (names may then contain commas) or comma-separated on one line; each gets a policy binding. Empty: no bindings."},
	{Name: "rotate-client-secret", Default: "false", Description: "Generate a new client secret, store it in GitHub, then set it in authentik."},
	{Name: "meshcentral-url", Description: "Public https URL users open for MeshCentral (for a named domain, without the domain path). Required for apply, plan and check."},
	{Name: "meshcentral-domain", Description: "MeshCentral domain to configure; empty is the default domain."},
	{Name: "config-path", Default: "meshcentral-data/config.json", Description: "Path of MeshCentral's config.json in the deployment repository."},
	{Name: "new-accounts", Default: "true", Description: "Whether MeshCentral creates accounts for new OIDC users (written as a JSON boolean)."},
	{Name: "admin-groups", Description: "authentik groups whose members become MeshCentral site administrators (groups.siteadmin)."},
	{Name: "required-groups", Description: "authentik groups a user must be in to sign in to MeshCentral (groups.required)."},
	{Name: "sync-groups", Default: "false", Description: "Whether MeshCentral mirrors the user's authentik groups as user groups (groups.sync)."},
	{Name: "github-token", Secret: true, Description: "Token that may write Actions secrets and variables, contents and pull requests of the deployment repository (a GitHub App token or a fine-grained token; the default GITHUB_TOKEN cannot write secrets). Required for apply, plan and check."},
	{Name: "deployment-repository", Description: "owner/name of the repository holding config.json; defaults to the current repository."},
	{Name: "base-branch", Description: "Branch the pull request targets; defaults to the repository's default branch."},
	{Name: "pull-request-branch", Description: "Branch the action commits to; defaults to meshcentral-authentik/<domain or default>. A pull request from a branch used earlier is not closed when this changes."},
	{Name: "pull-request-title", Default: "Sign in to MeshCentral with authentik", Description: "Title of the pull request."},
	{Name: "pull-request-labels", Description: "Labels added to the pull request; labels are added, never removed."},
	{Name: "secrets-environment", Description: "GitHub environment that receives the secrets; empty writes repository secrets."},
	{Name: "client-id-secret-name", Description: "Name of the GitHub secret that receives the client ID. Defaults to MESHCENTRAL_OIDC_CLIENT_ID for the default domain and MESHCENTRAL_<DOMAIN>_OIDC_CLIENT_ID for a named one."},
	{Name: "client-secret-secret-name", Description: "Name of the GitHub secret that receives the client secret; config.json refers to it as ${NAME}. Defaults to MESHCENTRAL_OIDC_CLIENT_SECRET for the default domain and MESHCENTRAL_<DOMAIN>_OIDC_CLIENT_SECRET for a named one, so each domain keeps its own secret."},
	{Name: "client-secret-in-config", Default: "placeholder", Description: "placeholder writes ${<client-secret-secret-name>} into config.json; inline writes the real secret (it is then committed, and render is not needed)."},
	{Name: "fail-on-drift", Default: "true", Description: "In check mode, fail the step when drift is found."},
	{Name: "render-output", Description: "Render mode: path of the config.json to write (file mode 0600)."},
	{Name: "client-secret", Secret: true, Description: "Render mode: the client secret, from the workflow's secrets."},
	{Name: "allow-insecure-http", Default: "false", Description: "Accept http:// URLs for authentik and MeshCentral. Tokens and redirects then travel in clear; use only on a trusted network."},
}

// OutputSpec describes one output of the action.
type OutputSpec struct {
	Name        string
	Description string
}

// Outputs lists every output in the order action.yml shows them.
var Outputs = []OutputSpec{
	{"client-id", "Client ID of the authentik provider."},
	{"issuer", "OIDC issuer URL, <authentik-url>/application/o/<slug>/."},
	{"redirect-uri", "Redirect URI registered in authentik and written to config.json."},
	{"provider-id", "Primary key of the authentik provider."},
	{"application-slug", "Slug of the authentik application."},
	{"changed", "true when the run changed something (apply) or would change something (plan, check)."},
	{"drift", "true when authentik, the secrets or config.json differ from the desired state."},
	{"pull-request-number", "Number of the config.json pull request, when there is one."},
	{"pull-request-url", "URL of the config.json pull request, when there is one."},
	{"pull-request-operation", "What happened to the pull request: created, updated, closed or none."},
	{"client-secret-rotated", "true when this run set a new client secret, so a workflow can trigger a deploy."},
	{"summary", "The change list as markdown."},
}
