package e2e

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/meshauth/meshcentral-authentik-action/internal/testutil"
)

// TestApplyEverySharedConfig runs apply on every real-world and sample
// MeshCentral config: strict files must yield a pull request whose
// config.json is strict JSON with only the oidc block's lines changed; the
// .jsonc files (trailing commas) must be rejected with line and column and
// nothing written.
func TestApplyEverySharedConfig(t *testing.T) {
	shared := testutil.SharedDir(t)
	var files []string
	for _, dir := range []string{"samples", "real-world"} {
		matches, err := filepath.Glob(filepath.Join(shared, "meshcentral", dir, "*"))
		if err != nil {
			t.Fatal(err)
		}
		files = append(files, matches...)
	}
	if len(files) < 10 {
		t.Fatalf("found %d config files, want the samples and real-world files", len(files))
	}
	for _, file := range files {
		t.Run(filepath.Base(file), func(t *testing.T) {
			t.Parallel()
			original, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			w := newWorld(t, original)
			res := w.run(nil)
			if strings.HasSuffix(file, ".jsonc") {
				if res.exitCode == 0 {
					t.Fatal("apply accepted a file that is not strict JSON")
				}
				contains(t, "log", res.stdout, "file=meshcentral-data/config.json,line=")
				ak, gh := w.writes()
				if ak != 0 || gh != 0 {
					t.Errorf("writes: authentik %d, GitHub %d; want none", ak, gh)
				}
				return
			}
			res.mustSucceed(t)
			pulls := w.pulls()
			if len(pulls) != 1 {
				t.Fatalf("%d pull requests, want 1", len(pulls))
			}
			content := w.committed(t, pulls[0].Number, "meshcentral-data/config.json")
			oidc := oidcBlock(t, content, "")
			p, _ := w.sb.Authentik.Provider("Provider for MeshCentral")
			if id := clientIDOf(oidc); id != p.ClientID {
				t.Errorf("client ID in config = %q, want %q", id, p.ClientID)
			}
			if err := checkOnlyOIDCLinesChanged(original, content, ""); err != nil {
				t.Error(err)
			}
		})
	}
}

// clientIDOf reads the client ID from either form of the oidc block.
func clientIDOf(oidc map[string]any) string {
	if c, ok := oidc["client"].(map[string]any); ok {
		if id, ok := c["client_id"].(string); ok {
			return id
		}
	}
	id, _ := oidc["clientid"].(string)
	return id
}
