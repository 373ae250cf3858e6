package authentik

import "crypto/rand"

// The lengths of the client credentials authentik generates itself. The
// alphabet here is letters and digits only, so the secret needs no escaping
// in config.json or in HTTP basic authentication.
const (
	clientIDLength     = 40
	clientSecretLength = 128
)

const alphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"

// randomString returns n characters drawn uniformly from alphabet.
func randomString(n int) string {
	// Bytes at or above the largest multiple of len(alphabet) are dropped,
	// so that every character is equally likely.
	limit := byte(256 - 256%len(alphabet))
	out := make([]byte, 0, n)
	buf := make([]byte, 2*n)
	for len(out) < n {
		rand.Read(buf) // never returns an error since Go 1.24
		for _, x := range buf {
			if x < limit && len(out) < n {
				out = append(out, alphabet[int(x)%len(alphabet)])
			}
		}
	}
	return string(out)
}
