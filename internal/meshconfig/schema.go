package meshconfig

import (
	"bytes"
	_ "embed"
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"

	"github.com/santhosh-tekuri/jsonschema/v6"
)

//go:embed schema/meshcentral-config-schema.json
var schemaJSON []byte

// schemaURL names the embedded schema inside the compiler. Nothing is
// fetched.
const schemaURL = "urn:meshcentral:config-schema"

var loadSchema = sync.OnceValues(func() (*jsonschema.Schema, error) {
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(schemaJSON))
	if err != nil {
		return nil, fmt.Errorf("read the embedded schema: %w", err)
	}
	c := jsonschema.NewCompiler()
	c.UseLoader(embeddedOnlyLoader{})
	if err := c.AddResource(schemaURL, doc); err != nil {
		return nil, fmt.Errorf("add the embedded schema: %w", err)
	}
	sch, err := c.Compile(schemaURL)
	if err != nil {
		return nil, fmt.Errorf("compile the embedded schema: %w", err)
	}
	return sch, nil
})

// embeddedOnlyLoader stops the compiler from loading any other schema.
type embeddedOnlyLoader struct{}

func (embeddedOnlyLoader) Load(url string) (any, error) {
	return nil, fmt.Errorf("load schema %q: only the embedded schema is available", url)
}

// schemaErrors returns the places where src breaks the schema, as
// "instance location keyword location" strings.
func schemaErrors(src []byte) (map[string]bool, error) {
	sch, err := loadSchema()
	if err != nil {
		return nil, err
	}
	text, _ := stripBOM(src)
	inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(text))
	if err != nil {
		return nil, fmt.Errorf("decode for the schema check: %w", err)
	}
	out := map[string]bool{}
	var verr *jsonschema.ValidationError
	if err := sch.Validate(inst); errors.As(err, &verr) {
		for _, u := range verr.BasicOutput().Errors {
			out[u.InstanceLocation+" "+u.KeywordLocation] = true
		}
	} else if err != nil {
		return nil, fmt.Errorf("validate against the schema: %w", err)
	}
	return out, nil
}

// compareSchema fails when after breaks the schema somewhere before did
// not. Messages name locations only: the validator's own text may quote
// values, and values may be secrets.
func compareSchema(path string, before, after []byte) error {
	old, err := schemaErrors(before)
	if err != nil {
		return fmt.Errorf("check %q against the schema: %w", path, err)
	}
	cur, err := schemaErrors(after)
	if err != nil {
		return fmt.Errorf("check %q against the schema: %w", path, err)
	}
	var added []string
	for k := range cur {
		if !old[k] {
			added = append(added, k)
		}
	}
	if len(added) == 0 {
		return nil
	}
	sort.Strings(added)
	return fmt.Errorf("check %q against the schema: the edit would add errors at %s", path, strings.Join(added, "; "))
}
