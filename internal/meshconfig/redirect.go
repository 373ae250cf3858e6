package meshconfig

import (
	"fmt"
	"net"
	"net/url"
	"strconv"
	"strings"
)

// RedirectURI returns the callback to write explicitly in both authentik
// and config.json for domain, given meshURL, the public URL users open
// (the meshcentral-url input):
//
//	<scheme>://<meshURL host>[:<port unless default>]/[<domain>/]auth-oidc-callback
//
// The domain path is lower-cased, as MeshCentral lower-cases domain names,
// and left out for the default domain and for a domain with its own dns
// name, which is served at its host's root. The path of meshURL is ignored.
//
// The warnings report settings that make MeshCentral's own callback and
// links differ from meshURL. These are a settings.port other than the
// public port with no aliasPort (a reverse proxy in front), an aliasPort
// other than the public port, and a host other than settings.cert or the
// domain's dns name.
func RedirectURI(src []byte, meshURL *url.URL, domain string) (uri string, warnings []string, err error) {
	if meshURL == nil || meshURL.Hostname() == "" || (meshURL.Scheme != "https" && meshURL.Scheme != "http") {
		return "", nil, fmt.Errorf("compute the redirect URI: meshcentral-url %q is not an absolute http(s) URL", fmt.Sprint(meshURL))
	}
	doc, err := loadDocument("config.json", src)
	if err != nil {
		return "", nil, err
	}
	var settings, dom *member
	if doc.root.kind == kindObject {
		settings = doc.root.effective("settings")
		if d := doc.root.effective("domains"); d != nil && d.value.kind == kindObject {
			dom = d.value.effective(domain)
		}
	}

	scheme := strings.ToLower(meshURL.Scheme)
	host := strings.ToLower(meshURL.Hostname())
	publicPort := 443
	if scheme == "http" {
		publicPort = 80
	}
	hostport := host
	if strings.Contains(host, ":") {
		hostport = "[" + host + "]"
	}
	if p := meshURL.Port(); p != "" {
		n, err := strconv.Atoi(p)
		if err != nil {
			return "", nil, fmt.Errorf("compute the redirect URI: meshcentral-url %q has the port %q", meshURL.String(), p)
		}
		if n != publicPort {
			hostport = net.JoinHostPort(host, p)
		}
		publicPort = n
	}

	var dns *member
	if dom != nil && dom.value.kind == kindObject {
		if m := dom.value.effective("dns"); m != nil && m.value.kind == kindString && m.value.str != "" {
			dns = m
		}
	}
	path := "/"
	if domain != "" && dns == nil {
		path += strings.ToLower(domain) + "/"
	}
	uri = scheme + "://" + hostport + path + "auth-oidc-callback"

	if p := strings.TrimSuffix(meshURL.EscapedPath(), "/"); p != "" && p != strings.TrimSuffix(path, "/") {
		warnings = append(warnings, fmt.Sprintf(
			"meshcentral-url %q has the path %q, which the redirect URI leaves out: MeshCentral serves domain %q at %q",
			meshURL.String(), meshURL.EscapedPath(), domain, path))
	}
	if settings != nil && settings.value.kind == kindObject {
		warnings = append(warnings, portWarnings(doc, settings, publicPort, uri)...)
		want, from := settings.value.effective("cert"), join(settings.key, "cert")
		if want != nil {
			from = join(settings.key, want.key)
		}
		if dns != nil {
			want, from = dns, fmt.Sprintf("domains[%q].%s", dom.key, dns.key)
		}
		if want != nil && want.value.kind == kindString && want.value.str != "" &&
			!strings.Contains(want.value.str, "$") && !strings.EqualFold(want.value.str, host) {
			warnings = append(warnings, fmt.Sprintf(
				"meshcentral-url host %q differs from %s %q, which MeshCentral uses to build its own links; "+
					"the redirect URI follows meshcentral-url", host, from, want.value.str))
		}
	}
	return uri, warnings, nil
}

func portWarnings(doc *document, settings *member, publicPort int, uri string) []string {
	port, portKey := intSetting(doc, settings.value, "port")
	alias, aliasKey := intSetting(doc, settings.value, "aliasPort")
	switch {
	case alias > 0 && alias != publicPort:
		return []string{fmt.Sprintf(
			"%s is %d but meshcentral-url uses port %d; MeshCentral builds its links with %d, so set %q: %d",
			join(settings.key, aliasKey), alias, publicPort, alias, aliasKey, publicPort)}
	case alias == 0 && port > 0 && port != publicPort:
		return []string{fmt.Sprintf(
			"%s is %d and %s has no aliasPort, so behind a reverse proxy MeshCentral builds links, and its default "+
				"OIDC callback, with port %d, which authentik rejects; the redirect URI %s is written explicitly on both sides "+
				"to avoid that, and adding \"aliasPort\": %d to %s fixes the other links",
			join(settings.key, portKey), port, settings.key, port, uri, publicPort, settings.key)}
	}
	return nil
}

// intSetting reads a port from settings, as a number or a numeric string,
// and returns it with the key as spelled. The port is 0 when absent or
// invalid.
func intSetting(doc *document, settings *node, key string) (int, string) {
	m := settings.effective(key)
	if m == nil {
		return 0, key
	}
	raw := m.value.str
	switch m.value.kind {
	case kindNumber:
		raw = string(doc.text[m.value.start:m.value.end])
	case kindString:
	default:
		return 0, m.key
	}
	n, err := strconv.Atoi(strings.TrimSpace(raw))
	if err != nil || n <= 0 || n > 65535 {
		return 0, m.key
	}
	return n, m.key
}
