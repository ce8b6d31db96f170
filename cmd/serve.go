package cmd

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/rscale/rscale/pkg/serve"
)

func newServeCmd(s Streams) *cobra.Command {
	o := serve.DefaultOptions()
	c := &cobra.Command{
		Use:   "serve [DIR]",
		Short: "Serve the Plumber API in DIR with many R processes on this machine, without Docker",
		Long: `serve starts --workers R processes, each running the Plumber API in DIR (default: the
current folder), and balances requests over them: each R process gets one request at a
time, and the others wait in one queue, oldest first, for the next free process. A worker
that crashes, stops answering its health check, or runs past --request-timeout is replaced.

It runs in the foreground and logs one line per request. Ctrl-C (or SIGTERM) stops taking
requests, lets those in flight and queued finish for up to --grace, stops the workers and
exits. GET /__rscale/status and /__rscale/metrics (Prometheus) report on it.`,
		Example: `  rscale serve
  rscale serve path/to/api --workers 8 --port 8000 --host 0.0.0.0
  rscale serve --min-workers 2 --max-workers 16`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			if len(args) == 1 {
				o.Dir = args[0]
			}
			if c.Flags().Changed("max-workers") && !c.Flags().Changed("workers") {
				o.Workers = max(1, o.MinWorkers)
			}
			return runServe(c.Context(), s, o)
		},
	}
	f := c.Flags()
	f.IntVarP(&o.Workers, "workers", "w", o.Workers, "R processes serving the API: one per CPU unless set")
	f.IntVar(&o.MinWorkers, "min-workers", 0, "with --max-workers: never fewer R processes than this")
	f.IntVar(&o.MaxWorkers, "max-workers", 0, "add R processes while requests wait, up to this many; stop those idle for --idle-timeout")
	f.StringVar(&o.Host, "host", o.Host, "address to listen on (0.0.0.0 for every interface)")
	f.IntVarP(&o.Port, "port", "p", o.Port, "port to listen on")
	f.IntVar(&o.MaxQueue, "max-queue", o.MaxQueue, "requests that may wait for a free R process; more get 503")
	f.DurationVar(&o.QueueTimeout, "queue-timeout", o.QueueTimeout, "how long a request may wait for a free R process before a 503")
	f.DurationVar(&o.RequestTimeout, "request-timeout", o.RequestTimeout, "how long R may take to answer; past it, 504 and the R process is replaced")
	f.DurationVar(&o.Grace, "grace", o.Grace, "on Ctrl-C or SIGTERM, how long requests in flight and queued may take to finish")
	f.DurationVar(&o.StartTimeout, "start-timeout", o.StartTimeout, "how long an R process may take to start the API")
	f.DurationVar(&o.IdleTimeout, "idle-timeout", o.IdleTimeout, "with --max-workers: stop an R process idle this long")
	f.StringVar(&o.HealthPath, "health-path", o.HealthPath, "health endpoint of each R process (added unless the API defines it)")
	f.DurationVar(&o.HealthInterval, "health-interval", o.HealthInterval, "how often idle R processes are health-checked")
	f.StringVar(&o.LogFormat, "log-format", o.LogFormat, "text or json")
	f.StringVar(&o.Rscript, "rscript", "", "the Rscript to run (default: Rscript on PATH)")
	return c
}

func runServe(ctx context.Context, s Streams, o serve.Options) error {
	if err := o.Validate(); err != nil {
		return usageError{err}
	}
	o.Version = Version()
	o.Log = s.Out
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()
	return serve.Run(ctx, o, nil)
}
