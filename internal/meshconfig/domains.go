package meshconfig

import "strings"

// Domain is one domain of config.json as MeshCentral reads it, with the
// parts of its oidc block that tell which client it signs in with.
type Domain struct {
	// Name is the domain key as written in the file.
	Name string
	// Issuer is the oidc issuer URL, from a string or an issuer object;
	// empty without an oidc block.
	Issuer string
	// ClientSecret is the client secret value (or placeholder) of either
	// form of the oidc block.
	ClientSecret string
}

// Domains returns the domains of src in file order. Keys are matched the
// way MeshCentral reads them, so a mixed-case key wins over its lower-case
// twin. An authStrategies block placed directly under domains, which Edit
// moves into a domain, is not listed.
func Domains(src []byte) ([]Domain, error) {
	doc, err := loadDocument("config.json", src)
	if err != nil {
		return nil, err
	}
	domains := doc.root.effective("domains")
	if domains == nil || domains.value.kind != kindObject {
		return nil, nil
	}
	var out []Domain
	for _, m := range domains.value.members {
		if strings.EqualFold(m.key, "authstrategies") {
			continue
		}
		d := Domain{Name: m.key}
		oidc := m.value.effective("authstrategies").valueOrNil().effective("oidc").valueOrNil()
		if issuer := oidc.effective("issuer"); issuer != nil {
			switch issuer.value.kind {
			case kindString:
				d.Issuer = issuer.value.str
			case kindObject:
				d.Issuer = issuer.value.effective("issuer").stringOrEmpty()
			}
		}
		d.ClientSecret = oidc.effective("client").valueOrNil().effective("client_secret").stringOrEmpty()
		if flat := oidc.effective("clientsecret"); flat != nil {
			d.ClientSecret = flat.stringOrEmpty()
		}
		out = append(out, d)
	}
	return out, nil
}

// valueOrNil returns the member's value, or nil for a missing member, so
// lookups can be chained.
func (m *member) valueOrNil() *node {
	if m == nil {
		return nil
	}
	return m.value
}

// stringOrEmpty returns the member's string value, or "" when the member is
// missing or not a string.
func (m *member) stringOrEmpty() string {
	if m == nil || m.value.kind != kindString {
		return ""
	}
	return m.value.str
}
