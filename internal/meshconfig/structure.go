package meshconfig

import (
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/meshauth/meshcentral-authentik-action/internal/change"
)

// blockPath is the location of one domain's oidc block, found or to be
// created, with each existing key spelled as in the file.
type blockPath struct {
	domains, domain, strategies, oidc *member
	domainsNode                       *node
	domainsPath, domainPath           string
	strategiesPath, oidcPath          string
}

// locate finds domains → domain → authStrategies → oidc, failing on keys
// that differ only in case and on values that are not objects.
func locate(doc *document, domain string) (*blockPath, error) {
	bp := &blockPath{}
	var err error
	if bp.domains, err = doc.child(doc.root, "", "domains"); err != nil {
		return nil, err
	}
	bp.domainsPath = "domains"
	domainKey := strings.ToLower(domain)
	if bp.domains != nil {
		bp.domainsNode = bp.domains.value
		bp.domainsPath = bp.domains.key
		if bp.domain, err = doc.child(bp.domainsNode, bp.domainsPath, domain); err != nil {
			return nil, err
		}
		if bp.domain != nil {
			domainKey = bp.domain.key
		}
	}

	bp.domainPath = bp.domainsPath + "[" + strconv.Quote(domainKey) + "]"
	bp.strategiesPath = join(bp.domainPath, "authStrategies")
	if bp.domain != nil {
		if bp.strategies, err = doc.child(bp.domain.value, bp.domainPath, "authStrategies"); err != nil {
			return nil, err
		}
	}
	if bp.strategies != nil {
		bp.strategiesPath = join(bp.domainPath, bp.strategies.key)
		if bp.oidc, err = doc.child(bp.strategies.value, bp.strategiesPath, "oidc"); err != nil {
			return nil, err
		}
	}

	bp.oidcPath = join(bp.strategiesPath, "oidc")
	if bp.oidc != nil {
		bp.oidcPath = join(bp.strategiesPath, bp.oidc.key)
	}
	return bp, nil
}

// structurePlan is pass 1 of Edit: the edits that give the domain an oidc
// object, empty or moved from a misplaced block.
type structurePlan struct {
	patch    *patcher // nil when the structure is already right
	warnings []string
	notes    []string
	changes  []change.Entry
}

func planStructure(doc *document, d Desired) (*structurePlan, error) {
	bp, err := locate(doc, d.Domain)
	if err != nil {
		return nil, err
	}
	if err := checkDNS(doc, bp, d.Domain); err != nil {
		return nil, err
	}
	pl := &structurePlan{}
	if bp.oidc != nil {
		pl.warnings = append(pl.warnings, secretWarnings(doc, bp.oidc.value, bp.oidcPath, d)...)
	}

	p := &patcher{doc: doc}
	fields := pl.takeMisplaced(doc, bp, p, d)
	hasOIDC := bp.oidc != nil
	for _, f := range fields {
		hasOIDC = hasOIDC || strings.EqualFold(f.key, "oidc")
	}
	if !hasOIDC {
		fields = append(fields, field{key: "oidc", val: objectValue()})
	}
	if len(fields) == 0 && len(p.objects) == 0 {
		return pl, nil
	}
	domainKey := strings.ToLower(d.Domain)
	switch {
	case bp.strategies != nil:
		for _, f := range fields {
			p.add(bp.strategies.value, f.key, f.val)
		}
	case bp.domain != nil:
		p.add(bp.domain.value, "authStrategies", objectValue(fields...))
	case bp.domains != nil:
		p.add(bp.domainsNode, domainKey, objectValue(field{"authStrategies", objectValue(fields...)}))
	default:
		p.add(doc.root, "domains", objectValue(field{domainKey, objectValue(field{"authStrategies", objectValue(fields...)})}))
	}
	pl.patch = p
	return pl, nil
}

