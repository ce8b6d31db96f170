package cmd

import (
	"context"
	"errors"
	"io/fs"
	"path/filepath"
	"time"

	"github.com/compose-spec/compose-go/v2/types"
	"github.com/spf13/cobra"

	"github.com/rscale/rscale/pkg/deploy"
	"github.com/rscale/rscale/pkg/engine"
)

// stackFlags locate the stack a command works on: the stack file in DIR, and its name.
type stackFlags struct {
	file string
	name string
}

func (f *stackFlags) register(c *cobra.Command) {
	f.registerFile(c, "f")
}

// registerFile lets a command whose -f means something else (logs --follow) keep --file.
func (f *stackFlags) registerFile(c *cobra.Command, shorthand string) {
	c.Flags().StringVarP(&f.file, "file", shorthand, "rscale.yml", "stack file, in DIR")
	c.Flags().StringVar(&f.name, "name", "", "stack name (default: the one rscale init recorded, else the folder name)")
}

func (f *stackFlags) path(args []string) string {
	dir := "."
	if len(args) > 0 {
		dir = args[0]
	}
	if filepath.IsAbs(f.file) {
		return f.file
	}
	return filepath.Join(dir, f.file)
}

// stackName reads the stack file for its name, unless --name gives it.
func (f *stackFlags) stackName(ctx context.Context, args []string) (string, error) {
	if f.name != "" {
		return f.name, nil
	}
	_, name, err := deploy.LoadStack(ctx, f.path(args), "")
	return name, err
}

// load reads the stack file and its stack's name. With --name, a missing file is no error:
// the project is then nil.
func (f *stackFlags) load(ctx context.Context, args []string) (*types.Project, string, error) {
	p, name, err := deploy.LoadStack(ctx, f.path(args), f.name)
	if err != nil && f.name != "" && errors.Is(err, fs.ErrNotExist) {
		return nil, f.name, nil
	}
	return p, name, err
}

// withEngine connects to the Docker engine, runs f with it, and closes the connection.
func withEngine(ctx context.Context, f func(engine.API) error) error {
	api, err := engine.Connect(ctx)
	if err != nil {
		return err
	}
	defer api.Close()
	return f(api)
}

const defaultTimeout = 5 * time.Minute
