package faults

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/meshauth/meshcentral-authentik-action/internal/fakes/authentikfake"
	"github.com/meshauth/meshcentral-authentik-action/internal/fakes/sandbox"
)

// Every world runs the leak scan when its test ends, so the sweep, the
// rotation, concurrency and bad-input tests are all scanned. The scan looks
// for each secret and its Base64 forms in:
//
//   - each run's log (without ::add-mask:: lines), stderr, GITHUB_OUTPUT
//     file and job summary;
//   - every request body either fake received, except the fields that are
//     meant to carry a secret: GitHub's sealed encrypted_value and
//     authentik's client_secret of a provider;
//   - pull request titles and bodies, every comment, and config.json on
//     every branch (not in a world that asked for client-secret-in-config:
//     inline, where committing the secret is what the user asked for).
//
// The secrets are both tokens, every client secret authentik holds or was
// sent, and every secret input of a run.

// encodings returns a secret and the forms it could leak in.
func encodings(secret string) map[string]string {
	b := []byte(secret)
	return map[string]string{
		"plain":           secret,
		"base64":          base64.StdEncoding.EncodeToString(b),
		"base64url":       base64.URLEncoding.EncodeToString(b),
		"base64 (raw)":    base64.RawStdEncoding.EncodeToString(b),
		"base64url (raw)": base64.RawURLEncoding.EncodeToString(b),
	}
}

// secrets returns every secret value of the world, named for messages.
func (w *world) secrets() map[string]string {
	out := map[string]string{
		"authentik token": authentikfake.DefaultToken,
		"GitHub token":    sandbox.GitHubToken,
	}
	w.mu.Lock()
	for i, s := range w.extraSecrets {
		out[fmt.Sprintf("secret %d known to the test", i+1)] = s
	}
	for i, r := range w.runs {
		for _, name := range []string{"authentik-token", "github-token", "client-secret"} {
			if v := r.inputs[name]; v != "" {
				out[fmt.Sprintf("input %s of run %d", name, i+1)] = v
			}
		}
	}
	w.mu.Unlock()
	for _, p := range w.sb.Authentik.Providers() {
		if p.ClientSecret != "" {
			out["client secret of provider "+p.Name] = p.ClientSecret
		}
	}
	for i, r := range w.sb.Authentik.Requests() {
		for _, v := range fieldValues(r.Body, "client_secret") {
			out[fmt.Sprintf("client secret sent in authentik request %d", i+1)] = v
		}
	}
	for k, v := range out {
		// A secret this short could match by chance; none of the tests
		// uses one.
		if len(v) < 8 {
			delete(out, k)
		}
	}
	return out
}

// place is one thing the action emitted, and its content.
type place struct {
	name string
	text string
}

// emitted lists everything the world's runs emitted.
func (w *world) emitted() []place {
	w.mu.Lock()
	inline := w.inlineConfig
	w.mu.Unlock()
	return w.emittedInline(inline)
}

// emittedInline is emitted with config.json left out when inline is set.
func (w *world) emittedInline(inline bool) []place {
	var out []place
	w.mu.Lock()
	for i, r := range w.runs {
		n := fmt.Sprintf("run %d", i+1)
		out = append(out,
			place{n + " log", withoutMasks(r.stdout)},
			place{n + " stderr", r.stderr},
			place{n + " GITHUB_OUTPUT", r.output},
			place{n + " job summary", r.summary})
	}
	w.mu.Unlock()

	for i, r := range w.sb.GitHub.Requests() {
		drop := []string{"encrypted_value"}
		if inline && strings.HasSuffix(r.Path, "/git/trees") {
			drop = append(drop, "content")
		}
		out = append(out, place{fmt.Sprintf("GitHub request %d (%s %s) body", i+1, r.Method, r.Path), withoutFields(r.Body, drop...)})
	}
	for i, r := range w.sb.Authentik.Requests() {
		out = append(out, place{fmt.Sprintf("authentik request %d (%s %s) body", i+1, r.Method, r.Path), withoutFields(r.Body, "client_secret")})
	}
	for _, pr := range w.sb.GitHub.PullRequests(sandbox.Repository) {
		n := fmt.Sprintf("pull request #%d", pr.Number)
		out = append(out, place{n + " title", pr.Title}, place{n + " body", pr.Body})
		for _, c := range w.sb.GitHub.Comments(sandbox.Repository, pr.Number) {
			out = append(out, place{fmt.Sprintf("comment %d on %s", c.ID, n), c.Body})
		}
	}
	if !inline {
		for _, b := range w.sb.GitHub.Branches(sandbox.Repository) {
			if f, ok := w.sb.GitHub.File(sandbox.Repository, b, sandbox.ConfigPath); ok {
				out = append(out, place{"config.json on branch " + b, string(f)})
			}
		}
	}
	return out
}

