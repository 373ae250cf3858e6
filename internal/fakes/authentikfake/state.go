package authentikfake

import (
	"crypto/md5"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"encoding/pem"
	"fmt"
	"math/big"
	"sync"
	"time"
)

// Flow designations used by the seed data.
const (
	DesignationAuthentication = "authentication"
	DesignationAuthorization  = "authorization"
	DesignationInvalidation   = "invalidation"
)

// Slugs and names of the seed data, as a fresh authentik install has them.
const (
	FlowImplicitConsent = "default-provider-authorization-implicit-consent"
	FlowExplicitConsent = "default-provider-authorization-explicit-consent"
	FlowInvalidation    = "default-provider-invalidation-flow"
	FlowAuthentication  = "default-authentication-flow"

	KeypairSelfSigned = "authentik Self-signed Certificate"
	// KeypairCertOnly is a seeded keypair without a private key, which
	// cannot sign tokens.
	KeypairCertOnly = "Imported CA Certificate"

	ScopeOpenID  = "goauthentik.io/providers/oauth2/scope-openid"
	ScopeEmail   = "goauthentik.io/providers/oauth2/scope-email"
	ScopeProfile = "goauthentik.io/providers/oauth2/scope-profile"
	// ScopeCustomEmail is the name of a seeded unmanaged mapping with scope
	// name "email", a look-alike of the managed email mapping.
	ScopeCustomEmail = "Custom email mapping"

	DefaultToken   = "fake-authentik-token"
	DefaultVersion = "2025.12.0"
)

// RedirectURI is one redirect URI of an OAuth2 provider.
type RedirectURI struct {
	// MatchingMode is "strict" or "regex".
	MatchingMode string
	URL          string
}

// Flow is an authentik flow.
type Flow struct {
	PK          string
	Slug        string
	Name        string
	Title       string
	Designation string
}

// Keypair is a certificate-key pair. Key is nil for a certificate without a
// private key.
type Keypair struct {
	PK      string
	Name    string
	Cert    *x509.Certificate
	Key     *rsa.PrivateKey
	Managed string
}

// KeyID returns the JWKS "kid" of tokens signed with the keypair, derived
// as authentik derives it: the hex MD5 of the PKCS #8 PEM private key. It
// returns "" without a key.
func (k Keypair) KeyID() string {
	if k.Key == nil {
		return ""
	}
	der, err := x509.MarshalPKCS8PrivateKey(k.Key)
	if err != nil {
		return ""
	}
	sum := md5.Sum(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}))
	return hex.EncodeToString(sum[:])
}

// ScopeMapping is an OAuth2 scope property mapping. Managed is "" for a
// mapping an admin created.
type ScopeMapping struct {
	PK          string
	Name        string
	ScopeName   string
	Managed     string
	Expression  string
	Description string
}

// Group is an authentik group.
type Group struct {
	PK    string
	NumPK int
	Name  string
}

// Provider is a provider of any type. Only OAuth2 providers (Type
// "oauth2") are served by the providers/oauth2/ endpoints. Other types
// exist so that name uniqueness across types can be tested.
type Provider struct {
	PK                 int
	Type               string
	Name               string
	AuthorizationFlow  string
	InvalidationFlow   string
	AuthenticationFlow string // "" means null
	PropertyMappings   []string

	ClientType             string
	ClientID               string
	ClientSecret           string
	RedirectURIs           []RedirectURI
	SigningKey             string // "" means null
	EncryptionKey          string // "" means null
	IncludeClaimsInIDToken bool
	IssuerMode             string
	SubMode                string
	AccessCodeValidity     string
	AccessTokenValidity    string
	RefreshTokenValidity   string
	RefreshTokenThreshold  string
	LogoutURI              string
	LogoutMethod           string
}

// Application is an authentik application. Provider is 0 when none.
type Application struct {
	PK               string
	Name             string
	Slug             string
	Provider         int
	Group            string
	MetaLaunchURL    string
	MetaDescription  string
	MetaPublisher    string
	OpenInNewTab     bool
	PolicyEngineMode string
}

