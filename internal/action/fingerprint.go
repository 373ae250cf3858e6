package action

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"strings"
)

// GitHub secrets cannot be read back, so whenever the run writes the two
// secrets it also stores a salted SHA-256 fingerprint of each value in an
// Actions variable. check and later applies recompute the fingerprints from
// authentik's values to tell whether the stored secrets are still current.
//
// The variable's value is "v1:<salt>:<sha256(salt|client id)>:<sha256(salt|client secret)>",
// all hex. The secret is 128 random characters, so publishing a salted hash
// of it does not help an attacker.

// fingerprint is the parsed variable value.
type fingerprint struct {
	salt         []byte
	clientID     string
	clientSecret string
}

func parseFingerprint(v string) (fingerprint, bool) {
	parts := strings.Split(strings.TrimSpace(v), ":")
	if len(parts) != 4 || parts[0] != "v1" {
		return fingerprint{}, false
	}
	salt, err := hex.DecodeString(parts[1])
	if err != nil || len(salt) < 16 {
		return fingerprint{}, false
	}
	return fingerprint{salt: salt, clientID: parts[2], clientSecret: parts[3]}, true
}

func saltedHash(salt []byte, value string) string {
	h := sha256.New()
	h.Write(salt)
	h.Write([]byte(value))
	return hex.EncodeToString(h.Sum(nil))
}

// matchesID reports whether the fingerprint was made from this client ID.
func (f fingerprint) matchesID(id string) bool {
	return hmac.Equal([]byte(f.clientID), []byte(saltedHash(f.salt, id)))
}

// matchesSecret reports whether the fingerprint was made from this secret.
func (f fingerprint) matchesSecret(secret string) bool {
	return hmac.Equal([]byte(f.clientSecret), []byte(saltedHash(f.salt, secret)))
}

// newFingerprint makes the variable value for a client ID and secret with a
// fresh salt.
func newFingerprint(rand io.Reader, id, secret string) (string, error) {
	salt := make([]byte, 16)
	if _, err := io.ReadFull(rand, salt); err != nil {
		return "", fmt.Errorf("generate fingerprint salt: %w", err)
	}
	return "v1:" + hex.EncodeToString(salt) + ":" + saltedHash(salt, id) + ":" + saltedHash(salt, secret), nil
}

// FingerprintVariableName returns the Actions variable that carries the
// fingerprints for a client secret secret name.
func FingerprintVariableName(secretName string) string {
	return secretName + "_FINGERPRINT"
}
