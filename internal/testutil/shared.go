// Package testutil locates test inputs shared with the project: the
// MeshCentral config files and failing cases kept in the shared folder
// beside the repository.
package testutil

import (
	"os"
	"path/filepath"
	"testing"
)

// ModuleRoot returns the directory of go.mod, searching up from the working
// directory of the test.
func ModuleRoot(t testing.TB) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("go.mod not found above the test's working directory")
		}
		dir = parent
	}
}

// SharedDir returns the shared folder: $MESHAUTH_SHARED when set, else
// ../shared beside the repository. When it is missing, the test is skipped
// outside CI and fails when CI=true, so CI never passes without it.
func SharedDir(t testing.TB) string {
	t.Helper()
	dir := os.Getenv("MESHAUTH_SHARED")
	if dir == "" {
		dir = filepath.Join(ModuleRoot(t), "..", "shared")
	}
	if _, err := os.Stat(filepath.Join(dir, "meshcentral")); err != nil {
		if os.Getenv("CI") == "true" && os.Getenv("GITHUB_ACTIONS") != "true" {
			t.Fatalf("shared test inputs not found at %s: set MESHAUTH_SHARED", dir)
		}
		t.Skipf("shared test inputs not found at %s (set MESHAUTH_SHARED to run this test)", dir)
	}
	return dir
}
