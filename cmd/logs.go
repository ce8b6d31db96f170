package cmd

import (
	"context"

	"github.com/spf13/cobra"

	"github.com/rscale/rscale/pkg/engine"
)

type logsOptions struct {
	stackFlags
	services []string
	engine.LogOptions
}

func newLogsCmd(env Env) *cobra.Command {
	var o logsOptions
	c := &cobra.Command{
		Use:   "logs [SERVICE...]",
		Short: "Show the logs of the stack's services, each line prefixed with its replica",
		Example: `  rscale logs
  rscale logs model_server -f --tail 20`,
		RunE: func(c *cobra.Command, args []string) error {
			o.services = args
			return runLogs(c.Context(), env, o)
		},
	}
	o.registerFile(c, "")
	o.registerDir(c)
	c.ValidArgsFunction = serviceCompletion(env, &o.stackFlags, "")
	c.Flags().BoolVarP(&o.Follow, "follow", "f", false, "keep printing new lines")
	c.Flags().StringVar(&o.Tail, "tail", "all", "lines to show from the end of each replica's log")
	c.Flags().StringVar(&o.Since, "since", "", "only lines since then: a duration such as 10m, or a timestamp")
	return c
}

func runLogs(ctx context.Context, env Env, o logsOptions) error {
	if err := firstError(checkTail(o.Tail), checkSince(o.Since)); err != nil {
		return err
	}
	r, err := o.resolve(ctx, env, resolveOptions{})
	if err != nil {
		return err
	}
	defer r.Close()
	return r.pipe.Logs(ctx, r.name, o.services, o.LogOptions, env.Out)
}
