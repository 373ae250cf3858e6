package githubfake

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/binary"
	"fmt"
	"net/http"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"golang.org/x/crypto/nacl/box"
)

// scope is the set of Actions secrets and variables of a repository or of
// one environment, with the key pair that secrets are sealed to.
type scope struct {
	keyID     string
	public    *[32]byte
	private   *[32]byte
	secrets   map[string]*secret   // by upper-case name
	variables map[string]*variable // by upper-case name
}

type secret struct {
	name    string
	sealed  []byte
	created time.Time
	updated time.Time
}

type variable struct {
	name    string
	value   string
	created time.Time
	updated time.Time
}

// newScope makes a scope with a fresh curve25519 key pair and key ID.
func (s *Server) newScope() (*scope, error) {
	pub, priv, err := box.GenerateKey(rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("generate public key: %w", err)
	}
	var raw [8]byte
	if _, err := rand.Read(raw[:]); err != nil {
		return nil, fmt.Errorf("generate key ID: %w", err)
	}
	id := strconv.FormatUint(binary.BigEndian.Uint64(raw[:])>>1, 10)
	return &scope{
		keyID: id, public: pub, private: priv,
		secrets: map[string]*secret{}, variables: map[string]*variable{},
	}, nil
}

// open decrypts a sealed value with the scope's private key.
func (sc *scope) open(sealed []byte) ([]byte, bool) {
	return box.OpenAnonymous(nil, sealed, sc.public, sc.private)
}

// actionsScope resolves the repository scope, or the environment's scope
// when the path names one. Environment scopes need the environments
// permission, and repository scopes need area.
func (c *call) actionsScope(area string) (*scope, bool) {
	r, ok := c.repo()
	if !ok {
		return nil, false
	}
	name := c.r.PathValue("env")
	if name == "" {
		if !c.needFor(area) {
			return nil, false
		}
		return r.actions, true
	}
	if !c.needFor("environments") {
		return nil, false
	}
	e, ok := r.envs[strings.ToLower(name)]
	if !ok {
		c.notFound()
		return nil, false
	}
	return e.actions, true
}

// secretName matches names GitHub accepts for secrets and variables.
var secretName = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

// checkName records a violation for a name that GitHub rejects.
func (c *call) checkName(name string) bool {
	if !secretName.MatchString(name) || strings.HasPrefix(strings.ToUpper(name), "GITHUB_") {
		c.invalid("%q: names can only contain alphanumeric characters or underscores, must not start with a number and must not start with GITHUB_.", name)
		return false
	}
	return true
}

func (s *Server) getPublicKey(c *call) {
	sc, ok := c.actionsScope("secrets")
	if !ok {
		return
	}
	c.json(http.StatusOK, map[string]string{
		"key_id": sc.keyID,
		"key":    base64.StdEncoding.EncodeToString(sc.public[:]),
	})
}

func secretJSON(sec *secret) map[string]any {
	return map[string]any{
		"name":       sec.name,
		"created_at": sec.created.Format(time.RFC3339),
		"updated_at": sec.updated.Format(time.RFC3339),
	}
}

func (s *Server) listSecrets(c *call) {
	sc, ok := c.actionsScope("secrets")
	if !ok {
		return
	}
	names := sortedKeys(sc.secrets)
	start, end := c.page(len(names))
	out := []map[string]any{}
	for _, n := range names[start:end] {
		out = append(out, secretJSON(sc.secrets[n]))
	}
	c.json(http.StatusOK, map[string]any{"total_count": len(names), "secrets": out})
}

func (s *Server) getSecret(c *call) {
	sc, ok := c.actionsScope("secrets")
	if !ok {
		return
	}
	sec, ok := sc.secrets[strings.ToUpper(c.r.PathValue("name"))]
	if !ok {
		c.notFound()
		return
	}
	c.json(http.StatusOK, secretJSON(sec))
}

type putSecretRequest struct {
	EncryptedValue *string `json:"encrypted_value"`
	KeyID          *string `json:"key_id"`
}

