// Command meshcentral-authentik is the entry point of the GitHub Action that
// connects MeshCentral's OpenID Connect sign-in to authentik. It reads the
// environment, calls action.Run and sets the exit code. In a workflow the
// inputs come from INPUT_* variables, in a shell from flags of the same
// names (see --help).
package main

import (
	"context"
	"errors"
	"os"
	"os/signal"
	"syscall"

	"github.com/meshauth/meshcentral-authentik-action/internal/action"
	"github.com/meshauth/meshcentral-authentik-action/internal/inputs"
)

// version is set at build time with -ldflags "-X main.version=v1.2.3".
var version = "dev"

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := action.Run(ctx, action.Env{
		Getenv:  os.Getenv,
		Args:    os.Args[1:],
		Stdout:  os.Stdout,
		Stderr:  os.Stderr,
		Version: version,
	})
	stop()
	switch {
	case err == nil, errors.Is(err, inputs.ErrHelp), errors.Is(err, inputs.ErrVersion):
		os.Exit(0)
	case errors.Is(err, action.ErrReported):
		os.Exit(1)
	default:
		os.Stderr.WriteString("meshcentral-authentik: " + err.Error() + "\n")
		os.Exit(1)
	}
}
