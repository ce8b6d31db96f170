package cmd

import (
	"time"

	"github.com/spf13/cobra"

	"github.com/rscale/rscale/pkg/deploy"
	"github.com/rscale/rscale/pkg/engine"
)

func newScaleCmd(s Streams) *cobra.Command {
	var (
		f       stackFlags
		dir     string
		detach  bool
		timeout time.Duration
		batch   int
		k       kubeFlags
	)
	c := &cobra.Command{
		Use:   "scale SERVICE=REPLICAS [SERVICE=REPLICAS...]",
		Short: "Change how many replicas a service of the stack runs",
		Long: `scale sets the number of replicas of services of the stack deployed from the stack
file in --dir. SERVICE may be given with or without the stack's prefix. Every argument
is checked before anything changes; then scale waits until the replicas run.`,
		Example: "  rscale scale model_server=100",
		Args:    cobra.MinimumNArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			ctx := c.Context()
			parsed, err := deploy.ParseScaleArgs(args)
			if err != nil {
				return usageError{err}
			}
			p, name, err := f.load(ctx, dirArgs(dir))
			if err != nil {
				return err
			}
			onKube, err := k.kubernetes(p)
			if err != nil {
				return err
			}
			if p != nil {
				if err := deploy.CheckMaxReplicas(parsed, name, deploy.MaxReplicas(p)); err != nil {
					return usageError{err}
				}
			}
			if onKube {
				return kubeScale(ctx, s, &k, p, name, parsed, detach, timeout)
			}
			return withEngine(ctx, func(api engine.API) error {
				targets, err := deploy.ResolveScale(ctx, api, name, parsed)
				if err != nil {
					return usageError{err}
				}
				return deploy.Scale(ctx, api, targets, detach, deploy.WaitOptions{Timeout: timeout, Out: s.ErrOut, Prefix: name + "_", Batch: batch})
			})
		},
	}
	f.register(c)
	k.register(c)
	c.Flags().StringVar(&dir, "dir", ".", "folder holding the stack file")
	c.Flags().BoolVarP(&detach, "detach", "d", false, "do not wait for the replicas")
	c.Flags().DurationVar(&timeout, "timeout", defaultTimeout, "how long to wait for the replicas")
	c.Flags().IntVar(&batch, "batch", 0, "replicas started at a time when adding many (default: 4 per CPU of this node)")
	return c
}

func dirArgs(dir string) []string {
	return []string{dir}
}
