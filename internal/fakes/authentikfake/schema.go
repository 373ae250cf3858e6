package authentikfake

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/gorillamux"
)

// SchemaEnv is the environment variable that overrides where authentik's
// OpenAPI description is read from.
const SchemaEnv = "AUTHENTIK_SCHEMA"

// apiModule is the module and version whose schema.yml the fake checks
// against. It is the version pinned in go.mod.
const apiModule = "goauthentik.io/api/v3@v3.2025120.5"

// contract is a loaded OpenAPI document with its router and the options
// that validation uses.
type contract struct {
	doc     *openapi3.T
	router  routers.Router
	options *openapi3filter.Options
}

type contractLoad struct {
	once     sync.Once
	contract *contract
	err      error
}

// contracts caches one parsed document per path for the whole process,
// because parsing the 1.6 MB description takes a noticeable fraction of a
// second.
var contracts sync.Map // path -> *contractLoad

// SchemaPath returns where authentik's OpenAPI description is read from:
// override when not empty, else $AUTHENTIK_SCHEMA, else schema.yml in the
// module cache reported by "go env GOMODCACHE".
func SchemaPath(override string) (string, error) {
	if override != "" {
		return override, nil
	}
	if p := os.Getenv(SchemaEnv); p != "" {
		return p, nil
	}
	cache := os.Getenv("GOMODCACHE")
	if cache == "" {
		out, err := exec.Command("go", "env", "GOMODCACHE").Output()
		if err != nil {
			return "", fmt.Errorf("find the Go module cache (set %s to the schema path instead): %w", SchemaEnv, err)
		}
		cache = strings.TrimSpace(string(out))
	}
	if cache == "" {
		return "", fmt.Errorf("find the Go module cache: \"go env GOMODCACHE\" printed nothing (set %s)", SchemaEnv)
	}
	return filepath.Join(cache, filepath.FromSlash(apiModule), "schema.yml"), nil
}

func loadContract(path string) (*contract, error) {
	v, _ := contracts.LoadOrStore(path, &contractLoad{})
	load := v.(*contractLoad)
	load.once.Do(func() {
		load.contract, load.err = parseContract(path)
	})
	return load.contract, load.err
}

func parseContract(path string) (*contract, error) {
	loader := openapi3.NewLoader()
	doc, err := loader.LoadFromFile(path)
	if err != nil {
		return nil, fmt.Errorf("load authentik schema %q: %w", path, err)
	}
	if err := doc.Validate(context.Background()); err != nil {
		return nil, fmt.Errorf("check authentik schema %q: %w", path, err)
	}
	if err := patchNullObjects(doc); err != nil {
		return nil, fmt.Errorf("adjust authentik schema %q: %w", path, err)
	}

	router, err := gorillamux.NewRouter(doc)
	if err != nil {
		return nil, fmt.Errorf("route authentik schema %q: %w", path, err)
	}

	formats := map[string]openapi3.StringFormatValidator{
		"uuid":  openapi3.NewRegexpFormatValidator(openapi3.FormatOfStringForUUIDOfRFC4122),
		"email": openapi3.NewRegexpFormatValidator(openapi3.FormatOfStringForEmail),
		"uri":   openapi3.NewCallbackValidator(validateURI),
	}
	options := &openapi3filter.Options{
		// The fake checks the bearer token itself before validation.
		AuthenticationFunc:      openapi3filter.NoopAuthenticationFunc,
		SchemaValidationOptions: []openapi3.SchemaValidationOption{openapi3.WithStringFormatValidators(formats)},
		// Defaults would be written into the request body the handlers read,
		// hiding what the client really sent.
		SkipSettingDefaults: true,
	}
	return &contract{doc: doc, router: router, options: options}, nil
}

// nullObjects lists read-only nested objects that authentik serializes as
// null when the relation is empty, although the schema marks them required
// and not nullable: an application without a provider, and the two unused
// sides of a policy binding (a group binding has no policy and no user).
//
// NOTE: this is a deliberate departure from the schema. Without it the fake
// would have to invent objects the real server does not send.
var nullObjects = map[string][]string{
	"Application":   {"provider_obj"},
	"PolicyBinding": {"policy_obj", "group_obj", "user_obj"},
}

func patchNullObjects(doc *openapi3.T) error {
	for name, props := range nullObjects {
		ref := doc.Components.Schemas[name]
		if ref == nil || ref.Value == nil {
			return fmt.Errorf("schema %q is missing", name)
		}
		for _, prop := range props {
			p := ref.Value.Properties[prop]
			if p == nil || p.Value == nil {
				return fmt.Errorf("property %q of schema %q is missing", prop, name)
			}
			p.Value.Nullable = true
		}
	}
	return nil
}

// validateURI accepts an absolute URI, or the empty string that authentik
// stores and returns for an unset URL field such as meta_launch_url.
func validateURI(s string) error {
	if s == "" {
		return nil
	}
	u, err := url.Parse(s)
	if err != nil {
		return errors.New("not a URI")
	}
	if u.Scheme == "" {
		return errors.New("not an absolute URI")
	}
	return nil
}
