package meshtest

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// domain is one domain of the running config, as MeshCentral serves it.
type domain struct {
	id   string // the lower-cased key: "" for the default domain
	dns  string // its own host name, or ""
	oidc bool   // whether it has an authStrategies.oidc object
}

// path is the URL path prefix of the domain, with a trailing slash.
func (d domain) path() string {
	if d.id == "" || d.dns != "" {
		return "/"
	}
	return "/" + d.id + "/"
}

// domains lists the config's domains, each once, as MeshCentral resolves
// keys that differ only in case.
func (inst *Instance) domains() []domain {
	m, ok := inst.config.get("domains")
	if !ok || m.child == nil {
		return []domain{{id: ""}}
	}
	seen := map[string]bool{}
	var out []domain
	for _, candidate := range m.child.members {
		id := strings.ToLower(candidate.key)
		if seen[id] || strings.HasPrefix(id, "_") {
			continue
		}
		seen[id] = true
		d, _ := m.child.get(id)
		if d.child == nil {
			continue
		}
		entry := domain{id: id, dns: strings.ToLower(d.child.stringValue("dns"))}
		if as, ok := d.child.get("authstrategies"); ok && as.child != nil {
			if o, ok := as.child.get("oidc"); ok && o.child != nil {
				entry.oidc = true
			}
		}
		out = append(out, entry)
	}
	return out
}

// domainFor returns the domain MeshCentral picks for a request to host
// (without port) and domainPath: the one whose dns equals host, otherwise
// the one named domainPath.
func (inst *Instance) domainFor(domainPath, host string) (domain, error) {
	all := inst.domains()
	for _, d := range all {
		if d.dns != "" && strings.EqualFold(d.dns, host) {
			return d, nil
		}
	}
	id := strings.ToLower(strings.Trim(domainPath, "/"))
	for _, d := range all {
		if d.dns == "" && d.id == id {
			return d, nil
		}
	}
	return domain{}, fmt.Errorf("no domain %q for host %q in the config", id, host)
}

var authStrategiesRE = regexp.MustCompile(`var authStrategies = '([^']*)'`)

// waitReady polls until MeshCentral serves every login page it should. It
// returns an error as soon as MeshCentral exits, crashes (its launcher then
// restarts it every five seconds) or tries to install npm modules.
func (inst *Instance) waitReady(ctx context.Context) error {
	tick := time.NewTicker(250 * time.Millisecond)
	defer tick.Stop()
	var last error
	for {
		exited := false
		select {
		case <-inst.exited:
			exited = true
		case <-ctx.Done():
			return fmt.Errorf("wait for MeshCentral on port %d: %w (last check: %v)", inst.Port, ctx.Err(), last)
		case <-tick.C:
		}

		out := inst.Output()
		switch {
		case strings.Contains(out, "Installing modules"):
			return errors.New("MeshCentral tried to install npm modules; pin them in tests/meshcentral/package.json")
		case strings.Contains(out, "failed with critical error"):
			return errors.New("MeshCentral crashed during start and restarts in a loop")
		case exited:
			return fmt.Errorf("MeshCentral exited during start: %v", inst.waitErr)
		}
		if !strings.Contains(out, "HTTPS server running") {
			last = errors.New("HTTPS server not running yet")
			continue
		}
		if last = inst.loadRoot(); last != nil {
			continue
		}
		if last = inst.checkLoginPages(ctx); last == nil {
			return nil
		}
	}
}

// loadRoot trusts MeshCentral's generated root certificate.
func (inst *Instance) loadRoot() error {
	data, err := os.ReadFile(filepath.Join(inst.DataDir, "root-cert-public.crt"))
	if err != nil {
		return fmt.Errorf("read MeshCentral's root certificate: %w", err)
	}
	block, _ := pem.Decode(data)
	if block == nil {
		return errors.New("MeshCentral's root certificate is not PEM yet")
	}
	cert, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		return fmt.Errorf("parse MeshCentral's root certificate: %w", err)
	}
	inst.roots.AddCert(cert)
	return nil
}

// checkLoginPages returns nil once every domain with an oidc block shows
// the OpenID Connect button. When no domain has one, it only needs the
// default login page.
func (inst *Instance) checkLoginPages(ctx context.Context) error {
	client := inst.newClient(nil)
	checked := false
	for _, d := range inst.domains() {
		if !d.oidc {
			continue
		}
		checked = true
		strategies, err := loginStrategies(ctx, client, inst.origin(d.dns)+d.path())
		if err != nil {
			return err
		}
		if !strings.Contains(strategies, "oidc") {
			return fmt.Errorf("login page of domain %q offers %q, no oidc yet", d.id, strategies)
		}
	}
	if !checked {
		_, err := loginStrategies(ctx, client, inst.origin("")+"/")
		return err
	}
	return nil
}

// loginStrategies fetches a login page and returns its authStrategies list.
func loginStrategies(ctx context.Context, client *http.Client, pageURL string) (string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, pageURL, nil)
	if err != nil {
		return "", err
	}
	resp, err := client.Do(req)
	if err != nil {
		return "", fmt.Errorf("get login page %q: %w", pageURL, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return "", fmt.Errorf("read login page %q: %w", pageURL, err)
	}
	if resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("login page %q: status %d", pageURL, resp.StatusCode)
	}
	m := authStrategiesRE.FindSubmatch(body)
	if m == nil {
		return "", fmt.Errorf("login page %q has no authStrategies list", pageURL)
	}
	return string(m[1]), nil
}

// newClient returns an HTTP client that trusts MeshCentral's root and
// ExtraCACertPEM and never follows redirects. It connects to loopback only.
// Host names are dialed at 127.0.0.1, so the TLS server name and Host header
// stay those of the URL, and connections to AliasPort go to Port.
func (inst *Instance) newClient(jar http.CookieJar) *http.Client {
	dialer := &net.Dialer{Timeout: 5 * time.Second}
	transport := &http.Transport{
		Proxy:           nil,
		TLSClientConfig: &tls.Config{RootCAs: inst.roots, MinVersion: tls.VersionTLS12},
		DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			host, port, err := net.SplitHostPort(addr)
			if err != nil {
				return nil, err
			}
			if ip := net.ParseIP(host); ip == nil {
				host = "127.0.0.1"
			} else if !ip.IsLoopback() {
				return nil, fmt.Errorf("dial %q: meshtest connects to loopback only", addr)
			}
			if inst.AliasPort != 0 && port == strconv.Itoa(inst.AliasPort) {
				port = strconv.Itoa(inst.Port)
			}
			return dialer.DialContext(ctx, network, net.JoinHostPort(host, port))
		},
	}
	return &http.Client{
		Transport:     transport,
		Jar:           jar,
		Timeout:       30 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}
