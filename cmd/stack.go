package cmd

import (
	"context"
	"errors"
	"fmt"
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
	// The engine: --target, else the stack file's x-rscale target; the cluster as kubectl
	// picks it (with the global --context).
	target     string
	kubeconfig string
	namespace  string
}

func (f *stackFlags) register(c *cobra.Command) {
	f.registerFile(c, "f")
}

// registerFile lets a command whose -f means something else (logs --follow) keep --file.
func (f *stackFlags) registerFile(c *cobra.Command, shorthand string) {
	c.Flags().StringVarP(&f.file, "file", shorthand, "rscale.yml", "stack file, in DIR")
	c.Flags().StringVar(&f.name, "name", "", "stack name (default: the one rscale init recorded, else the folder name)")
	c.Flags().StringVar(&f.target, "target", "", "engine: swarm or kubernetes (default: the one rscale init recorded, else swarm)")
	c.Flags().StringVar(&f.kubeconfig, "kubeconfig", "", "Kubernetes: kubeconfig file (default: $KUBECONFIG, else ~/.kube/config)")
	c.Flags().StringVarP(&f.namespace, "namespace", "n", "", "Kubernetes: namespace (default: the context's, else default)")
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

// backendOptions choose the engine: --target, else the stack file's x-rscale target (when
// there is a file), else Swarm.
func (f *stackFlags) backendOptions(ctx context.Context, env Env) (backend.Options, error) {
	o := env.backendOptions()
	o.Target, o.Kubeconfig, o.Namespace = f.target, f.kubeconfig, f.namespace
	if o.Target == "" {
		if p, _, err := f.open(ctx); err == nil {
			ext, err := stack.ReadExtension(p)
			if err != nil {
				return o, err
			}
			o.Target = ext.Target
		}
	}
	switch o.Target {
	case "", backend.TargetSwarm, backend.TargetKubernetes:
	default:
		return o, usageError{fmt.Errorf("unknown target %q: choose %s or %s", o.Target, backend.TargetSwarm, backend.TargetKubernetes)}
	}
	return o, nil
}

// onKubernetes says whether the command acts on a Kubernetes cluster.
func (f *stackFlags) onKubernetes(ctx context.Context) bool {
	o, err := f.backendOptions(ctx, Env{})
	return err == nil && o.Target == backend.TargetKubernetes
}

// withBackend makes the backend the environment gives for the chosen engine, runs fn with
// it, and closes it.
func (f *stackFlags) withBackend(ctx context.Context, env Env, fn func(backend.Backend) error) error {
	o, err := f.backendOptions(ctx, env)
	if err != nil {
		return err
	}
	b, err := env.Backends(ctx, o)
	if err != nil {
		return err
	}
	defer b.Close()
	return fn(b)
}

const defaultTimeout = 5 * time.Minute

// withBackend makes the default engine's backend (no stack file to choose another), runs f
// with it, and closes it.
func withBackend(ctx context.Context, env Env, f func(backend.Backend) error) error {
	b, err := env.Backends(ctx, env.backendOptions())
	if err != nil {
		return err
	}
	defer b.Close()
	return f(b)
}
