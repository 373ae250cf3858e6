package meshtest

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// siteAdminAll is the siteadmin value MeshCentral gives members of a
// groups.siteadmin group: every server right.
const siteAdminAll = 0xFFFFFFFF

// User is a MeshCentral user record read from the datapath's database.
type User struct {
	ID    string // user/<domain>/~oidc:<sub>
	Name  string
	Email string
	// SiteAdmin is the user's server rights bit mask; 0 for none.
	SiteAdmin uint32
}

// IsSiteAdmin reports whether the user has every server right, as members
// of a groups.siteadmin group get.
func (u User) IsSiteAdmin() bool {
	return u.SiteAdmin == siteAdminAll
}

// LoginResult is the outcome of one sign-in attempt.
type LoginResult struct {
	// RedirectURI is the redirect_uri MeshCentral sent to the authorize
	// endpoint.
	RedirectURI string
	// AuthorizeStatus is the identity provider's status for the authorize
	// request (302 when it sent the browser back), and AuthorizeBody its
	// page when it did not redirect.
	AuthorizeStatus int
	AuthorizeBody   string
	// CallbackStatus is MeshCentral's status for the callback (200 with a
	// refresh page on success, 302 back to the login page on failure), 0
	// when the callback was not reached. CallbackLocation is its redirect.
	CallbackStatus   int
	CallbackLocation string
	// SignedIn is true when the callback returned 200, the auth log shows
	// the login and the user exists in the database.
	SignedIn bool
	// Created is true when MeshCentral created the user during this login.
	Created bool
	// User is the database record of the user, when one exists.
	User *User
	// AuthLog holds the auth log lines written during the attempt.
	AuthLog []string
}

// Login signs in to the domain at domainPath ("" for the default domain or
// a domain with its own dns) on host (empty means inst.Cert) without a
// browser: it opens MeshCentral's auth-oidc URL and follows the redirects
// through the identity provider back to MeshCentral's callback with a
// cookie jar. Every connection goes to 127.0.0.1, with host as TLS server
// name and Host header.
//
// A rejection by the identity provider or MeshCentral is an outcome, not
// an error. Login returns an error only when the flow cannot be followed.
//
// NOTE: Login finds the user in the auth log lines written since it began,
// so logins to one Instance must not run concurrently.
func Login(ctx context.Context, inst *Instance, domainPath, host string) (*LoginResult, error) {
	host = hostOnly(host)
	if host == "" {
		host = inst.Cert
	}
	d, err := inst.domainFor(domainPath, host)
	if err != nil {
		return nil, err
	}
	jar, err := cookiejar.New(nil)
	if err != nil {
		return nil, err
	}
	client := inst.newClient(jar)
	logStart := fileSize(inst.AuthLogPath)
	res := &LoginResult{}

	// Step 1: MeshCentral sends the browser to the authorize endpoint.
	start := inst.origin(host) + d.path() + "auth-oidc"
	resp, _, err := fetch(ctx, client, start)
	if err != nil {
		return nil, err
	}
	authorize, err := location(resp)
	if err != nil || resp.StatusCode != http.StatusFound || authorize.Query().Get("client_id") == "" {
		return nil, fmt.Errorf("get %q: status %d, Location %q; want a redirect to the authorize endpoint",
			start, resp.StatusCode, resp.Header.Get("Location"))
	}
	res.RedirectURI = authorize.Query().Get("redirect_uri")

	// Step 2: the identity provider redirects back or shows an error page.
	resp, body, err := fetch(ctx, client, authorize.String())
	if err != nil {
		return nil, err
	}
	res.AuthorizeStatus = resp.StatusCode
	callback, err := location(resp)
	if resp.StatusCode != http.StatusFound || err != nil {
		res.AuthorizeBody = body
		res.AuthLog = inst.authLogSince(logStart, 300*time.Millisecond, nil)
		return res, nil
	}
	if !strings.HasPrefix(callback.String(), res.RedirectURI) {
		return nil, fmt.Errorf("authorize redirected to %q, not to redirect_uri %q", callback, res.RedirectURI)
	}

	// Step 3: MeshCentral's callback exchanges the code and signs in.
	resp, _, err = fetch(ctx, client, callback.String())
	if err != nil {
		return nil, err
	}
	res.CallbackStatus = resp.StatusCode
	res.CallbackLocation = resp.Header.Get("Location")
	if resp.StatusCode != http.StatusOK {
		res.AuthLog = inst.authLogSince(logStart, 300*time.Millisecond, nil)
		return res, nil
	}

	// Step 4: the auth log names the user; the database shows the record.
	res.AuthLog = inst.authLogSince(logStart, 10*time.Second, func(lines []string) bool {
		return containsAny(lines, "LOGIN SUCCESS", "Creating new login user", "LOGIN FAILED", "Login denied")
	})
	res.Created = containsAny(res.AuthLog, "Creating new login user")
	sid := authorizedSID(res.AuthLog)
	if sid == "" {
		return res, nil
	}
	id := "user/" + d.id + "/" + sid
	res.User, err = inst.waitUser(ctx, id, 5*time.Second)
	if err != nil {
		return nil, err
	}
	res.SignedIn = res.User != nil && containsAny(res.AuthLog, "LOGIN SUCCESS", "Creating new login user")
	return res, nil
}

