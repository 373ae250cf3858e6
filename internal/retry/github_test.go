package retry

import (
	"context"
	"net/http"
	"net/url"
	"slices"
	"testing"

	"github.com/google/go-github/v60/github"
)

// TestGitHubClientPutSecret runs a go-github write through the transport: a
// 502 on the first PUT is retried with the same JSON body.
func TestGitHubClientPutSecret(t *testing.T) {
	t.Parallel()
	srv := newServer(t, 1, status(http.StatusBadGateway, ""))
	rt, h := newHarness(Options{})
	client := github.NewClient(&http.Client{Transport: rt})
	base, err := url.Parse(srv.URL + "/")
	if err != nil {
		t.Fatalf("parse server URL: %v", err)
	}
	client.BaseURL = base

	secret := &github.EncryptedSecret{Name: "MESHCENTRAL_OIDC_CLIENT_SECRET", KeyID: "568250167242549743", EncryptedValue: "c2VhbGVk"}
	if _, err := client.Actions.CreateOrUpdateRepoSecret(context.Background(), "o", "r", secret); err != nil {
		t.Fatalf("CreateOrUpdateRepoSecret: %v", err)
	}

	const want = `{"key_id":"568250167242549743","encrypted_value":"c2VhbGVk"}` + "\n"
	if got := srv.received(); !slices.Equal(got, []string{want, want}) {
		t.Errorf("server received %q; want %q twice", got, want)
	}
	if l := h.lines(); len(l) != 1 {
		t.Errorf("log lines = %q; want 1", l)
	}
}
