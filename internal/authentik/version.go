package authentik

import (
	"context"
	"fmt"
	"net/http"
	"strconv"
	"strings"
)

// MinVersion is the oldest authentik release this package supports. Its API
// has redirect URIs as {matching_mode, url} objects and requires an
// invalidation flow, as this package expects.
const MinVersion = "2024.10.3"

// version is an authentik release number year.month.patch.
type version [3]int

// parseVersion reads "2025.12.0", "2024.10.3-rc1" or "2025.2"; anything
// after the numbers (a pre-release or build suffix) is ignored.
func parseVersion(s string) (version, bool) {
	var v version
	core, _, _ := strings.Cut(strings.TrimPrefix(strings.TrimSpace(s), "v"), "-")
	core, _, _ = strings.Cut(core, "+")
	parts := strings.Split(core, ".")
	if len(parts) < 2 || len(parts) > 3 {
		return v, false
	}
	for i, p := range parts {
		n, err := strconv.Atoi(p)
		if err != nil || n < 0 {
			return v, false
		}
		v[i] = n
	}
	return v, true
}

func (v version) less(w version) bool {
	for i := range v {
		if v[i] != w[i] {
			return v[i] < w[i]
		}
	}
	return false
}

// checkVersion returns an error naming found and MinVersion when found is
// older than MinVersion or unreadable.
func checkVersion(found string) error {
	v, ok := parseVersion(found)
	if !ok {
		return fmt.Errorf("check authentik version: cannot read version %q; this action needs authentik %s or later", found, MinVersion)
	}
	minimum, _ := parseVersion(MinVersion)
	// A pre-release such as 2024.10.3-rc1 comes before 2024.10.3 itself.
	pre := strings.Contains(strings.SplitN(strings.TrimSpace(found), "+", 2)[0], "-")
	if v.less(minimum) || (v == minimum && pre) {
		return fmt.Errorf("check authentik version: authentik %s is older than %s, the oldest version this action supports; upgrade authentik", found, MinVersion)
	}
	return nil
}

// readVersion returns version_current of GET /admin/version/.
func (c *Client) readVersion(ctx context.Context) (string, error) {
	v, resp, err := c.api.AdminApi.AdminVersionRetrieve(ctx).Execute()
	if err := c.fail(op{verb: "read", kind: "authentik version"}, resp, err); err != nil {
		if isStatus(err, http.StatusNotFound) {
			return "", fmt.Errorf("%w: no authentik API at %s/api/v3/; set authentik-url to authentik's base URL, without a path", err, c.base.String())
		}
		return "", err
	}
	return v.VersionCurrent, nil
}
