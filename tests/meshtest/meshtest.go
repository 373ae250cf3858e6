// Package meshtest runs a real MeshCentral 1.1.55 on loopback and signs
// users in to it through OpenID Connect without a browser.
//
// Start takes a config.json, rewrites its settings so MeshCentral listens on
// 127.0.0.1 only and contacts no other host, runs it from the npm install in
// tests/meshcentral and waits until every domain with an oidc block offers
// the OpenID Connect sign-in. Login then walks the sign-in redirects with a
// cookie jar and reads MeshCentral's auth log and user database to report
// whether the user exists and is a site administrator.
//
// Run `npm ci` in tests/meshcentral first; Start fails when the modules are
// missing and never lets MeshCentral install any.
package meshtest

import (
	"bytes"
	"context"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// Version is the MeshCentral version the harness expects in Dir.
const Version = "1.1.55"

// Options configure one MeshCentral run.
type Options struct {
	// Dir contains node_modules with meshcentral; empty means
	// tests/meshcentral of this repository.
	Dir string
	// Config is the config.json to run. Start rewrites its settings (see
	// the package documentation) and keeps its domains as they are.
	Config []byte
	// Cert is the host name of MeshCentral's certificate and default
	// origin; empty means "localhost". Login dials 127.0.0.1 whatever the
	// name, so the name never has to resolve.
	Cert string
	// Port is the loopback HTTPS port; 0 picks a free one.
	Port int
	// ExtraCACertPEM is trusted by MeshCentral (NODE_EXTRA_CA_CERTS) and by
	// Login, typically the certificate of the OIDC fake's TLS server.
	ExtraCACertPEM []byte
	// DataDir receives the datapath; empty means a new temporary directory
	// that Stop removes.
	DataDir string
	// SessionKey is MeshCentral's session key; empty means a fixed test key.
	SessionKey string
	// StartTimeout bounds the wait for MeshCentral to be ready when ctx has
	// no earlier deadline; zero means 90 seconds.
	StartTimeout time.Duration
}

// Instance is one running MeshCentral.
type Instance struct {
	// Cert is the certificate host name, Port the loopback port.
	Cert string
	Port int
	// AliasPort is settings.aliasPort of the config, or 0. Login sends
	// connections for that port to Port, as a reverse proxy would.
	AliasPort int
	// DataDir is MeshCentral's datapath, AuthLogPath its auth log.
	DataDir     string
	AuthLogPath string

	config  *object
	roots   *x509.CertPool
	cmd     *exec.Cmd
	output  *lockedBuffer
	exited  chan struct{}
	waitErr error
	ownData bool
	stop    sync.Once
}

// Start runs MeshCentral with opts and returns once every domain that has an
// oidc block serves a login page offering OpenID Connect. On error nothing
// is left running, and the error includes MeshCentral's output.
func Start(ctx context.Context, opts Options) (*Instance, error) {
	dir, err := meshcentralDir(opts.Dir)
	if err != nil {
		return nil, err
	}
	inst := &Instance{Cert: opts.Cert, Port: opts.Port, DataDir: opts.DataDir, output: &lockedBuffer{}, exited: make(chan struct{})}
	if inst.Cert == "" {
		inst.Cert = "localhost"
	}
	if inst.Port == 0 {
		if inst.Port, err = freePort(); err != nil {
			return nil, err
		}
	}
	if inst.DataDir == "" {
		if inst.DataDir, err = os.MkdirTemp("", "meshtest-"); err != nil {
			return nil, fmt.Errorf("create data directory: %w", err)
		}
		inst.ownData = true
	}
	inst.AuthLogPath = filepath.Join(inst.DataDir, "auth.log")

	cmd, err := inst.prepare(dir, opts)
	if err != nil {
		inst.cleanup()
		return nil, err
	}
	inst.cmd = cmd
	if err := cmd.Start(); err != nil {
		inst.cleanup()
		return nil, fmt.Errorf("start node in %q: %w", dir, err)
	}
	go func() {
		inst.waitErr = cmd.Wait()
		close(inst.exited)
	}()

	timeout := opts.StartTimeout
	if timeout == 0 {
		timeout = 90 * time.Second
	}
	waitCtx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	if err := inst.waitReady(waitCtx); err != nil {
		inst.Stop()
		return nil, fmt.Errorf("%w\n--- MeshCentral output ---\n%s", err, inst.Output())
	}
	return inst, nil
}

// prepare writes the datapath and builds the node command.
func (inst *Instance) prepare(dir string, opts Options) (*exec.Cmd, error) {
	sessionKey := opts.SessionKey
	if sessionKey == "" {
		sessionKey = "meshtest-session-key-0123456789abcdef"
	}
	cfg, err := sanitize(opts.Config, inst.Cert, inst.Port, inst.AuthLogPath, sessionKey)
	if err != nil {
		return nil, err
	}
	inst.config = cfg
	inst.AliasPort = cfg.childObject("settings").intValue("aliasport")
	if err := os.WriteFile(filepath.Join(inst.DataDir, "config.json"), cfg.marshal(), 0o600); err != nil {
		return nil, fmt.Errorf("write config.json: %w", err)
	}

	inst.roots = x509.NewCertPool()
	env := cleanEnv(os.Environ())
	if len(opts.ExtraCACertPEM) > 0 {
		if !inst.roots.AppendCertsFromPEM(opts.ExtraCACertPEM) {
			return nil, errors.New("ExtraCACertPEM contains no PEM certificate")
		}
		caFile := filepath.Join(inst.DataDir, "extra-ca.pem")
		if err := os.WriteFile(caFile, opts.ExtraCACertPEM, 0o600); err != nil {
			return nil, fmt.Errorf("write extra CA file: %w", err)
		}
		env = append(env, "NODE_EXTRA_CA_CERTS="+caFile)
	}

	// MeshCentral installs missing modules with npm at start. Pointing it
	// at "false" makes such an install fail at once instead of reaching a
	// registry, and waitReady reports the module list.
	noNPM, err := exec.LookPath("false")
	if err != nil {
		return nil, fmt.Errorf("find the false command: %w", err)
	}
	cmd := exec.Command("node", filepath.Join("node_modules", "meshcentral"),
		"--datapath", inst.DataDir,
		"--filespath", filepath.Join(inst.DataDir, "files"),
		"--npmpath", noNPM,
	)
	cmd.Dir = dir
	cmd.Env = env
	cmd.Stdout = inst.output
	cmd.Stderr = inst.output
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	return cmd, nil
}

// cleanEnv drops proxy variables (MeshCentral would install a proxy module
// and send requests through it) and MESHCENTRAL_ variables (read as
// command-line arguments).
func cleanEnv(env []string) []string {
	var out []string
	for _, kv := range env {
		name, _, _ := strings.Cut(kv, "=")
		upper := strings.ToUpper(name)
		if upper == "HTTP_PROXY" || upper == "HTTPS_PROXY" || upper == "NO_PROXY" || upper == "NODE_EXTRA_CA_CERTS" ||
			strings.HasPrefix(upper, "MESHCENTRAL_") {
			continue
		}
		out = append(out, kv)
	}
	return out
}

// meshcentralDir checks that dir (or the default) holds MeshCentral
// Version.
func meshcentralDir(dir string) (string, error) {
	if dir == "" {
		// The source path is absolute unless the test binary was built
		// with -trimpath; go test then runs in this package's directory.
		dir = filepath.Join("..", "meshcentral")
		if _, file, _, ok := runtime.Caller(0); ok && filepath.IsAbs(file) {
			dir = filepath.Join(filepath.Dir(file), "..", "meshcentral")
		}
	}
	data, err := os.ReadFile(filepath.Join(dir, "node_modules", "meshcentral", "package.json"))
	if err != nil {
		return "", fmt.Errorf("read MeshCentral's package.json (run npm ci in %q): %w", dir, err)
	}
	var pkg struct{ Version string }
	if err := json.Unmarshal(data, &pkg); err != nil {
		return "", fmt.Errorf("decode MeshCentral's package.json in %q: %w", dir, err)
	}
	if pkg.Version != Version {
		return "", fmt.Errorf("MeshCentral in %q is %q, want %q (run npm ci there)", dir, pkg.Version, Version)
	}
	return dir, nil
}

// FreePort returns a loopback TCP port that was free a moment ago, for
// configs that must name MeshCentral's port before Start.
func FreePort() (int, error) {
	return freePort()
}

// handedOut holds the ports freePort returned in this process, so two
// parallel tests never get the same port between choosing it and
// MeshCentral binding it.
var handedOut = struct {
	sync.Mutex
	ports map[int]bool
}{ports: map[int]bool{}}

func freePort() (int, error) {
	handedOut.Lock()
	defer handedOut.Unlock()
	for range 100 {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return 0, fmt.Errorf("find a free loopback port: %w", err)
		}
		port := l.Addr().(*net.TCPAddr).Port
		l.Close()
		if !handedOut.ports[port] {
			handedOut.ports[port] = true
			return port, nil
		}
	}
	return 0, errors.New("find a free loopback port: every port offered was handed out before")
}

