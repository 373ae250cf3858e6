package gh

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/google/go-github/v60/github"
)

// variableState is a cached result of Variable.
type variableState struct {
	value string
	found bool
}

func variableKey(t target, name string) string { return t.key() + "\x00" + strings.ToUpper(name) }

// Variable reads the Actions variable name of repo, or of its environment env
// when env is not empty. found is false when the variable does not exist.
// The result is cached.
func (c *Client) Variable(ctx context.Context, repo Repo, env, name string) (value string, found bool, err error) {
	t := target{repo, env}
	step := fmt.Sprintf("get GitHub variable %q of %s", name, t)
	if err := validName("variable", name); err != nil {
		return "", false, fmt.Errorf("%s: %w", step, err)
	}
	c.mu.Lock()
	st, ok := c.variables[variableKey(t, name)]
	c.mu.Unlock()
	if ok {
		return st.value, st.found, nil
	}

	info, err := c.Repository(ctx, repo)
	if err != nil {
		return "", false, fmt.Errorf("%s: %w", step, err)
	}
	var v *github.ActionsVariable
	err = c.call(ctx, func() (*github.Response, error) {
		var resp *github.Response
		var err error
		if env == "" {
			v, resp, err = c.api.Actions.GetRepoVariable(ctx, repo.Owner, repo.Name, name)
		} else {
			v, resp, err = c.api.Actions.GetEnvVariable(ctx, int(info.ID), url.PathEscape(env), name)
		}
		return resp, err
	})
	switch {
	case isStatus(err, 404):
		st = variableState{}
	case err != nil:
		return "", false, fmt.Errorf("%s: %w", step, apiError(err, scopeVariables))
	default:
		st = variableState{value: v.Value, found: true}
	}

	c.mu.Lock()
	c.variables[variableKey(t, name)] = st
	c.mu.Unlock()
	return st.value, st.found, nil
}

// PutVariable creates the Actions variable name of repo (or of its
// environment env) or updates it. It reads the variable first (through
// Variable's cache) and sends no write when the value is already equal.
func (c *Client) PutVariable(ctx context.Context, repo Repo, env, name, value string) error {
	t := target{repo, env}
	step := fmt.Sprintf("put GitHub variable %q in %s", name, t)
	current, found, err := c.Variable(ctx, repo, env, name)
	if err != nil {
		return err
	}
	if found && current == value {
		return nil
	}

	info, err := c.Repository(ctx, repo)
	if err != nil {
		return fmt.Errorf("%s: %w", step, err)
	}
	v := &github.ActionsVariable{Name: name, Value: value}
	put := func(found bool) (*github.Response, error) {
		switch {
		case env == "" && found:
			return c.api.Actions.UpdateRepoVariable(ctx, repo.Owner, repo.Name, v)
		case env == "":
			return c.api.Actions.CreateRepoVariable(ctx, repo.Owner, repo.Name, v)
		case found:
			return c.api.Actions.UpdateEnvVariable(ctx, int(info.ID), url.PathEscape(env), v)
		default:
			return c.api.Actions.CreateEnvVariable(ctx, int(info.ID), url.PathEscape(env), v)
		}
	}
	err = c.call(ctx, func() (*github.Response, error) { return put(found) })
	// A concurrent run may have created the variable after it was read.
	var ge *github.ErrorResponse
	if !found && errors.As(err, &ge) && ge.Response != nil && ge.Response.StatusCode == http.StatusConflict {
		err = c.call(ctx, func() (*github.Response, error) { return put(true) })
	}
	if err != nil {
		return fmt.Errorf("%s: %w", step, envError(apiError(err, scopeVariables), t))
	}

	c.mu.Lock()
	c.variables[variableKey(t, name)] = variableState{value: value, found: true}
	c.mu.Unlock()
	return nil
}
