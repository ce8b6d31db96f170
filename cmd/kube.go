package cmd

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/compose-spec/compose-go/v2/types"
	"github.com/docker/docker/client"
	"github.com/spf13/cobra"

	"github.com/rscale/rscale/pkg/deploy"
	"github.com/rscale/rscale/pkg/engine"
	"github.com/rscale/rscale/pkg/kube"
	"github.com/rscale/rscale/pkg/scaffold"
)

// kubeFlags choose the engine, and the cluster as kubectl does.
type kubeFlags struct {
	target     string
	kubeconfig string
	context    string
	namespace  string
}

func (k *kubeFlags) register(c *cobra.Command) {
	f := c.Flags()
	f.StringVar(&k.target, "target", "", "engine: swarm or kubernetes (default: the one rscale init recorded in the stack file, else swarm)")
	f.StringVar(&k.kubeconfig, "kubeconfig", "", "kubeconfig file (default: $KUBECONFIG, else ~/.kube/config), with --target kubernetes")
	f.StringVar(&k.context, "context", "", "kubeconfig context (default: its current context), with --target kubernetes")
	f.StringVarP(&k.namespace, "namespace", "n", "", "namespace (default: the context's, else default), with --target kubernetes")
}

// kubernetes says whether the command acts on Kubernetes: --target, else the stack file's
// x-rscale target (p may be nil when there is no file), else Swarm.
func (k *kubeFlags) kubernetes(p *types.Project) (bool, error) {
	t := k.target
	if t == "" && p != nil {
		ext, _ := p.Extensions["x-rscale"].(map[string]any)
		t, _ = ext["target"].(string)
	}
	switch t {
	case "", scaffold.TargetSwarm:
		return false, nil
	case scaffold.TargetKubernetes:
		return true, nil
	}
	return false, usageError{fmt.Errorf("unknown target %q: choose %s or %s", t, scaffold.TargetSwarm, scaffold.TargetKubernetes)}
}

// onKubernetes reads the stack file (if any) to decide the target.
func (k *kubeFlags) onKubernetes(ctx context.Context, f *stackFlags, args []string) (bool, error) {
	if k.target != "" {
		return k.kubernetes(nil)
	}
	p, _, err := f.load(ctx, args)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return false, nil // the Swarm path says what is missing
		}
		return false, err
	}
	return k.kubernetes(p)
}

func (k *kubeFlags) connect(ctx context.Context) (*kube.Cluster, error) {
	return kube.Connect(ctx, kube.ConnectOptions{Kubeconfig: k.kubeconfig, Context: k.context, Namespace: k.namespace})
}

// kubeDeploy builds the images, pushes them to the registry (when there is one), and
// deploys the stack on the cluster.
func kubeDeploy(ctx context.Context, s Streams, o deployOptions, args []string) error {
	p, name, err := deploy.LoadStack(ctx, o.path(args), o.name)
	if err != nil {
		return err
	}
	registry := o.registry
	if registry == "" {
		ext, _ := p.Extensions["x-rscale"].(map[string]any)
		registry, _ = ext["registry"].(string)
	}
	if o.dryRun {
		// The objects as the file gives them, with its image names: nothing is built.
		objs, err := kube.Build(p, name, kube.Options{ServiceType: o.serviceType})
		if err != nil {
			return fmt.Errorf("%s: %w", o.path(args), err)
		}
		out, err := kube.YAML(objs.All())
		if err != nil {
			return err
		}
		_, err = s.Out.Write(out)
		return err
	}
	// Check the file and the cluster before building anything.
	if _, err := kube.Build(p, name, kube.Options{ServiceType: o.serviceType}); err != nil {
		return fmt.Errorf("%s: %w", o.path(args), err)
	}
	cluster, err := o.kube.connect(ctx)
	if err != nil {
		return err
	}
	images := map[string]string{}
	if !o.noBuild || registry != "" {
		err := withEngine(ctx, func(api engine.API) error {
			if !o.noBuild {
				refs, err := deploy.BuildImages(ctx, api, p, deploy.BuildOptions{Progress: s.ErrOut, Verbose: o.verbose})
				if err != nil {
					return err
				}
				images = refs
			}
			if registry == "" {
				return nil
			}
			pusher, ok := api.(*client.Client)
			if !ok {
				return fmt.Errorf("pushing needs the Docker engine")
			}
			return pushAll(ctx, s, pusher, p, name, registry, images)
		})
		if err != nil {
			return err
		}
	}
	objs, err := kube.Build(p, name, kube.Options{Images: images, ServiceType: o.serviceType})
	if err != nil {
		return err
	}
	fmt.Fprintf(s.ErrOut, "Deploying stack %s to namespace %s of context %s (%s)\n", name, cluster.Namespace, cluster.Context, cluster.Host)
	r, err := kube.Deploy(ctx, cluster, objs, kube.DeployOptions{Timeout: o.timeout, Detach: o.detach, Out: s.ErrOut})
	if err != nil {
		var rb *kube.RolledBackError
		if errors.As(err, &rb) {
			return fmt.Errorf("the new version never became ready: %w", err)
		}
		return err
	}
	state := "is running"
	if o.detach {
		state = "was handed to Kubernetes (not waiting: --detach)"
	}
	fmt.Fprintf(s.ErrOut, "Stack %s %s.\n", name, state)
	fmt.Fprintln(s.Out, r.URL)
	return nil
}

