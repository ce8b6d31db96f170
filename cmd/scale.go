package cmd

import (
	"context"
	"errors"
	"time"

	"github.com/spf13/cobra"

	"github.com/rscale/rscale/pkg/pipeline"
)

type scaleOptions struct {
	stackFlags
	progressFlag
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
		Example: `  rscale scale model_server=100
  rscale scale model_server=4 proxy=2 --dir path/to/api -d`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			o.targets = args
			return runScale(c.Context(), env, o)
		},
	}
	o.register(c)
	o.registerDir(c)
	o.registerProgress(c)
	c.ValidArgsFunction = serviceCompletion(env, &o.stackFlags, "=")
	c.Flags().BoolVarP(&o.detach, "detach", "d", false, "do not wait for the replicas")
	c.Flags().DurationVar(&o.timeout, "timeout", defaultTimeout, "how long to wait for the replicas")
	c.Flags().IntVar(&o.batch, "batch", 0, "most replicas starting at once when adding many (default: the engine's)")
	return c
}

func runScale(ctx context.Context, env Env, o scaleOptions) error {
	// The form of the arguments first, before any file is read.
	if _, err := pipeline.ParseScale(o.targets, "", nil); err != nil {
		return argError(err)
	}
	if err := firstError(checkPositive("--timeout", o.timeout, "5m"), checkBatch(o.batch)); err != nil {
		return err
	}
	sink, err := o.renderer(env.Streams)
	if err != nil {
		return err
	}
	r, err := o.resolve(ctx, env, resolveOptions{sink: sink})
	if err != nil {
		return err
	}
	defer r.Close()
	targets, err := pipeline.ParseScale(o.targets, r.name, r.ext().MaxReplicas)
	if err != nil {
		return argError(err)
	}
	return r.pipe.Scale(ctx, r.name, targets, pipeline.ScaleOptions{Detach: o.detach, Timeout: o.timeout, Batch: o.batch})
}

// argError makes a pipeline's refusal of an argument a usage error.
func argError(err error) error {
	var arg *pipeline.ArgError
	if errors.As(err, &arg) {
		return usageError{err}
	}
	return err
}
