package faults

import (
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/meshauth/meshcentral-authentik-action/internal/fakes/sandbox"
)

var rotate = map[string]string{"rotate-client-secret": "true"}

// isSecretPatch reports whether r sets a provider's client secret.
func isSecretPatch(r *http.Request) bool {
	if r.Method != http.MethodPatch || !strings.HasPrefix(r.URL.Path, "/api/v3/providers/oauth2/") {
		return false
	}
	body, _ := io.ReadAll(r.Body)
	r.Body = io.NopCloser(bytes.NewReader(body))
	return strings.Contains(string(body), `"client_secret"`)
}

func TestRotationSetsNewSecret(t *testing.T) {
	w := newWorld(t, []byte(baseConfig))
	w.apply(nil).ok(t)
	old := w.clientSecret(t)
	w.extraSecrets = append(w.extraSecrets, old)

	res := w.apply(rotate).ok(t)
	w.requireMasks(res, old, w.clientSecret(t))
	p, _ := w.sb.Authentik.Provider(providerName)
	if p.ClientSecret == old {
		t.Fatal("authentik still has the old client secret")
	}
	if got, _ := w.sb.GitHub.SecretPlaintext(sandbox.Repository, "", secretName); got != p.ClientSecret {
		t.Error("GitHub secret does not decrypt to authentik's new client secret")
	}
	if res.outputs["client-secret-rotated"] != "true" {
		t.Errorf("client-secret-rotated = %q, want true", res.outputs["client-secret-rotated"])
	}
	if res.outputs["changed"] != "true" {
		t.Errorf("changed = %q, want true", res.outputs["changed"])
	}
	if probs := w.checkConverged(nil); len(probs) > 0 {
		t.Error(strings.Join(probs, "\n"))
	}
	if probs := w.noWritesOnRerun(nil); len(probs) > 0 {
		t.Error(strings.Join(probs, "\n"))
	}
}

// TestRotationRejectedRestoresSecret makes authentik fail the PATCH that
// sets the new secret, and checks that GitHub gets the previous secret back
// and the run fails with a message that reports the restore.
func TestRotationRejectedRestoresSecret(t *testing.T) {
	cases := []struct {
		name string
		// setup returns the inputs of the runs; it may put a proxy in front
		// of authentik.
		setup func(t *testing.T, w *world) map[string]string
		want  string
	}{
		{
			name: "400 from authentik",
			setup: func(t *testing.T, w *world) map[string]string {
				return map[string]string{"authentik-url": w.rejectingProxy(t)}
			},
			want: "invalid request: client_secret: Ensure this field has no more than 255 characters.",
		},
		{
			name: "500 then dropped connections",
			setup: func(t *testing.T, w *world) map[string]string {
				var mu sync.Mutex
				n := 0
				w.inject(func(_ int, r *http.Request) faultKind {
					if !isSecretPatch(r) {
						return 0
					}
					mu.Lock()
					defer mu.Unlock()
					n++
					if n == 1 {
						return status500
					}
					return dropConnection
				})
				return nil
			},
			want: "rejected",
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			w := newWorld(t, []byte(baseConfig))
			inputs := c.setup(t, w)
			w.apply(inputs).ok(t)
			old := w.clientSecret(t)

			rotateInputs := map[string]string{"rotate-client-secret": "true"}
			for k, v := range inputs {
				rotateInputs[k] = v
			}
			res := w.apply(rotateInputs)
			log := res.failed(t)
			contains(t, "log", log, "authentik rejected the new secret, so the previous secret was put back in GitHub")
			contains(t, "log", log, c.want)
			if w.clientSecret(t) != old {
				t.Error("authentik's client secret changed although the PATCH failed")
			}
			if got, _ := w.sb.GitHub.SecretPlaintext(sandbox.Repository, "", secretName); got != old {
				t.Error("GitHub secret is not the previous client secret")
			}
			for _, s := range w.rotatedAway(old) {
				w.extraSecrets = append(w.extraSecrets, s)
			}

			w.clearFaults()
			if probs := w.checkConverged(nil); len(probs) > 0 {
				t.Error(strings.Join(probs, "\n"))
			}
			if probs := w.noWritesOnRerun(inputs); len(probs) > 0 {
				t.Error(strings.Join(probs, "\n"))
			}
		})
	}
}

// TestRotationAnswerLostKeepsNewSecret drops every response to the PATCH
// after authentik applied it. authentik then has the new secret although
// the run saw only failures, so GitHub must keep the new secret too.
func TestRotationAnswerLostKeepsNewSecret(t *testing.T) {
	w := newWorld(t, []byte(baseConfig))
	w.apply(nil).ok(t)
	old := w.clientSecret(t)
	w.extraSecrets = append(w.extraSecrets, old)
	w.inject(func(_ int, r *http.Request) faultKind {
		if isSecretPatch(r) {
			return dropAfterApply
		}
		return 0
	})
	res := w.apply(rotate)
	w.clearFaults()

	now := w.clientSecret(t)
	if now == old {
		t.Fatal("the fake did not apply the PATCH")
	}
	// The run reads the provider back, finds the new secret and keeps it.
	res.ok(t)
	if got, _ := w.sb.GitHub.SecretPlaintext(sandbox.Repository, "", secretName); got != now {
		t.Error("GitHub does not have authentik's new secret")
	}
	if res.outputs["client-secret-rotated"] != "true" {
		t.Errorf("client-secret-rotated = %q, want true", res.outputs["client-secret-rotated"])
	}
	contains(t, "log", res.stdout, "authentik did not confirm the new client secret")
	if probs := w.checkConverged(nil); len(probs) > 0 {
		t.Error(strings.Join(probs, "\n"))
	}
	if probs := w.noWritesOnRerun(nil); len(probs) > 0 {
		t.Error(strings.Join(probs, "\n"))
	}
}

// rotatedAway returns the client secrets sent to authentik other than old,
// so the leak scan looks for them too.
func (w *world) rotatedAway(old string) []string {
	var out []string
	for _, r := range w.sb.Authentik.Requests() {
		for _, v := range fieldValues(r.Body, "client_secret") {
			if v != old {
				out = append(out, v)
			}
		}
	}
	return out
}

// rejectingProxy starts a TLS proxy on 127.0.0.1 in front of the authentik
// fake that responds 400 to every PATCH setting a client secret, as
// authentik does for a value it does not accept. It returns the proxy's
// URL and makes the world's runs trust its certificate.
func (w *world) rejectingProxy(t *testing.T) string {
	t.Helper()
	target, err := url.Parse(w.sb.Authentik.URL)
	if err != nil {
		t.Fatal(err)
	}
	proxy := httputil.NewSingleHostReverseProxy(target)
	proxy.Transport = w.sb.HTTPClient().Transport
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		if isSecretPatch(r) {
			rw.Header().Set("Content-Type", "application/json")
			rw.WriteHeader(http.StatusBadRequest)
			_, _ = rw.Write([]byte(`{"client_secret":["Ensure this field has no more than 255 characters."]}`))
			return
		}
		proxy.ServeHTTP(rw, r)
	}))
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv.Listener.Close()
	srv.Listener = ln
	srv.StartTLS()
	t.Cleanup(srv.Close)

	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(w.sb.Authentik.CACertPEM)
	pool.AppendCertsFromPEM(w.sb.GitHub.CertificatePEM())
	pool.AddCert(srv.Certificate())
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.TLSClientConfig = &tls.Config{RootCAs: pool}
	w.httpClient = &http.Client{Transport: tr}
	return srv.URL
}
