package cmd

import (
	"context"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/rscale/rscale/pkg/progress"
)

type downOptions struct {
	stackFlags
	timeout time.Duration
}

func newDownCmd(env Env) *cobra.Command {
	var o downOptions
	c := &cobra.Command{
		Use:   "down [DIR]",
		Short: "Remove the stack deployed from DIR",
		Long: `down removes the stack's services, waits until their replicas have stopped, then
removes the rest of its objects (configs, secrets, networks), so the stack can be deployed
again at once.`,
		Example: `  rscale down
  rscale down path/to/api --timeout 1m`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			o.dirFrom(args)
			return runDown(c.Context(), env, o)
		},
	}
	o.register(c)
	c.Flags().DurationVar(&o.timeout, "timeout", defaultTimeout, "how long to wait for the replicas to stop")
	return c
}

func runDown(ctx context.Context, env Env, o downOptions) error {
	if err := checkPositive("--timeout", o.timeout, "5m"); err != nil {
		return err
	}
	r, err := o.resolve(ctx, env, resolveOptions{sink: progress.NewRenderer(env.ErrOut, progress.Text)})
	if err != nil {
		return err
	}
	defer r.Close()
	removed, err := r.pipe.Down(ctx, r.name, o.timeout)
	if err == nil && !removed {
		fmt.Fprintf(env.ErrOut, "nothing to remove: stack %s is not deployed\n", r.name)
	}
	return err
}
