package action

import (
	"fmt"
	"os"
	"path/filepath"
	"syscall"

	"github.com/meshauth/meshcentral-authentik-action/internal/meshconfig"
)

// render writes the deployable config.json: the checked-out config-path with
// the client secret placeholder replaced. Paths are relative to
// GITHUB_WORKSPACE, or to the working directory outside Actions.
func (r *runner) render() error {
	workspace := r.env.Getenv("GITHUB_WORKSPACE")
	if workspace == "" {
		workspace = "."
	}
	src := filepath.Join(workspace, filepath.FromSlash(r.in.ConfigPath))
	content, err := os.ReadFile(src)
	if err != nil {
		return fmt.Errorf("read config-path %q: %w (check out the deployment repository first, for example with actions/checkout)", r.in.ConfigPath, err)
	}
	out, err := meshconfig.Render(content, r.in.Placeholder(), r.in.ClientSecret)
	if err != nil {
		return fmt.Errorf("render %q: %w", r.in.ConfigPath, err)
	}

	dst := r.in.RenderOutput
	if !filepath.IsAbs(dst) {
		dst = filepath.Join(workspace, dst)
	}
	if info, err := os.Stat(dst); err == nil && info.IsDir() {
		return fmt.Errorf("input render-output has invalid value %q: it is a directory; name a file, such as %s", r.in.RenderOutput, filepath.ToSlash(filepath.Join(r.in.RenderOutput, "config.json")))
	}
	created := missingDirs(filepath.Dir(dst))
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return fmt.Errorf("create the directory of render-output %q: %w", r.in.RenderOutput, err)
	}
	for _, dir := range created {
		if err := chownLike(dir, workspace); err != nil {
			r.gha.Warningf("could not give %s to the workspace owner: %s", dir, err)
		}
	}
	// Write to a temporary file and rename it, so a deploy step never reads a
	// half-written file and the mode is 0600 from the first byte.
	tmp, err := os.CreateTemp(filepath.Dir(dst), ".config-*.json")
	if err != nil {
		return fmt.Errorf("write render-output %q: %w", r.in.RenderOutput, err)
	}
	defer os.Remove(tmp.Name())
	if err := tmp.Chmod(0o600); err != nil {
		tmp.Close()
		return fmt.Errorf("write render-output %q: %w", r.in.RenderOutput, err)
	}
	if _, err := tmp.Write(out); err != nil {
		tmp.Close()
		return fmt.Errorf("write render-output %q: %w", r.in.RenderOutput, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("write render-output %q: %w", r.in.RenderOutput, err)
	}
	if err := os.Rename(tmp.Name(), dst); err != nil {
		return fmt.Errorf("write render-output %q: %w", r.in.RenderOutput, err)
	}
	// A container action runs as root, so the file goes to the owner of the
	// workspace. Otherwise later steps of the job could not delete it.
	if err := chownLike(dst, workspace); err != nil {
		r.gha.Warningf("could not give %s to the workspace owner: %s", r.in.RenderOutput, err)
	}
	r.gha.Infof("Wrote %s with the client secret filled in (mode 0600).", r.in.RenderOutput)
	summary := fmt.Sprintf("### meshcentral-authentik render\n\nWrote `%s` from `%s` with `%s` filled in from the `client-secret` input (file mode 0600). Do not commit it or upload it as an artifact.\n",
		r.in.RenderOutput, r.in.ConfigPath, r.in.Placeholder())
	r.gha.AddStepSummary(summary)
	r.gha.SetOutput("summary", summary)
	r.gha.SetOutput("changed", "false")
	r.gha.SetOutput("drift", "false")
	return nil
}

// chownLike gives path the owner and group of ref, when the process runs as
// root and the two differ.
func chownLike(path, ref string) error {
	if os.Geteuid() != 0 {
		return nil
	}
	info, err := os.Stat(ref)
	if err != nil {
		return err
	}
	st, ok := info.Sys().(*syscall.Stat_t)
	if !ok || st.Uid == 0 {
		return nil
	}
	return os.Chown(path, int(st.Uid), int(st.Gid))
}

// missingDirs returns dir and those of its parents that do not exist yet.
func missingDirs(dir string) []string {
	var out []string
	for {
		if _, err := os.Stat(dir); err == nil {
			return out
		}
		out = append(out, dir)
		parent := filepath.Dir(dir)
		if parent == dir {
			return out
		}
		dir = parent
	}
}