// fetch sends one GET and returns the response with its body read.
func fetch(ctx context.Context, client *http.Client, target string) (*http.Response, string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, target, nil)
	if err != nil {
		return nil, "", err
	}
	resp, err := client.Do(req)
	if err != nil {
		return nil, "", fmt.Errorf("get %q: %w", target, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, "", fmt.Errorf("read %q: %w", target, err)
	}
	return resp, string(body), nil
}

func location(resp *http.Response) (*url.URL, error) {
	if resp.Header.Get("Location") == "" {
		return nil, fmt.Errorf("no Location header")
	}
	return resp.Location()
}

func containsAny(lines []string, markers ...string) bool {
	for _, l := range lines {
		for _, m := range markers {
			if strings.Contains(l, m) {
				return true
			}
		}
	}
	return false
}

// authorizedSID returns the sid of MeshCentral's "User Authorized" line,
// which carries the user as JSON.
func authorizedSID(lines []string) string {
	for _, l := range lines {
		_, js, ok := strings.Cut(l, "User Authorized: ")
		if !ok {
			continue
		}
		var u struct{ SID string }
		if json.Unmarshal([]byte(js), &u) == nil && u.SID != "" {
			return u.SID
		}
	}
	return ""
}

func fileSize(path string) int64 {
	fi, err := os.Stat(path)
	if err != nil {
		return 0
	}
	return fi.Size()
}

// authLogSince returns the auth log lines written after offset. It polls
// until done reports true or wait passes; with a nil done it waits the
// whole time, for outcomes that log nothing in particular.
func (inst *Instance) authLogSince(offset int64, wait time.Duration, done func([]string) bool) []string {
	deadline := time.Now().Add(wait)
	for {
		lines := readLinesFrom(inst.AuthLogPath, offset)
		if (done != nil && done(lines)) || time.Now().After(deadline) {
			return lines
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func readLinesFrom(path string, offset int64) []string {
	data, err := os.ReadFile(path)
	if err != nil || int64(len(data)) < offset {
		return nil
	}
	var lines []string
	sc := bufio.NewScanner(bytes.NewReader(data[offset:]))
	sc.Buffer(make([]byte, 0, 64*1024), 4*1024*1024)
	for sc.Scan() {
		lines = append(lines, sc.Text())
	}
	return lines
}

// LookupUser returns the user with the given MeshCentral ID from the
// datapath's database, or nil when there is none.
func (inst *Instance) LookupUser(id string) (*User, error) {
	return readUser(filepath.Join(inst.DataDir, "meshcentral.db"), id)
}

// waitUser polls the database until the user appears, because MeshCentral
// writes the record after it sends the response.
func (inst *Instance) waitUser(ctx context.Context, id string, wait time.Duration) (*User, error) {
	deadline := time.Now().Add(wait)
	for {
		u, err := inst.LookupUser(id)
		if err != nil || u != nil || time.Now().After(deadline) {
			return u, err
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// Users returns the users of the domain with the given ID ("" for the
// default domain) from the datapath's database.
func (inst *Instance) Users(domainID string) ([]User, error) {
	prefix := "user/" + strings.ToLower(domainID) + "/"
	all, err := readUsers(filepath.Join(inst.DataDir, "meshcentral.db"))
	if err != nil {
		return nil, err
	}
	var out []User
	for _, u := range all {
		if strings.HasPrefix(u.ID, prefix) {
			out = append(out, u)
		}
	}
	return out, nil
}

// readUser returns the user with the given ID from a NeDB file, or nil.
func readUser(path, id string) (*User, error) {
	all, err := readUsers(path)
	if err != nil {
		return nil, err
	}
	for _, u := range all {
		if u.ID == id {
			return &u, nil
		}
	}
	return nil, nil
}

// readUsers reads the user records of a NeDB file: one JSON document per
// line, a later line replacing an earlier one with the same _id, and
// {"$$deleted": true} removing it.
func readUsers(path string) ([]User, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read MeshCentral database: %w", err)
	}
	byID := map[string]User{}
	var order []string
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 0, 64*1024), 16*1024*1024)
	for sc.Scan() {
		var doc struct {
			ID        string  `json:"_id"`
			Type      string  `json:"type"`
			Name      string  `json:"name"`
			Email     string  `json:"email"`
			SiteAdmin float64 `json:"siteadmin"`
			Deleted   bool    `json:"$$deleted"`
		}
		if json.Unmarshal(sc.Bytes(), &doc) != nil || !strings.HasPrefix(doc.ID, "user/") {
			continue
		}
		if doc.Deleted {
			delete(byID, doc.ID)
			continue
		}
		if _, seen := byID[doc.ID]; !seen {
			order = append(order, doc.ID)
		}
		byID[doc.ID] = User{ID: doc.ID, Name: doc.Name, Email: doc.Email, SiteAdmin: uint32(doc.SiteAdmin)}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("read MeshCentral database: %w", err)
	}

	var users []User
	for _, id := range order {
		if u, ok := byID[id]; ok {
			users = append(users, u)
		}
	}
	return users, nil
}

// hostOnly strips a port from host.
func hostOnly(host string) string {
	if h, _, err := net.SplitHostPort(host); err == nil {
		return h
	}
	return host
}