// findLeaks returns one line per secret form found in a place.
func findLeaks(secrets map[string]string, places []place) []string {
	var found []string
	for name, s := range secrets {
		for form, v := range encodings(s) {
			for _, p := range places {
				if strings.Contains(p.text, v) {
					found = append(found, fmt.Sprintf("%s (%s) in %s", name, form, p.name))
				}
			}
		}
	}
	return found
}

// scanLeaks fails the test for every leak, and for every secret a run
// should have masked but did not.
func (w *world) scanLeaks(t *testing.T) {
	t.Helper()
	for _, l := range findLeaks(w.secrets(), w.emitted()) {
		t.Errorf("leak: %s", l)
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	for i, r := range w.runs {
		for _, s := range r.mustMask {
			for _, form := range []string{"plain", "base64", "base64url"} {
				if !hasMask(r.stdout, encodings(s)[form]) {
					t.Errorf("run %d did not mask a secret (%s form, %d characters)", i+1, form, len(s))
				}
			}
		}
	}
}

func hasMask(log, value string) bool {
	for _, line := range strings.Split(log, "\n") {
		if line == "::add-mask::"+value {
			return true
		}
	}
	return false
}

// withoutMasks drops ::add-mask:: commands, which the runner consumes and
// never prints: they are how a secret gets masked.
func withoutMasks(log string) string {
	var keep []string
	for _, line := range strings.Split(log, "\n") {
		if !strings.HasPrefix(line, "::add-mask::") {
			keep = append(keep, line)
		}
	}
	return strings.Join(keep, "\n")
}

// withoutFields returns a JSON body with the named keys removed at any
// depth, or the body as it is when it is not JSON.
func withoutFields(body []byte, keys ...string) string {
	var v any
	if err := json.Unmarshal(body, &v); err != nil {
		return string(body)
	}
	v = dropKeys(v, keys)
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return string(body)
	}
	return b.String()
}

func dropKeys(v any, keys []string) any {
	switch v := v.(type) {
	case map[string]any:
		for k, x := range v {
			drop := false
			for _, d := range keys {
				drop = drop || k == d
			}
			if drop {
				delete(v, k)
			} else {
				v[k] = dropKeys(x, keys)
			}
		}
	case []any:
		for i := range v {
			v[i] = dropKeys(v[i], keys)
		}
	}
	return v
}

// fieldValues returns the string values of a key at any depth of a JSON
// body.
func fieldValues(body []byte, key string) []string {
	var v any
	if json.Unmarshal(body, &v) != nil {
		return nil
	}
	var out []string
	var walk func(any)
	walk = func(v any) {
		switch v := v.(type) {
		case map[string]any:
			for k, x := range v {
				if s, ok := x.(string); ok && k == key {
					out = append(out, s)
				}
				walk(x)
			}
		case []any:
			for _, x := range v {
				walk(x)
			}
		}
	}
	walk(v)
	return out
}

// TestLeakScanFindsLeaks shows the scan can fail: a token in Base64 in a
// log, a client secret in a request body outside client_secret, and a
// secret in a comment are each found, and sealed values are not.
func TestLeakScanFindsLeaks(t *testing.T) {
	secrets := map[string]string{"token": "tok-0123456789", "secret": "sec-abcdefghij"}
	places := []place{
		{"log", "Authorization: " + base64.StdEncoding.EncodeToString([]byte("tok-0123456789"))},
		{"body", withoutFields([]byte(`{"name":"x","note":"sec-abcdefghij","client_secret":"sec-abcdefghij"}`), "client_secret")},
		{"sealed", withoutFields([]byte(`{"encrypted_value":"sec-abcdefghij","key_id":"1"}`), "encrypted_value")},
		{"comment", "url-safe " + base64.URLEncoding.EncodeToString([]byte("sec-abcdefghij"))},
	}
	got := strings.Join(findLeaks(secrets, places), "\n")
	for _, want := range []string{"token (base64) in log", "secret (plain) in body", "secret (base64url) in comment"} {
		contains(t, "findings", got, want)
	}
	if strings.Contains(got, "in sealed") {
		t.Errorf("the sealed value was reported: %s", got)
	}
	if !hasMask("a\n::add-mask::x\n", "x") || hasMask("::add-mask::xy", "x") {
		t.Error("hasMask matches wrong lines")
	}
}