// Binding is a policy binding. Exactly one of Policy, Group and User is set.
type Binding struct {
	PK            string
	Target        string
	Policy        string
	Group         string
	User          int
	Order         int
	Enabled       bool
	Negate        bool
	Timeout       int
	FailureResult bool
}

// state is everything the fake stores. Every access holds mu.
type state struct {
	mu sync.Mutex

	version      string
	flows        []*Flow
	keypairs     []*Keypair
	mappings     []*ScopeMapping
	groups       []*Group
	providers    []*Provider
	applications []*Application
	bindings     []*Binding
	nextProvider int
	nextGroupNum int
}

var (
	seedKeyOnce sync.Once
	seedKey     *rsa.PrivateKey
	seedKeyErr  error
)

// sharedSeedKey returns one RSA-2048 key per process for the seeded
// self-signed keypair, because generating one can take a tenth of a second
// and tests start many fakes. Keypairs added later get keys of their own.
func sharedSeedKey() (*rsa.PrivateKey, error) {
	seedKeyOnce.Do(func() {
		seedKey, seedKeyErr = rsa.GenerateKey(rand.Reader, 2048)
	})
	return seedKey, seedKeyErr
}

func newState() (*state, error) {
	s := &state{version: DefaultVersion, nextProvider: 1, nextGroupNum: 1000}
	s.addFlow(FlowImplicitConsent, "Authorize Application", DesignationAuthorization)
	s.addFlow(FlowExplicitConsent, "Authorize Application", DesignationAuthorization)
	s.addFlow(FlowInvalidation, "Logged out of application", DesignationInvalidation)
	s.addFlow(FlowAuthentication, "Welcome to authentik!", DesignationAuthentication)

	key, err := sharedSeedKey()
	if err != nil {
		return nil, fmt.Errorf("generate seed signing key: %w", err)
	}
	if _, err := s.addKeypair(KeypairSelfSigned, key); err != nil {
		return nil, err
	}
	caKey, err := rsa.GenerateKey(rand.Reader, 1024)
	if err != nil {
		return nil, fmt.Errorf("generate seed certificate key: %w", err)
	}
	kp, err := s.addKeypair(KeypairCertOnly, caKey)
	if err != nil {
		return nil, err
	}
	kp.Key = nil

	for _, m := range []struct{ managed, scope, name, desc string }{
		{ScopeOpenID, "openid", "authentik default OAuth Mapping: OpenID 'openid'", ""},
		{ScopeEmail, "email", "authentik default OAuth Mapping: OpenID 'email'", "Email address"},
		{ScopeProfile, "profile", "authentik default OAuth Mapping: OpenID 'profile'", "General Profile Information"},
		{"", "email", ScopeCustomEmail, "Email address (custom)"},
	} {
		s.mappings = append(s.mappings, &ScopeMapping{
			PK: newUUID(), Name: m.name, ScopeName: m.scope, Managed: m.managed,
			Expression: "return {}", Description: m.desc,
		})
	}
	s.addGroup("admins")
	s.addGroup("staff")
	return s, nil
}

func (s *state) addFlow(slug, title, designation string) *Flow {
	f := &Flow{PK: newUUID(), Slug: slug, Name: title, Title: title, Designation: designation}
	s.flows = append(s.flows, f)
	return f
}

func (s *state) addGroup(name string) *Group {
	g := &Group{PK: newUUID(), NumPK: s.nextGroupNum, Name: name}
	s.nextGroupNum++
	s.groups = append(s.groups, g)
	return g
}

// addKeypair stores a keypair with a self-signed certificate for key.
func (s *state) addKeypair(name string, key *rsa.PrivateKey) (*Keypair, error) {
	serial, err := rand.Int(rand.Reader, big.NewInt(1<<62))
	if err != nil {
		return nil, fmt.Errorf("generate serial for keypair %q: %w", name, err)
	}
	now := time.Now().UTC().Truncate(time.Second)
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: name, Organization: []string{"authentik"}, OrganizationalUnit: []string{"Self-signed"}},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.AddDate(1, 0, 0),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment,
		BasicConstraintsValid: true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, fmt.Errorf("create certificate for keypair %q: %w", name, err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, fmt.Errorf("parse certificate for keypair %q: %w", name, err)
	}
	kp := &Keypair{PK: newUUID(), Name: name, Cert: cert, Key: key}
	s.keypairs = append(s.keypairs, kp)
	return kp, nil
}

