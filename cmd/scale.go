package cmd

import (
	"context"
	"time"

	"github.com/spf13/cobra"

	"github.com/rscale/rscale/pkg/backend"
	"github.com/rscale/rscale/pkg/stack"
)

type scaleOptions struct {
	stackFlags
	targets []string // SERVICE=REPLICAS arguments
	detach  bool
	timeout time.Duration
	batch   int
}

func newScaleCmd(env Env) *cobra.Command {
	var o scaleOptions
	c := &cobra.Command{
		Use:   "scale SERVICE=REPLICAS [SERVICE=REPLICAS...]",
		Short: "Change how many replicas a service of the stack runs",
		Long: `scale sets the number of replicas of services of the stack deployed from the stack
file in --dir. SERVICE may be given with or without the stack's prefix. Every argument
is checked before anything changes; then scale waits until the replicas run.`,
		Example: "  rscale scale model_server=100",
		Args:    cobra.MinimumNArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			o.targets = args
			return runScale(c.Context(), env, o)
		},
	}
	o.register(c)
	o.registerDir(c)
	c.ValidArgsFunction = serviceCompletion(env, &o.stackFlags, "=")
	c.Flags().BoolVarP(&o.detach, "detach", "d", false, "do not wait for the replicas")
	c.Flags().DurationVar(&o.timeout, "timeout", defaultTimeout, "how long to wait for the replicas")
	c.Flags().IntVar(&o.batch, "batch", 0, "most replicas starting at once when adding many (default: 8 per CPU of the swarm's nodes, twice that while a one-node swarm's CPU has room)")
	return c
}

func runScale(ctx context.Context, env Env, o scaleOptions) error {
	targets, err := backend.ParseScaleArgs(o.targets)
	if err != nil {
		return usageError{err}
	}
	if err := firstError(checkPositive("--timeout", o.timeout, "5m"), checkBatch(o.batch)); err != nil {
		return err
	}
	p, name, err := o.load(ctx)
	if err != nil {
		return err
	}
	if err := checkDuplicates(targets, name); err != nil {
		return err
	}
	if p != nil {
		ext, err := stack.ReadExtension(p)
		if err != nil {
			return err
		}
		if err := backend.CheckMaxReplicas(targets, name, ext.MaxReplicas); err != nil {
			return usageError{err}
		}
	}
	return o.withBackend(ctx, env, func(b backend.Backend) error {
		return b.Scale(ctx, name, targets, backend.ScaleOptions{Detach: o.detach, Timeout: o.timeout, Batch: o.batch, Progress: env.ErrOut})
	})
}
