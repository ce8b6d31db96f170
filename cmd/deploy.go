package cmd

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/rscale/rscale/pkg/pipeline"
	"github.com/rscale/rscale/pkg/registry"
)

type deployOptions struct {
	stackFlags
	progressFlag
	noBuild  bool
	prune    bool
	detach   bool
	verbose  bool
	timeout  time.Duration
	batch    int
	dryRun   bool
	output   string
	registry string
}

func newDeployCmd(env Env) *cobra.Command {
	var o deployOptions
	c := &cobra.Command{
		Use:   "deploy [DIR]",
		Short: "Build the API's image and deploy its stack on the target engine",
		Long: `deploy reads the stack file in DIR (rscale.yml, written by rscale init), builds the
images it names, and deploys the stack on the engine --target names (else the one
rscale init recorded in the stack file): a Docker Swarm, as 'docker stack deploy' does, or a
Kubernetes cluster. With --registry, it pushes the images to a registry every node pulls
from, and the services run them pinned by digest.
Then deploy waits until every replica is running and healthy, and prints the URL. A new
version that never becomes ready is rolled back: the previous version runs again.

First, deploy refreshes the files rscale init wrote, as 'rscale init DIR' would with
the flags init was given: new endpoints, new R packages and the like follow the code.
Files you edited are kept (rscale's version is written beside them as FILE.rscale-new).`,
		Example: `  rscale deploy
  rscale deploy path/to/api --timeout 10m
  rscale deploy --registry registry.example.com:5000
  rscale deploy --dry-run -o yaml`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			o.dirFrom(args)
			return runDeploy(c.Context(), env, o)
		},
	}
	o.register(c)
	o.registerProgress(c)
	f := c.Flags()
	f.BoolVar(&o.noBuild, "no-build", false, "deploy the images as they are, without building")
	f.BoolVar(&o.prune, "prune", false, "remove the stack's services that the stack file no longer has")
	f.BoolVarP(&o.detach, "detach", "d", false, "return once the engine has the new objects, without waiting for the replicas")
	f.BoolVarP(&o.verbose, "verbose", "v", false, "show every line of the image build")
	f.DurationVar(&o.timeout, "timeout", defaultTimeout, "how long to wait for every replica to be running and healthy")
	f.IntVar(&o.batch, "batch", 0, "most replicas starting at once when adding many (default: the engine's)")
	f.StringVar(&o.registry, "registry", "", "push the images to this registry (host[:port][/path]) and deploy them from there, as a cluster of several nodes needs (default: the stack file's x-rscale registry)")
	f.BoolVar(&o.dryRun, "dry-run", false, "print the objects deploy would apply (-o), and apply nothing")
	f.StringVarP(&o.output, "output", "o", "yaml", "format of --dry-run: yaml or json")
	return c
}

func runDeploy(ctx context.Context, env Env, o deployOptions) error {
	if o.output != "yaml" && o.output != "json" {
		return usageError{fmt.Errorf("unknown --output %q: deploy --dry-run prints yaml or json", o.output)}
	}
	if err := firstError(checkPositive("--timeout", o.timeout, "5m"), checkBatch(o.batch)); err != nil {
		return err
	}
	if o.registry != "" {
		if err := registry.Check(o.registry); err != nil {
			return usageError{fmt.Errorf("--registry: %w", err)}
		}
	}
	sink, err := o.renderer(env.Streams)
	if err != nil {
		return err
	}
	if !o.dryRun {
		if err := refreshGenerated(env.Streams, o.dir); err != nil {
			return err
		}
	}
	r, err := o.resolve(ctx, env, resolveOptions{needFile: true, sink: sink})
	if err != nil {
		return err
	}
	defer r.Close()
	if o.dryRun {
		// The objects as the file gives them, with its image names: nothing is built or asked.
		out, err := r.pipe.DryRun(r.stack, o.output)
		if errors.Is(err, pipeline.ErrNoRender) {
			return usageError{fmt.Errorf("--dry-run: the %s engine cannot print the objects it would apply", r.target)}
		}
		if err != nil {
			return err
		}
		_, err = env.Out.Write(out)
		return err
	}
	res, err := r.pipe.Deploy(ctx, r.stack, pipeline.DeployOptions{
		Build: !o.noBuild, Verbose: o.verbose, Prune: o.prune, Detach: o.detach,
		Timeout: o.timeout, Batch: o.batch, Registry: o.registry,
	})
	if err != nil {
		return err
	}
	if d := r.ext().Dashboard(); d != "" && o.mode != "json" {
		fmt.Fprintf(env.ErrOut, "Dashboard: %s\n", d)
	}
	if len(res.URLs) > 0 {
		fmt.Fprintln(env.Out, strings.Join(res.URLs, "\n"))
	}
	return nil
}