// TestLeakScanScenarios runs the action's modes and input kinds in worlds
// whose cleanup scans for leaks, and checks the masks each run printed.
func TestLeakScanScenarios(t *testing.T) {
	t.Run("fresh apply, no-op, plan with comment, check with drift", func(t *testing.T) {
		w := newWorld(t, []byte(baseConfig))
		r := w.apply(groupInputs).ok(t)
		w.requireMasks(r, w.clientSecret(t))
		r = w.apply(groupInputs).ok(t)
		w.requireMasks(r, w.clientSecret(t))

		number := w.openContributorPR(t)
		event := fmt.Sprintf(`{"action":"synchronize","number":%d,"pull_request":{"number":%d,"state":"open"}}`, number, number)
		plan := map[string]string{"mode": "plan", "allowed-groups": "staff,admins"}
		r = w.run("pull_request", event, plan).ok(t)
		w.requireMasks(r, w.clientSecret(t))
		if len(w.sb.GitHub.Comments(sandbox.Repository, number)) == 0 {
			t.Error("plan on a pull request posted no comment")
		}

		if err := w.sb.Authentik.UpdateProvider(providerName, func(p *authentikfake.Provider) { p.RedirectURIs[0].URL = "https://evil.example.com/cb" }); err != nil {
			t.Fatal(err)
		}
		r = w.run("schedule", "", map[string]string{"mode": "check"})
		w.requireMasks(r, w.clientSecret(t))
		if r.outputs["drift"] != "true" {
			t.Errorf("check output drift = %q, want true", r.outputs["drift"])
		}
	})

	t.Run("rotate-client-secret", func(t *testing.T) {
		w := newWorld(t, []byte(baseConfig))
		w.apply(nil).ok(t)
		old := w.clientSecret(t)
		r := w.apply(map[string]string{"rotate-client-secret": "true"}).ok(t)
		w.extraSecrets = append(w.extraSecrets, old)
		w.requireMasks(r, old, w.clientSecret(t))
	})

	t.Run("inline secret and render", func(t *testing.T) {
		w := newWorld(t, []byte(baseConfig))
		r := w.apply(map[string]string{"client-secret-in-config": "inline"}).ok(t)
		w.requireMasks(r, w.clientSecret(t))
		// The exclusion is what keeps the scan quiet here: without it the
		// committed secret is found.
		leaks := strings.Join(findLeaks(w.secrets(), w.emittedInline(false)), "\n")
		contains(t, "leaks found without the inline exclusion", leaks, "(plain) in config.json on branch meshcentral-authentik/default")

		w2 := newWorld(t, []byte(baseConfig))
		w2.apply(nil).ok(t)
		secret := w2.clientSecret(t)
		if err := w2.sb.MergePullRequest(w2.openPulls()[0].Number); err != nil {
			t.Fatal(err)
		}
		config, _ := w2.sb.GitHub.File(sandbox.Repository, sandbox.Branch, sandbox.ConfigPath)
		checkout := w2.tempPath(sandbox.ConfigPath)
		if err := os.MkdirAll(filepath.Dir(checkout), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(checkout, config, 0o644); err != nil {
			t.Fatal(err)
		}
		r = w2.apply(map[string]string{"mode": "render", "client-secret": secret, "render-output": "deploy/config.json"})
		if r.err != nil {
			t.Fatalf("render failed: %v\n%s", r.err, r.stdout)
		}
		w2.requireMasks(r, secret)
		if !strings.Contains(r.renderFile, secret) {
			t.Error("render output does not contain the client secret")
		}
	})

	t.Run("bad inputs", func(t *testing.T) {
		w := newWorld(t, []byte(baseConfig))
		for _, in := range []map[string]string{
			{"authentik-url": "http://127.0.0.1:1"},
			{"authentik-token": "wrong-token-0123456789"},
			{"github-token": "ghp_wrongGitHubToken0123456789"},
			{"client-secret-secret-name": "1BAD NAME"},
			{"authorization-flow": "no-such-flow"},
		} {
			r := w.apply(in)
			r.failed(t)
			var mustMask []string
			for _, k := range []string{"authentik-token", "github-token"} {
				if v := in[k]; v != "" {
					mustMask = append(mustMask, v)
				}
			}
			w.requireMasks(r, mustMask...)
		}
	})
}

// requireMasks records secrets the run must have masked, checked with the
// leak scan; both tokens are always added.
func (w *world) requireMasks(r *result, secrets ...string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	r.mustMask = append(r.mustMask, secrets...)
	if r.inputs["authentik-token"] == "" {
		r.mustMask = append(r.mustMask, authentikfake.DefaultToken)
	}
	if r.inputs["github-token"] == "" {
		r.mustMask = append(r.mustMask, sandbox.GitHubToken)
	}
}

// clientSecret returns authentik's current client secret.
func (w *world) clientSecret(t *testing.T) string {
	t.Helper()
	p, ok := w.sb.Authentik.Provider(providerName)
	if !ok {
		t.Fatal("no provider")
	}
	return p.ClientSecret
}
