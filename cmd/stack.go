package cmd

import (
	"context"
	"errors"
	"io/fs"
	"path/filepath"
	"time"

	"github.com/compose-spec/compose-go/v2/types"
	"github.com/spf13/cobra"

	"github.com/rscale/rscale/pkg/backend"
	"github.com/rscale/rscale/pkg/stack"
)

// stackFlags locate the stack a command works on: the stack file in dir, and its name.
type stackFlags struct {
	dir  string // from the DIR argument, or --dir
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

// registerDir adds --dir, for commands whose arguments are not the folder.
func (f *stackFlags) registerDir(c *cobra.Command) {
	c.Flags().StringVar(&f.dir, "dir", ".", "folder holding the stack file")
}

// dirFrom takes the folder from the optional DIR argument.
func (f *stackFlags) dirFrom(args []string) {
	f.dir = "."
	if len(args) > 0 {
		f.dir = args[0]
	}
}

func (f *stackFlags) path() string {
	if filepath.IsAbs(f.file) {
		return f.file
	}
	return filepath.Join(f.dir, f.file)
}

// open reads the stack file and decides its stack's name.
func (f *stackFlags) open(ctx context.Context) (*types.Project, string, error) {
	return stack.Open(ctx, f.path(), f.name)
}

// stackName reads the stack file for its name, unless --name gives it.
func (f *stackFlags) stackName(ctx context.Context) (string, error) {
	if f.name != "" {
		return f.name, nil
	}
	_, name, err := f.open(ctx)
	return name, err
}

// load reads the stack file and its stack's name. With --name, a missing file is no error:
// the project is then nil.
func (f *stackFlags) load(ctx context.Context) (*types.Project, string, error) {
	p, name, err := f.open(ctx)
	if err != nil && f.name != "" && errors.Is(err, fs.ErrNotExist) {
		return nil, f.name, nil
	}
	return p, name, err
}

// withBackend makes the backend the environment gives, runs f with it, and closes it.
func withBackend(ctx context.Context, env Env, f func(backend.Backend) error) error {
	b, err := env.Backends(ctx, env.backendOptions())
	if err != nil {
		return err
	}
	defer b.Close()
	return f(b)
}

const defaultTimeout = 5 * time.Minute