// putSecret stores a sealed value: 201 when the secret is new, 204 when it
// replaces one. The value must open with the scope's current key.
func (s *Server) putSecret(c *call) {
	sc, ok := c.actionsScope("secrets")
	if !ok {
		return
	}
	name := c.r.PathValue("name")
	if !c.checkName(name) {
		return
	}
	var req putSecretRequest
	if !c.decode(&req) {
		return
	}
	switch {
	case req.EncryptedValue == nil:
		c.missing("encrypted_value")
		return
	case req.KeyID == nil:
		c.missing("key_id")
		return
	case *req.KeyID != sc.keyID:
		c.invalid("key_id %q is not the current public key's ID.", *req.KeyID)
		return
	}
	sealed, err := base64.StdEncoding.DecodeString(*req.EncryptedValue)
	if err != nil {
		c.invalid("encrypted_value is not valid Base64.")
		return
	}
	// NOTE: GitHub does not document that it opens the value on PUT. The
	// fake does, so that a value sealed wrongly fails where it was sent.
	if _, ok := sc.open(sealed); !ok {
		c.invalid("encrypted_value does not open as a sealed box for key_id %q.", sc.keyID)
		return
	}

	now := c.s.opts.Now().UTC()
	key := strings.ToUpper(name)
	if sec, exists := sc.secrets[key]; exists {
		sec.sealed, sec.updated = sealed, now
		c.noContent()
		return
	}
	sc.secrets[key] = &secret{name: key, sealed: sealed, created: now, updated: now}
	c.json(http.StatusCreated, map[string]any{})
}

func (s *Server) deleteSecret(c *call) {
	sc, ok := c.actionsScope("secrets")
	if !ok {
		return
	}
	key := strings.ToUpper(c.r.PathValue("name"))
	if _, exists := sc.secrets[key]; !exists {
		c.notFound()
		return
	}
	delete(sc.secrets, key)
	c.noContent()
}

func variableJSON(v *variable) map[string]any {
	return map[string]any{
		"name":       v.name,
		"value":      v.value,
		"created_at": v.created.Format(time.RFC3339),
		"updated_at": v.updated.Format(time.RFC3339),
	}
}

func (s *Server) listVariables(c *call) {
	sc, ok := c.actionsScope("variables")
	if !ok {
		return
	}
	names := sortedKeys(sc.variables)
	start, end := c.page(len(names))
	out := []map[string]any{}
	for _, n := range names[start:end] {
		out = append(out, variableJSON(sc.variables[n]))
	}
	c.json(http.StatusOK, map[string]any{"total_count": len(names), "variables": out})
}

func (s *Server) getVariable(c *call) {
	sc, ok := c.actionsScope("variables")
	if !ok {
		return
	}
	v, ok := sc.variables[strings.ToUpper(c.r.PathValue("name"))]
	if !ok {
		c.notFound()
		return
	}
	c.json(http.StatusOK, variableJSON(v))
}

type variableRequest struct {
	Name  *string `json:"name"`
	Value *string `json:"value"`
}

func (s *Server) createVariable(c *call) {
	sc, ok := c.actionsScope("variables")
	if !ok {
		return
	}
	var req variableRequest
	if !c.decode(&req) {
		return
	}
	switch {
	case req.Name == nil:
		c.missing("name")
		return
	case req.Value == nil:
		c.missing("value")
		return
	}
	if !c.checkName(*req.Name) {
		return
	}
	key := strings.ToUpper(*req.Name)
	if _, exists := sc.variables[key]; exists {
		c.fail(http.StatusConflict, "Already exists - Variable already exists")
		return
	}
	now := c.s.opts.Now().UTC()
	sc.variables[key] = &variable{name: key, value: *req.Value, created: now, updated: now}
	c.json(http.StatusCreated, map[string]any{})
}

// updateVariable changes a variable's value, and renames it when the body
// names it differently.
func (s *Server) updateVariable(c *call) {
	sc, ok := c.actionsScope("variables")
	if !ok {
		return
	}
	var req variableRequest
	if !c.decode(&req) {
		return
	}
	key := strings.ToUpper(c.r.PathValue("name"))
	v, exists := sc.variables[key]
	if !exists {
		c.notFound()
		return
	}
	if req.Name != nil && strings.ToUpper(*req.Name) != key {
		if !c.checkName(*req.Name) {
			return
		}
		newKey := strings.ToUpper(*req.Name)
		if _, taken := sc.variables[newKey]; taken {
			c.fail(http.StatusConflict, "Already exists - Variable already exists")
			return
		}
		delete(sc.variables, key)
		v.name = newKey
		sc.variables[newKey] = v
	}
	if req.Value != nil {
		v.value = *req.Value
	}
	v.updated = c.s.opts.Now().UTC()
	c.noContent()
}

func (s *Server) deleteVariable(c *call) {
	sc, ok := c.actionsScope("variables")
	if !ok {
		return
	}
	key := strings.ToUpper(c.r.PathValue("name"))
	if _, exists := sc.variables[key]; !exists {
		c.notFound()
		return
	}
	delete(sc.variables, key)
	c.noContent()
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