func (s *state) flowByPK(pk string) *Flow {
	for _, f := range s.flows {
		if f.PK == pk {
			return f
		}
	}
	return nil
}

func (s *state) flowBySlug(slug string) *Flow {
	for _, f := range s.flows {
		if f.Slug == slug {
			return f
		}
	}
	return nil
}

func (s *state) keypairByPK(pk string) *Keypair {
	for _, k := range s.keypairs {
		if k.PK == pk {
			return k
		}
	}
	return nil
}

func (s *state) keypairByName(name string) *Keypair {
	for _, k := range s.keypairs {
		if k.Name == name {
			return k
		}
	}
	return nil
}

func (s *state) mappingByPK(pk string) *ScopeMapping {
	for _, m := range s.mappings {
		if m.PK == pk {
			return m
		}
	}
	return nil
}

func (s *state) groupByPK(pk string) *Group {
	for _, g := range s.groups {
		if g.PK == pk {
			return g
		}
	}
	return nil
}

func (s *state) groupByName(name string) *Group {
	for _, g := range s.groups {
		if g.Name == name {
			return g
		}
	}
	return nil
}

func (s *state) providerByPK(pk int) *Provider {
	for _, p := range s.providers {
		if p.PK == pk {
			return p
		}
	}
	return nil
}

func (s *state) providerByName(name string) *Provider {
	for _, p := range s.providers {
		if p.Name == name {
			return p
		}
	}
	return nil
}

func (s *state) applicationBySlug(slug string) *Application {
	for _, a := range s.applications {
		if a.Slug == slug {
			return a
		}
	}
	return nil
}

func (s *state) applicationByPK(pk string) *Application {
	for _, a := range s.applications {
		if a.PK == pk {
			return a
		}
	}
	return nil
}

// applicationOf returns the application that uses provider pk, or nil.
func (s *state) applicationOf(pk int) *Application {
	for _, a := range s.applications {
		if a.Provider == pk {
			return a
		}
	}
	return nil
}

func (s *state) bindingByPK(pk string) *Binding {
	for _, b := range s.bindings {
		if b.PK == pk {
			return b
		}
	}
	return nil
}

// deleteApplication removes an application and, as authentik's database
// cascade does, its policy bindings.
func (s *state) deleteApplication(slug string) bool {
	app := s.applicationBySlug(slug)
	if app == nil {
		return false
	}
	s.applications = removeWhere(s.applications, func(a *Application) bool { return a == app })
	s.bindings = removeWhere(s.bindings, func(b *Binding) bool { return b.Target == app.PK })
	return true
}

// deleteProvider removes a provider and unsets it on its application.
func (s *state) deleteProvider(pk int) bool {
	if s.providerByPK(pk) == nil {
		return false
	}
	s.providers = removeWhere(s.providers, func(p *Provider) bool { return p.PK == pk })
	if app := s.applicationOf(pk); app != nil {
		app.Provider = 0
	}
	return true
}

func removeWhere[T any](items []T, match func(T) bool) []T {
	kept := items[:0:0]
	for _, it := range items {
		if !match(it) {
			kept = append(kept, it)
		}
	}
	return kept
}

// newUUID returns a random version 4 UUID.
func newUUID() string {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(fmt.Sprintf("read random bytes: %v", err))
	}
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	h := hex.EncodeToString(b[:])
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:32]
}

const idAlphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"

// randomID returns n random letters and digits, the alphabet authentik
// draws client IDs and secrets from.
func randomID(n int) string {
	b := make([]byte, n)
	max := big.NewInt(int64(len(idAlphabet)))
	for i := range b {
		v, err := rand.Int(rand.Reader, max)
		if err != nil {
			panic(fmt.Sprintf("read random bytes: %v", err))
		}
		b[i] = idAlphabet[v.Int64()]
	}
	return string(b)
}
