package cmd

import (
	"context"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/rscale/rscale/pkg/backend"
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
removes its configs, secrets and networks, so the stack can be deployed again at once.`,
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
	name, err := o.stackName(ctx)
	if err != nil {
		return err
	}
	return o.withBackend(ctx, env, func(b backend.Backend) error {
		removed, err := b.Down(ctx, name, backend.DownOptions{Timeout: o.timeout, Progress: env.ErrOut})
		if err == nil && !removed {
			fmt.Fprintf(env.ErrOut, "nothing to remove: stack %s is not deployed\n", name)
		}
		return err
	})
}
