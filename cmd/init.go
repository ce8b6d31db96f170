package cmd

import (
	"fmt"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/rscale/rscale/pkg/project"
	"github.com/rscale/rscale/pkg/scaffold"
	"github.com/rscale/rscale/pkg/stack"
)

type initOptions struct {
	scaffold.Options
	dir      string
	rVersion string
	force    bool
	dryRun   bool
}

func newInitCmd(s Streams) *cobra.Command {
	o := initOptions{Options: scaffold.DefaultOptions()}
	c := &cobra.Command{
		Use:   "init [DIR]",
		Short: "Write a Dockerfile and a Swarm stack file for the Plumber API in DIR",
		Long: `init reads the Plumber API in DIR (default: the current folder): its endpoints,
the R packages it uses and the R version it wants. It writes:

  Dockerfile          the image: R, the packages, the API, a health check
  .dockerignore       files kept out of the image
  .rscale/launch.R    starts the API on 0.0.0.0:$PORT with a health endpoint
  .rscale/install.R   installs the R packages while the image builds
  .rscale/healthcheck.sh  Docker's health check: answering, or busy but not stuck
  rscale.yml          the stack: the API's replicas behind a reverse proxy
  haproxy.cfg         HAProxy: one request at a time per R process, the rest queued

HAProxy is the proxy unless you pass --proxy traefik; then Traefik is the edge and sends
every request to HAProxy's queue. With --dashboard, init also generates the dashboard's
password in .rscale/secrets/ (kept out of git and of the image).

Existing files are kept unless you pass --force.`,
		Example: `  rscale init
  rscale init path/to/api --replicas 4 --request-timeout 10m
  rscale init --proxy traefik --dashboard
  rscale init --dry-run`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			if o.Target == scaffold.TargetKubernetes && !c.Flags().Changed("proxy") {
				o.Proxy = scaffold.ProxyHAProxy
			}
			o.dir = "."
			if len(args) == 1 {
				o.dir = args[0]
			}
			return runInit(s, o)
		},
	}
	f := c.Flags()
	f.StringVarP(&o.StackFile, "file", "f", o.StackFile, "name of the stack file to write")
	f.StringVar(&o.StackName, "name", "", "stack name (default: the folder name, made Swarm-safe)")
	f.StringVar(&o.Service, "service", o.Service, "name of the API's service in the stack")
	f.IntVar(&o.Replicas, "replicas", o.Replicas, "number of R processes (replicas) serving the API")
	f.IntVar(&o.MaxReplicas, "max-replicas", o.MaxReplicas, "most replicas HAProxy makes room for")
	f.IntVar(&o.Port, "port", o.Port, "port R listens on inside each container")
	f.IntVar(&o.ProxyPort, "proxy-port", o.ProxyPort, "port the proxy publishes on the machine")
	f.StringVar(&o.Proxy, "proxy", o.Proxy, "reverse proxy in front of the replicas: haproxy, or traefik in front of HAProxy")
	f.StringVar(&o.ProxyImage, "proxy-image", "", "proxy image (default "+scaffold.DefaultHAProxyImage+" or "+scaffold.DefaultTraefikImage+")")
	f.StringVar(&o.QueueImage, "queue-image", "", "HAProxy image of the queue behind --proxy traefik (default "+scaffold.DefaultHAProxyImage+")")
	f.DurationVar(&o.RequestTimeout, "request-timeout", o.RequestTimeout, "longest one request may keep an R process busy")
	f.DurationVar(&o.QueueTimeout, "queue-timeout", o.QueueTimeout, "longest a request waits for a free R process before a 503")
	f.BoolVar(&o.Dashboard, "dashboard", false, "publish the proxy's dashboard, behind a generated password (HAProxy stats on 8404, Traefik on 8080)")
	f.StringVar(&o.Image, "image", "", "name of the API image (default <stack>/<service>:latest)")
	f.StringVar(&o.BaseImage, "base-image", "", "image to build on (default "+scaffold.DefaultRImage+":<R version>)")
	f.StringVar(&o.rVersion, "r-version", "", "R version (default: from renv.lock, then DESCRIPTION, then "+project.DefaultRVersion+")")
	f.StringVar(&o.HealthPath, "health-path", o.HealthPath, "path of the health endpoint the launcher adds")
	f.StringVar(&o.CPUs, "cpus", "", "CPU limit per replica, such as 1 or 0.5 (default: none)")
	f.StringVar(&o.Memory, "memory", "", "memory limit per replica, such as 512M (default: none)")
	f.StringVar(&o.Target, "target", "", "engine rscale deploy uses: swarm or kubernetes (recorded in the stack file; kubernetes implies --proxy haproxy)")
	f.StringVar(&o.Registry, "registry", "", "registry deploy pushes the images to, for a swarm of several nodes (host[:port][/path])")
	f.StringVar(&o.CRAN, "cran", os.Getenv("RSCALE_CRAN"), "R package repository for the image: a URL, or a date such as 2024-06-03 for a dated snapshot (default: RSCALE_CRAN, else the base image's)")
	f.BoolVar(&o.force, "force", false, "overwrite files that exist")
	f.BoolVar(&o.dryRun, "dry-run", false, "print what would be written, and write nothing")
	return c
}

func runInit(s Streams, o initOptions) error {
	if err := o.Validate(); err != nil {
		return usageError{err}
	}
	p, err := project.Load(o.dir, o.rVersion)
	if err != nil {
		return err
	}
	files, err := scaffold.Render(p, o.Options, Version())
	if err != nil {
		return err
	}
	for _, w := range p.Warnings {
		fmt.Fprintf(s.ErrOut, "Warning: %s\n", w)
	}
	if o.dryRun {
		for _, f := range files {
			fmt.Fprintf(s.Out, "--- %s (not written: --dry-run)\n%s", f.Path, f.Data)
		}
		if o.Dashboard {
			fmt.Fprintf(s.Out, "--- %s and %s: the dashboard's password, generated (not written: --dry-run)\n", scaffold.DashboardPasswordFile, scaffold.DashboardUsersFile)
		}
		return nil
	}
	var secrets []scaffold.File
	if o.Dashboard {
		if secrets, err = scaffold.DashboardSecrets(o.dir, o.Proxy); err != nil {
			return err
		}
	}
	if err := scaffold.Write(o.dir, files, o.force); err != nil {
		return err
	}
	if err := scaffold.WriteSecrets(o.dir, secrets); err != nil {
		return err
	}
	fmt.Fprintf(s.ErrOut, "Plumber API %s: %d endpoint(s), R %s (%s), packages: %s\n",
		p.API.Entrypoint, len(p.API.Endpoints), p.RVersion, p.RVersionSource, strings.Join(p.Packages, ", "))
	for _, f := range append(files, secrets...) {
		fmt.Fprintf(s.Out, "wrote %s\n", f.Path)
	}
	if o.Dashboard {
		fmt.Fprintf(s.ErrOut, "Dashboard, once deployed: %s\n", stack.DashboardHint(o.DashboardURL(), scaffold.DashboardUser, scaffold.DashboardPasswordFile))
	}
	fmt.Fprintf(s.ErrOut, "Next: rscale deploy %s\n", o.dir)
	return nil
}