// pushAll pushes every image of the stack that this engine has (the API's, just built, and
// the proxy's), so the cluster's nodes can pull them; images maps service → pinned reference.
func pushAll(ctx context.Context, s Streams, api *client.Client, p *types.Project, stack, registry string, images map[string]string) error {
	for _, service := range p.ServiceNames() {
		local := images[service]
		if local == "" {
			local = p.Services[service].Image
			if _, err := api.ImageInspect(ctx, local); err != nil {
				continue // not on this engine: the nodes pull it from where the file says
			}
		}
		tag := "latest"
		if _, t, ok := strings.Cut(local[strings.LastIndex(local, "/")+1:], ":"); ok {
			tag = t
		}
		pinned, err := kube.Push(ctx, api, local, kube.RemoteRef(registry, stack, service, tag), s.ErrOut)
		if err != nil {
			return err
		}
		images[service] = pinned
	}
	return nil
}

func kubeScale(ctx context.Context, s Streams, k *kubeFlags, p *types.Project, name string, args []deploy.ScaleArg, detach bool, timeout time.Duration) error {
	want := map[string]int32{}
	for _, a := range args {
		service := strings.TrimPrefix(a.Service, name+"_")
		if p != nil {
			if _, ok := p.Services[service]; !ok {
				return usageError{fmt.Errorf("no service %q: it has %s", service, strings.Join(p.ServiceNames(), ", "))}
			}
		}
		want[service] = int32(a.Replicas)
	}
	cluster, err := k.connect(ctx)
	if err != nil {
		return err
	}
	return kube.Scale(ctx, cluster, name, want, kube.WaitOptions{Timeout: timeout, Out: s.ErrOut}, detach)
}

func kubePs(ctx context.Context, s Streams, k *kubeFlags, name, output string) error {
	cluster, err := k.connect(ctx)
	if err != nil {
		return err
	}
	pods, err := kube.Pods(ctx, cluster, name)
	if err != nil {
		return err
	}
	if output == "json" {
		if pods == nil {
			pods = []kube.Pod{}
		}
		enc := json.NewEncoder(s.Out)
		enc.SetIndent("", "  ")
		return enc.Encode(pods)
	}
	if len(pods) == 0 {
		fmt.Fprintf(s.ErrOut, "stack %s is not deployed in namespace %s: run 'rscale deploy'\n", name, cluster.Namespace)
		return nil
	}
	w := tabwriter.NewWriter(s.Out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(w, "POD\tSERVICE\tREADY\tSTATUS\tRESTARTS\tAGE\tNODE")
	for _, p := range pods {
		fmt.Fprintf(w, "%s\t%s\t%t\t%s\t%d\t%s\t%s\n", p.Name, p.Service, p.Ready, p.Status, p.Restarts, p.Age, p.Node)
	}
	return w.Flush()
}

func kubeLogs(ctx context.Context, s Streams, k *kubeFlags, name string, services []string, o deploy.LogOptions) error {
	lo := kube.LogOptions{Follow: o.Follow, Tail: -1}
	if o.Tail != "" && o.Tail != "all" {
		n, err := strconv.ParseInt(o.Tail, 10, 64)
		if err != nil || n < 0 {
			return usageError{fmt.Errorf("--tail %q: give a number of lines, or all", o.Tail)}
		}
		lo.Tail = n
	}
	if o.Since != "" {
		d, err := time.ParseDuration(o.Since)
		if err != nil {
			t, terr := time.Parse(time.RFC3339, o.Since)
			if terr != nil {
				return usageError{fmt.Errorf("--since %q: give a duration such as 10m, or a time such as 2026-11-25T18:00:00Z", o.Since)}
			}
			d = time.Since(t)
		}
		lo.Since = d
	}
	cluster, err := k.connect(ctx)
	if err != nil {
		return err
	}
	return kube.Logs(ctx, cluster, name, services, lo, s.Out)
}

func kubeDown(ctx context.Context, s Streams, k *kubeFlags, name string, timeout time.Duration) error {
	cluster, err := k.connect(ctx)
	if err != nil {
		return err
	}
	removed, err := kube.Down(ctx, cluster, name, timeout, s.ErrOut)
	if err == nil && !removed {
		fmt.Fprintf(s.ErrOut, "nothing to remove: stack %s is not deployed in namespace %s\n", name, cluster.Namespace)
	}
	return err
}
