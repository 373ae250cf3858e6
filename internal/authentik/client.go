// Package authentik turns the desired authentik state for MeshCentral (an
// OAuth2/OpenID provider, an application and its group bindings) into change
// entries, and those entries into API requests.
//
// Start with [New], then [Client.Plan], which only reads: it checks the
// server version, resolves flows, the signing key, scope mappings and groups,
// adopts the application and provider that already exist, and computes the
// change list. [Client.Apply] performs exactly the writes a plan computed,
// provider first, then application, then bindings, so that a run cut short
// is finished by the next one without creating duplicates.
//
// Every list request follows authentik's pagination. Errors from the API
// are [*HTTPError] values that carry the status, the step and, for 400
// responses, the field errors the generated client drops. No error and no
// change entry carries a secret value.
package authentik

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	api "goauthentik.io/api/v3"
)

// defaultUserAgent is sent when Config.UserAgent is empty.
const defaultUserAgent = "meshcentral-authentik-action"

// defaultPageSize is the page size requested by every list call.
const defaultPageSize = 100

// Config is the connection settings for authentik.
type Config struct {
	// URL is the authentik base URL, such as https://auth.example.com/; a
	// path prefix is kept.
	URL *url.URL
	// Token is an authentik API token, sent as a bearer token.
	Token string
	// CACertPEM is an extra CA certificate (PEM) to trust besides the system
	// roots. TLS verification is never switched off.
	CACertPEM string
	// HTTPClient, when set, is used as is, and CACertPEM is ignored. Tests
	// and callers that wrap the transport (retries, logging) set it.
	HTTPClient *http.Client
	// UserAgent is the User-Agent header. Empty means defaultUserAgent.
	UserAgent string
}

// Client talks to one authentik server. It is safe for concurrent use.
type Client struct {
	api      *api.APIClient
	base     *url.URL
	pageSize int32

	mu      sync.Mutex
	secrets []string // values scrubbed from error text
}

// New returns a client for cfg. It makes no request.
func New(cfg Config) (*Client, error) {
	if cfg.URL == nil || cfg.URL.Host == "" {
		return nil, errors.New("configure authentik client: the authentik URL is empty")
	}
	if cfg.URL.Scheme != "https" && cfg.URL.Scheme != "http" {
		return nil, fmt.Errorf("configure authentik client: URL scheme %q is not http or https", cfg.URL.Scheme)
	}
	if cfg.Token == "" {
		return nil, errors.New("configure authentik client: the authentik token is empty")
	}

	httpClient := cfg.HTTPClient
	if httpClient == nil {
		var err error
		if httpClient, err = newHTTPClient(cfg.CACertPEM); err != nil {
			return nil, err
		}
	}

	base := *cfg.URL
	base.Path = strings.TrimRight(base.Path, "/")
	base.RawPath, base.RawQuery, base.Fragment = "", "", ""

	conf := api.NewConfiguration()
	conf.Servers = api.ServerConfigurations{{URL: base.String() + "/api/v3"}}
	conf.HTTPClient = httpClient
	conf.UserAgent = cfg.UserAgent
	if conf.UserAgent == "" {
		conf.UserAgent = defaultUserAgent
	}
	conf.AddDefaultHeader("Authorization", "Bearer "+cfg.Token)

	return &Client{
		api:      api.NewAPIClient(conf),
		base:     &base,
		secrets:  []string{cfg.Token},
		pageSize: defaultPageSize,
	}, nil
}

// newHTTPClient returns a client that trusts the system roots plus caPEM.
func newHTTPClient(caPEM string) (*http.Client, error) {
	tlsConf := &tls.Config{MinVersion: tls.VersionTLS12}
	if strings.TrimSpace(caPEM) != "" {
		pool, err := x509.SystemCertPool()
		if err != nil {
			pool = x509.NewCertPool()
		}
		if !pool.AppendCertsFromPEM([]byte(caPEM)) {
			return nil, errors.New("configure authentik client: invalid CA certificate: no PEM certificate found; pass the PEM text in authentik-ca-certificate")
		}
		tlsConf.RootCAs = pool
	}
	transport := http.DefaultTransport.(*http.Transport).Clone()
	transport.TLSClientConfig = tlsConf
	return &http.Client{Transport: transport, Timeout: 60 * time.Second}, nil
}

// Issuer returns the OpenID issuer of the application with the given slug:
// <url>/application/o/<slug>/.
func (c *Client) Issuer(slug string) string {
	return c.base.String() + "/application/o/" + slug + "/"
}

// maxPages bounds a list so that a server whose pagination never ends
// cannot keep a run busy forever.
const maxPages = 1000

// page is one page of a list request.
type page[T any] struct {
	items []T
	next  float32
}

// listAll calls fetch for page 1 and every page authentik's pagination.next
// names after it, and returns all items.
func listAll[T any](c *Client, o op, fetch func(n int32) (page[T], *http.Response, error)) ([]T, error) {
	var all []T
	for n := int32(1); ; {
		p, resp, err := fetch(n)
		if err := c.fail(o, resp, err); err != nil {
			return nil, err
		}
		all = append(all, p.items...)
		next := int32(p.next)
		if next == 0 {
			return all, nil
		}
		if next <= n || n >= maxPages {
			return nil, fmt.Errorf("%s: pagination does not advance (page %d names next page %d)", o, n, next)
		}
		n = next
	}
}
