package cmd

import (
	"github.com/spf13/cobra"

	"github.com/rscale/rscale/pkg/deploy"
	"github.com/rscale/rscale/pkg/engine"
)

func newLogsCmd(s Streams) *cobra.Command {
	var (
		f   stackFlags
		dir string
		o   deploy.LogOptions
		k   kubeFlags
	)
	c := &cobra.Command{
		Use:   "logs [SERVICE...]",
		Short: "Show the logs of the stack's services, each line prefixed with its replica",
		Example: `  rscale logs
  rscale logs model_server -f --tail 20`,
		RunE: func(c *cobra.Command, args []string) error {
			ctx := c.Context()
			name, err := f.stackName(ctx, dirArgs(dir))
			if err != nil {
				return err
			}
			onKube, err := k.onKubernetes(ctx, &f, dirArgs(dir))
			if err != nil {
				return err
			}
			if onKube {
				return kubeLogs(ctx, s, &k, name, args, o)
			}
			return withEngine(ctx, func(api engine.API) error {
				return deploy.Logs(ctx, api, name, args, o, s.Out)
			})
		},
	}
	f.registerFile(c, "")
	k.register(c)
	c.Flags().StringVar(&dir, "dir", ".", "folder holding the stack file")
	c.Flags().BoolVarP(&o.Follow, "follow", "f", false, "keep printing new lines")
	c.Flags().StringVar(&o.Tail, "tail", "all", "lines to show from the end of each replica's log")
	c.Flags().StringVar(&o.Since, "since", "", "only lines since then: a duration such as 10m, or a timestamp")
	return c
}