// Stop ends MeshCentral's process group (a launcher and the child process
// that serves) with SIGTERM, then SIGKILL, and removes the data directory
// if Start created it. It is safe to call more than once.
func (inst *Instance) Stop() {
	inst.stop.Do(func() {
		if inst.cmd != nil && inst.cmd.Process != nil {
			group := -inst.cmd.Process.Pid
			_ = syscall.Kill(group, syscall.SIGTERM)
			select {
			case <-inst.exited:
			case <-time.After(5 * time.Second):
			}
			// The serving child may outlive the launcher, so the whole
			// group gets SIGKILL even after the launcher has exited.
			_ = syscall.Kill(group, syscall.SIGKILL)
		}
		inst.cleanup()
	})
}

func (inst *Instance) cleanup() {
	if inst.ownData {
		_ = os.RemoveAll(inst.DataDir)
	}
}

// Output returns what MeshCentral has printed so far, stdout and stderr
// interleaved.
func (inst *Instance) Output() string {
	return inst.output.String()
}

// AuthLog returns the auth log so far.
func (inst *Instance) AuthLog() string {
	data, _ := os.ReadFile(inst.AuthLogPath)
	return string(data)
}

// lockedBuffer collects process output written from two pipes.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// origin returns the https origin for host (empty means Cert) as MeshCentral
// builds it.
func (inst *Instance) origin(host string) string {
	if host == "" {
		host = inst.Cert
	}
	return "https://" + net.JoinHostPort(host, strconv.Itoa(inst.Port))
}
