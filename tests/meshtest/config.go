package meshtest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
)

// object is a JSON object that keeps its members in file order, duplicates
// included. MeshCentral lower-cases keys after JSON.parse, so the order of
// keys that differ only in case decides which one it uses. A Go map would
// lose that order.
type object struct {
	members []member
}

type member struct {
	key   string
	raw   json.RawMessage // the value when it is not an object
	child *object         // the value when it is an object
}

// parseObject reads a JSON document whose top level is an object.
func parseObject(data []byte) (*object, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	tok, err := dec.Token()
	if err != nil {
		return nil, err
	}
	if d, ok := tok.(json.Delim); !ok || d != '{' {
		return nil, fmt.Errorf("top level is not an object")
	}

	o := &object{}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, err
		}
		key, _ := tok.(string) // object keys are always strings

		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return nil, fmt.Errorf("value of %q: %w", key, err)
		}
		m := member{key: key, raw: raw}
		if bytes.HasPrefix(bytes.TrimSpace(raw), []byte("{")) {
			if m.child, err = parseObject(raw); err != nil {
				return nil, fmt.Errorf("in %q: %w", key, err)
			}
		}
		o.members = append(o.members, m)
	}
	if _, err := dec.Token(); err != nil {
		return nil, err
	}
	if _, err := dec.Token(); err == nil {
		return nil, fmt.Errorf("data after the top-level object")
	}
	return o, nil
}

// marshal writes o as compact JSON, members in order.
func (o *object) marshal() []byte {
	var b bytes.Buffer
	o.write(&b)
	return b.Bytes()
}

func (o *object) write(b *bytes.Buffer) {
	b.WriteByte('{')
	for i, m := range o.members {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(strconv.Quote(m.key))
		b.WriteByte(':')
		if m.child != nil {
			m.child.write(b)
		} else {
			_ = json.Compact(b, m.raw) // raw came from the decoder, so it is valid
		}
	}
	b.WriteByte('}')
}

// get returns the member under name as MeshCentral resolves it. JSON.parse
// keeps the last value of a repeated key at the place the key first
// appeared. MeshCentral then lower-cases keys in that order, so a spelling
// with upper-case letters overwrites the lower-case one, and among several
// such spellings the one that appears last wins.
func (o *object) get(name string) (member, bool) {
	type spelling struct {
		first int
		last  member
	}
	spellings := map[string]*spelling{}
	for i, m := range o.members {
		if !strings.EqualFold(m.key, name) {
			continue
		}
		if s, ok := spellings[m.key]; ok {
			s.last = m
		} else {
			spellings[m.key] = &spelling{first: i, last: m}
		}
	}

	var best *spelling
	for key, s := range spellings {
		if key == strings.ToLower(key) {
			continue
		}
		if best == nil || s.first > best.first {
			best = s
		}
	}
	if best == nil {
		best = spellings[strings.ToLower(name)]
	}
	if best == nil {
		return member{}, false
	}
	return best.last, true
}

// remove deletes every member whose key equals one of names
// case-insensitively.
func (o *object) remove(names ...string) {
	kept := o.members[:0]
	for _, m := range o.members {
		drop := false
		for _, n := range names {
			if strings.EqualFold(m.key, n) {
				drop = true
				break
			}
		}
		if !drop {
			kept = append(kept, m)
		}
	}
	o.members = kept
}

// set replaces every member named name (case-insensitively) by one member
// with the lower-case key and the JSON encoding of v.
func (o *object) set(name string, v any) {
	o.remove(name)
	raw, err := json.Marshal(v)
	if err != nil {
		panic(fmt.Sprintf("meshtest: encode setting %q: %v", name, err)) // only called with plain values
	}
	o.members = append(o.members, member{key: strings.ToLower(name), raw: raw})
}

// childObject returns the object under name, creating it when it is missing or
// not an object.
func (o *object) childObject(name string) *object {
	if m, ok := o.get(name); ok && m.child != nil {
		return m.child
	}
	c := &object{}
	o.remove(name)
	o.members = append(o.members, member{key: strings.ToLower(name), child: c})
	return c
}

// stringValue returns the string under name, or "" when it is missing or
// not a string.
func (o *object) stringValue(name string) string {
	m, ok := o.get(name)
	if !ok || m.child != nil {
		return ""
	}
	var s string
	if json.Unmarshal(m.raw, &s) != nil {
		return ""
	}
	return s
}

// intValue returns the integer under name, or 0 when it is missing or not a
// number.
func (o *object) intValue(name string) int {
	m, ok := o.get(name)
	if !ok || m.child != nil {
		return 0
	}
	n, err := strconv.Atoi(strings.TrimSpace(string(m.raw)))
	if err != nil {
		return 0
	}
	return n
}

// Sections and settings that sanitize drops, because they reach the
// network, install npm modules or change how MeshCentral listens.
var (
	droppedSections = []string{
		"letsencrypt", "smtp", "sendgrid", "sendmail", "sms", "messaging", "firebase", "peers",
	}
	droppedSettings = []string{
		"tlsoffload", "mongodb", "mongodbname", "mongodbcol", "mongodbchangestream", "xmongodb",
		"mysql", "mariadb", "postgres", "sqlite3", "acebase", "vault", "plugins", "mqtt",
		"syslog", "syslogjson", "syslogtcp", "webpush", "crowdsec", "prometheus",
		"agentport", "agentportbind", "relayport", "redirportbind", "mpsaliasport",
		"datapath", "filespath", "npmpath", "heapdump", "loadconfigfromdb", "dbencryptkey",
	}
	droppedDomainKeys = []string{"smtp", "sendgrid", "sendmail"}
)

// loopbackSettings are the settings every harnessed MeshCentral runs with,
// so it listens on 127.0.0.1 only and contacts no other host.
func loopbackSettings(cert string, port int, authLog, sessionKey string) [][2]any {
	return [][2]any{
		{"cert", cert},
		{"port", port},
		{"portbind", "127.0.0.1"},
		{"redirport", 0},
		{"mpsport", 0},
		{"exactports", true},
		{"wanonly", true},
		{"selfupdate", false},
		{"agenttimestampserver", false},
		{"noagentupdate", 1},
		{"authlog", authLog},
		{"sessionkey", sessionKey},
		{"autobackup", false},
	}
}

// sanitize rewrites a config.json for a loopback run: it drops the sections
// and settings listed above and sets loopbackSettings. Domains and their
// authStrategies are left as they are, keys that differ only in case
// included, because that is what tests exercise.
func sanitize(config []byte, cert string, port int, authLog, sessionKey string) (*object, error) {
	config = bytes.TrimPrefix(config, []byte("\ufeff")) // Node's JSON loader strips a BOM too
	root, err := parseObject(config)
	if err != nil {
		return nil, fmt.Errorf("parse config.json: %w", err)
	}

	root.remove(droppedSections...)
	settings := root.childObject("settings")
	settings.remove(droppedSettings...)
	for _, kv := range loopbackSettings(cert, port, authLog, sessionKey) {
		settings.set(kv[0].(string), kv[1])
	}

	if m, ok := root.get("domains"); ok && m.child != nil {
		for _, d := range m.child.members {
			if d.child != nil {
				d.child.remove(droppedDomainKeys...)
			}
		}
	}
	return root, nil
}
