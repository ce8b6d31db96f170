package cmd

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"
	corev1 "k8s.io/api/core/v1"

	"github.com/rscale/rscale/pkg/backend"
	"github.com/rscale/rscale/pkg/kube"
	"github.com/rscale/rscale/pkg/registry"
	"github.com/rscale/rscale/pkg/stack"
)

type deployOptions struct {
	stackFlags
	noBuild       bool
	noInit        bool
	prune         bool
	detach        bool
	verbose       bool
	timeout       time.Duration
	advertiseAddr string
	batch         int
	dryRun        bool
	output        string
	registry      string
	serviceType   string
}

func newDeployCmd(env Env) *cobra.Command {
	var o deployOptions
	c := &cobra.Command{
		Use:   "deploy [DIR]",
		Short: "Build the API's image and deploy its stack on Docker Swarm",
		Long: `deploy reads the stack file in DIR (rscale.yml, written by rscale init), builds the
images it names, and deploys the stack on Docker Swarm the way 'docker stack deploy' does.
If this machine is in no swarm, it becomes a one-node swarm first (unless --no-init).
On a swarm of several nodes, --registry pushes the images to a registry every node pulls
from, and the services run them pinned by digest.
Then deploy waits until every replica is running and healthy, and prints the URL.

First, deploy refreshes the files rscale init wrote, as 'rscale init DIR' would with
the flags init was given: new endpoints, new R packages and the like follow the code.
Files you edited are kept (rscale's version is written beside them as FILE.rscale-new).`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			o.dirFrom(args)
			return runDeploy(c.Context(), env, o)
		},
	}
	o.register(c)
	f := c.Flags()
	f.BoolVar(&o.noBuild, "no-build", false, "deploy the images as they are, without building")
	f.BoolVar(&o.noInit, "no-init", false, "refuse, instead of making a one-node swarm, when this machine is in no swarm")
	f.BoolVar(&o.prune, "prune", false, "remove the stack's services that the stack file no longer has")
	f.BoolVarP(&o.detach, "detach", "d", false, "return once Swarm has the new spec, without waiting for the replicas")
	f.BoolVarP(&o.verbose, "verbose", "v", false, "show every line of the image build")
	f.DurationVar(&o.timeout, "timeout", defaultTimeout, "how long to wait for every replica to be running and healthy")
	f.IntVar(&o.batch, "batch", 0, "most replicas starting at once when adding many (default: 8 per CPU of the swarm's nodes, twice that while a one-node swarm's CPU has room)")
	f.StringVar(&o.registry, "registry", "", "push the built images to this registry (host[:port][/path]) and deploy them from there, as a swarm of several nodes or a Kubernetes cluster needs (default: the stack file's x-rscale registry)")
	f.BoolVar(&o.dryRun, "dry-run", false, "Kubernetes: print the objects deploy would apply (-o yaml), and apply nothing")
	f.StringVarP(&o.output, "output", "o", "yaml", "format of --dry-run: yaml")
	f.StringVar(&o.serviceType, "service-type", "LoadBalancer", "Kubernetes: type of the proxy's Service: LoadBalancer or NodePort")
	f.StringVar(&o.advertiseAddr, "advertise-addr", "", "address a new swarm advertises to other nodes (default: Docker's choice, else 127.0.0.1)")
	return c
}

func runDeploy(ctx context.Context, env Env, o deployOptions) error {
	if o.output != "yaml" {
		return usageError{fmt.Errorf("unknown --output %q: deploy --dry-run prints yaml", o.output)}
	}
	if o.serviceType != "LoadBalancer" && o.serviceType != "NodePort" {
		return usageError{fmt.Errorf("unknown --service-type %q: choose LoadBalancer or NodePort", o.serviceType)}
	}
	if err := firstError(checkPositive("--timeout", o.timeout, "5m"), checkBatch(o.batch)); err != nil {
		return err
	}
	if o.registry != "" {
		if err := registry.Check(o.registry); err != nil {
			return usageError{fmt.Errorf("--registry: %w", err)}
		}
	}
	if err := refreshGenerated(env.Streams, o.dir); err != nil {
		return err
	}
	p, name, err := o.open(ctx)
	if err != nil {
		return err
	}
	if o.dryRun && !o.onKubernetes(ctx) {
		return usageError{fmt.Errorf("--dry-run works with --target kubernetes only")}
	}
	if o.dryRun {
		// The objects as the file gives them, with its image names: nothing is built or asked.
		objs, err := kube.Build(p, name, kube.Options{ServiceType: corev1.ServiceType(o.serviceType)})
		if err != nil {
			return fmt.Errorf("%s: %w", o.path(), err)
		}
		out, err := kube.YAML(objs.All())
		if err != nil {
			return err
		}
		_, err = env.Out.Write(out)
		return err
	}
	if err := stack.CheckImages(p); err != nil {
		return fmt.Errorf("%s: %w", o.path(), err)
	}
	return o.withBackend(ctx, env, func(b backend.Backend) error {
		r, err := b.Deploy(ctx, p, name, backend.DeployOptions{
			Build: !o.noBuild, Init: !o.noInit,
			AdvertiseAddr: o.advertiseAddr, Prune: o.prune, Detach: o.detach,
			Timeout: o.timeout, Verbose: o.verbose, Batch: o.batch, Progress: env.ErrOut,
			Registry: o.registry, ServiceType: o.serviceType,
		})
		if err != nil {
			return err
		}
		ext, err := stack.ReadExtension(p)
		if err != nil {
			return err
		}
		r.URLs = ext.WithoutDashboard(r.URLs)
		printDeployed(env.Streams, r, ext.Dashboard(), o.detach)
		return nil
	})
}

func printDeployed(s Streams, r *backend.DeployResult, dashboard string, detached bool) {
	state := "is running"
	if detached {
		state = "was handed to Swarm (not waiting: --detach)"
	}
	fmt.Fprintf(s.ErrOut, "Stack %s %s.\n", r.Stack, state)
	if dashboard != "" {
		fmt.Fprintf(s.ErrOut, "Dashboard: %s\n", dashboard)
	}
	if len(r.URLs) > 0 {
		fmt.Fprintln(s.Out, strings.Join(r.URLs, "\n"))
	}
}
