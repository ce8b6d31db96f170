package cmd

import (
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/rscale/rscale/pkg/deploy"
	"github.com/rscale/rscale/pkg/engine"
)

func newDownCmd(s Streams) *cobra.Command {
	var (
		f       stackFlags
		timeout time.Duration
		k       kubeFlags
	)
	c := &cobra.Command{
		Use:   "down [DIR]",
		Short: "Remove the stack deployed from DIR",
		Long: `down removes the stack's services, waits until their replicas have stopped, then
removes its configs, secrets and networks, so the stack can be deployed again at once.`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			ctx := c.Context()
			name, err := f.stackName(ctx, args)
			if err != nil {
				return err
			}
			onKube, err := k.onKubernetes(ctx, &f, args)
			if err != nil {
				return err
			}
			if onKube {
				return kubeDown(ctx, s, &k, name, timeout)
			}
			return withEngine(ctx, func(api engine.API) error {
				removed, err := deploy.Remove(ctx, api, name, s.ErrOut, timeout)
				if err == nil && !removed {
					fmt.Fprintf(s.ErrOut, "nothing to remove: stack %s is not deployed\n", name)
				}
				return err
			})
		},
	}
	f.register(c)
	k.register(c)
	c.Flags().DurationVar(&timeout, "timeout", defaultTimeout, "how long to wait for the replicas to stop")
	return c
}