// takeMisplaced removes every authStrategies key sitting directly under
// domains, where MeshCentral reads it as a domain named "authstrategies",
// and returns the strategies to move into the target domain: those the
// domain does not have yet.
func (pl *structurePlan) takeMisplaced(doc *document, bp *blockPath, p *patcher, d Desired) []field {
	if bp.domainsNode == nil {
		return nil
	}
	var moved []field
	var dropped []string
	present := map[string]bool{}
	if bp.strategies != nil {
		for _, m := range bp.strategies.value.members {
			present[strings.ToLower(m.key)] = true
		}
	}
	for _, mm := range bp.domainsNode.find("authStrategies") {
		mpath := join(bp.domainsPath, mm.key)
		p.remove(bp.domainsNode, mm)
		pl.changes = append(pl.changes, change.Entry{
			Kind: Kind, Name: doc.path, Field: mpath, Before: describe(mm.value), Action: change.Delete,
		})
		if mm.value.kind != kindObject {
			continue
		}
		for _, s := range mm.value.members {
			lower := strings.ToLower(s.key)
			if lower == "oidc" && s.value.kind == kindObject {
				pl.warnings = append(pl.warnings, secretWarnings(doc, s.value, join(mpath, s.key), d)...)
			}
			if present[lower] || (lower == "oidc" && s.value.kind != kindObject) {
				dropped = append(dropped, s.key)
				continue
			}
			present[lower] = true
			moved = append(moved, field{key: s.key, val: valueOf(doc.text, s.value)})
			pl.changes = append(pl.changes, change.Entry{
				Kind: Kind, Name: doc.path, Field: join(bp.strategiesPath, s.key),
				After: "moved from " + mpath, Action: change.Create,
			})
		}
		pl.notes = append(pl.notes, fmt.Sprintf(
			"The file had `authStrategies` directly under `domains`, where MeshCentral reads it as a domain named \"authstrategies\" "+
				"and offers no sign-in; this change moves its contents into `%s`, where MeshCentral looks for them.", bp.domainPath))
	}
	if len(dropped) > 0 {
		sort.Strings(dropped)
		pl.notes = append(pl.notes, fmt.Sprintf(
			"The misplaced block also held %s, which `%s` already sets; MeshCentral never read the misplaced copy, so it was removed.",
			"`"+strings.Join(dropped, "`, `")+"`", bp.strategiesPath))
	}
	return moved
}

// describe summarizes a removed value without showing its contents, which
// may include a secret.
func describe(n *node) string {
	if n.kind != kindObject {
		return n.kind.String()
	}
	keys := make([]string, len(n.members))
	for i, m := range n.members {
		keys[i] = m.key
	}
	return "object with " + strings.Join(keys, ", ")
}

// checkDNS returns a *DNSDomainError when the domain has its own dns name
// and the default domain has no oidc block.
func checkDNS(doc *document, bp *blockPath, domain string) error {
	if bp.domain == nil || domain == "" {
		return nil
	}
	dns := bp.domain.value.effective("dns")
	if dns == nil || dns.value.kind != kindString || dns.value.str == "" {
		return nil
	}
	if def := bp.domainsNode.effective(""); def != nil {
		if as := def.value.effective("authStrategies"); as != nil {
			if o := as.value.effective("oidc"); o != nil && o.value.kind == kindObject {
				return nil
			}
		}
	}
	return &DNSDomainError{Path: doc.path, Domain: bp.domain.key, DNS: dns.value.str}
}

// secretWarnings reports client secrets committed in an oidc block, flat
// or nested, naming the key but never the value. The desired secret itself
// (inline mode) is not reported.
func secretWarnings(doc *document, oidc *node, path string, d Desired) []string {
	var out []string
	check := func(obj *node, parent, key string) {
		m := obj.effective(key)
		if m == nil || m.value.kind != kindString {
			return
		}
		if !isPlaceholder(m.value.str, d.KnownSecretPlaceholder) && m.value.str != d.ClientSecret {
			out = append(out, committedSecretWarning(doc.path, join(parent, m.key)))
		}
	}
	check(oidc, path, "clientsecret")
	if c := oidc.effective("client"); c != nil && c.value.kind == kindObject {
		check(c.value, join(path, c.key), "client_secret")
	}
	return out
}
