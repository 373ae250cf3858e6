package retry

import (
	"context"
	"net/http"
	"slices"
	"testing"

	api "goauthentik.io/api/v3"
)

// TestAuthentikClientPatchProvider runs a generated authentik client PATCH
// through the transport: a 503 is retried with the same JSON body.
func TestAuthentikClientPatchProvider(t *testing.T) {
	t.Parallel()
	srv := newServer(t, 1, status(http.StatusServiceUnavailable, ""))
	rt, h := newHarness(Options{})
	conf := api.NewConfiguration()
	conf.Servers = api.ServerConfigurations{{URL: srv.URL + "/api/v3"}}
	conf.HTTPClient = &http.Client{Transport: rt}
	client := api.NewAPIClient(conf)

	patch := api.NewPatchedOAuth2ProviderRequest()
	patch.SetName("Provider for MeshCentral")
	// The server's reply is plain text, which the generated client cannot
	// decode ("undefined response type"), so only the requests sent are
	// checked, not the decoded provider.
	_, resp, err := client.ProvidersApi.ProvidersOauth2PartialUpdate(context.Background(), 7).PatchedOAuth2ProviderRequest(*patch).Execute()
	if resp == nil {
		t.Fatalf("PATCH returned no response: %v", err)
	}
	if resp.StatusCode != http.StatusOK {
		t.Errorf("status = %d; want 200", resp.StatusCode)
	}

	const want = `{"name":"Provider for MeshCentral"}` + "\n"
	if got := srv.received(); !slices.Equal(got, []string{want, want}) {
		t.Errorf("server received %q; want %q twice", got, want)
	}
	if l := h.lines(); len(l) != 1 {
		t.Errorf("log lines = %q; want 1", l)
	}
}
