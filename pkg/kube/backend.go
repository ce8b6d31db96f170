package kube

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/compose-spec/compose-go/v2/types"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/rscale/rscale/pkg/backend"
	"github.com/rscale/rscale/pkg/registry"
	"github.com/rscale/rscale/pkg/stack"
	"github.com/rscale/rscale/pkg/stackname"
)

// Backend is backend.Backend on Kubernetes. Images are built by the Docker engine (through
// builder) and pushed from it; the cluster is reached on the first call that needs it.
type Backend struct {
	opts    ConnectOptions
	builder backend.Backend
	pusher  func(context.Context) (Pusher, error)

	once    sync.Once
	cluster *Cluster
	err     error
}

var _ backend.Backend = (*Backend)(nil)

// NewBackend returns a Backend for the cluster o names. builder builds images (Swarm's
// backend does it on the Docker engine); pusher gives the engine that pushes them.
func NewBackend(o ConnectOptions, builder backend.Backend, pusher func(context.Context) (Pusher, error)) *Backend {
	return &Backend{opts: o, builder: builder, pusher: pusher}
}

// NewBackendFor is a Backend on a cluster already connected, for tests.
func NewBackendFor(c *Cluster, builder backend.Backend, pusher func(context.Context) (Pusher, error)) *Backend {
	b := &Backend{cluster: c, builder: builder, pusher: pusher}
	b.once.Do(func() {})
	return b
}

func (b *Backend) connect(ctx context.Context) (*Cluster, error) {
	b.once.Do(func() { b.cluster, b.err = Connect(ctx, b.opts) })
	return b.cluster, b.err
}

// Close closes the image builder's connection; client-go's needs no closing.
func (b *Backend) Close() error {
	if b.builder == nil {
		return nil
	}
	return b.builder.Close()
}

// Build builds the images on the Docker engine, as for Swarm.
func (b *Backend) Build(ctx context.Context, p *types.Project, o backend.BuildOptions) ([]backend.BuiltImage, error) {
	if b.builder == nil {
		return nil, errors.New("no image builder")
	}
	return b.builder.Build(ctx, p, o)
}

// Deploy builds and pushes the images, applies the stack's objects, prunes what the file no
// longer has, waits for the rollout and rolls back a version that never becomes ready.
func (b *Backend) Deploy(ctx context.Context, p *types.Project, name string, o backend.DeployOptions) (*backend.DeployResult, error) {
	progress := orDiscard(o.Progress)
	serviceType := corev1.ServiceType(o.ServiceType)
	// The file and its objects first: a mistake there stops before any build or connection.
	if _, err := Build(p, name, Options{ServiceType: serviceType}); err != nil {
		return nil, fmt.Errorf("%s: %w", stackFileName(p), err)
	}
	cluster, err := b.connect(ctx)
	if err != nil {
		return nil, err
	}
	registryAddr := o.Registry
	if registryAddr == "" {
		ext, err := stack.ReadExtension(p)
		if err != nil {
			return nil, err
		}
		registryAddr = ext.Registry
	}
	images := map[string]string{}
	if o.Build {
		built, err := b.Build(ctx, p, backend.BuildOptions{Progress: progress, Verbose: o.Verbose})
		if err != nil {
			return nil, err
		}
		for _, img := range built {
			images[img.Service] = img.Ref
		}
	}
	if registryAddr != "" {
		if err := b.pushAll(ctx, p, name, registryAddr, images, progress); err != nil {
			return nil, err
		}
	}
	objs, err := Build(p, name, Options{Images: images, ServiceType: serviceType})
	if err != nil {
		return nil, err
	}
	fmt.Fprintf(progress, "Deploying stack %s to namespace %s of context %s (%s)\n", name, cluster.Namespace, cluster.Context, cluster.Host)
	r, err := Deploy(ctx, cluster, objs, DeployOptions{Timeout: o.Timeout, Detach: o.Detach, Out: progress})
	if err != nil {
		var rb *RolledBackError
		if errors.As(err, &rb) {
			return nil, fmt.Errorf("the new version never became ready: %w", err)
		}
		return nil, err
	}
	return &backend.DeployResult{Stack: name, URLs: []string{r.URL}}, nil
}

// pushAll pushes every image of the stack that the Docker engine holds (the API's, just
// built, and the proxy's), so the nodes can pull them; images maps service → pinned reference.
func (b *Backend) pushAll(ctx context.Context, p *types.Project, stackName, registryAddr string, images map[string]string, progress io.Writer) error {
	if b.pusher == nil {
		return errors.New("no Docker engine to push the images from")
	}
	api, err := b.pusher(ctx)
	if err != nil {
		return err
	}
	for _, service := range p.ServiceNames() {
		local := images[service]
		if local == "" {
			local = p.Services[service].Image
			if ok, err := api.HasImage(ctx, local); err != nil || !ok {
				continue // not on this engine: the nodes pull it from where the file says
			}
		}
		tag := "latest"
		if _, t, ok := strings.Cut(local[strings.LastIndex(local, "/")+1:], ":"); ok {
			tag = t
		}
		remote, err := registry.Ref(registryAddr, stackName, service, tag)
		if err != nil {
			return err
		}
		pinned, err := registry.Push(ctx, api, local, remote, progress)
		if err != nil {
			return err
		}
		images[service] = pinned
	}
	return nil
}

func stackFileName(p *types.Project) string {
	if len(p.ComposeFiles) == 0 {
		return "the stack file"
	}
	return p.ComposeFiles[0]
}

// Scale sets the replicas through the scale subresource and waits until they are ready.
func (b *Backend) Scale(ctx context.Context, stackName string, targets []backend.ScaleTarget, o backend.ScaleOptions) error {
	cluster, err := b.connect(ctx)
	if err != nil {
		return err
	}
	want := map[string]int32{}
	for _, t := range targets {
		want[stackname.Unscoped(stackName, t.Service)] = int32(t.Replicas)
	}
	return Scale(ctx, cluster, stackName, want, WaitOptions{Timeout: o.Timeout, Out: o.Progress}, o.Detach)
}

// Ps reports each Deployment of the stack, with its pods as tasks.
func (b *Backend) Ps(ctx context.Context, stackName string) ([]backend.ServiceInfo, error) {
	cluster, err := b.connect(ctx)
	if err != nil {
		return nil, err
	}
	deployments, err := cluster.Client.AppsV1().Deployments(cluster.Namespace).List(ctx, metav1.ListOptions{LabelSelector: StackSelector(stackName)})
	if err != nil {
		return nil, cluster.explain(err, "list", "deployments")
	}
	pods, err := Pods(ctx, cluster, stackName)
	if err != nil {
		return nil, err
	}
	var out []backend.ServiceInfo
	for _, d := range deployments.Items {
		info := backend.ServiceInfo{
			Name: d.Labels[LabelName], Running: int(d.Status.Replicas), Image: d.Spec.Template.Spec.Containers[0].Image,
		}
		if d.Spec.Replicas != nil {
			info.Desired = int(*d.Spec.Replicas)
		}
		ready := int(d.Status.ReadyReplicas)
		info.Healthy = &ready
		for _, pod := range pods {
			if pod.Service != info.Name {
				continue
			}
			info.Tasks = append(info.Tasks, backend.TaskInfo{
				Name: pod.Name, State: pod.Status, Desired: "Running", Node: pod.Node, Since: pod.Started,
				Ready: ptr(pod.Ready), Restarts: ptr(pod.Restarts),
			})
		}
		if d.Spec.Template.Labels[LabelComponent] == "proxy" {
			if url, err := URL(ctx, cluster, stackName); err == nil {
				info.Ports = []string{url}
			}
		}
		out = append(out, info)
	}
	return out, nil
}

// Logs streams the logs of the stack's pods (backend.LogOptions: Tail "all" or a count,
// Since a duration or an RFC 3339 time).
func (b *Backend) Logs(ctx context.Context, stackName string, services []string, o backend.LogOptions, out io.Writer) error {
	lo := LogOptions{Follow: o.Follow, Tail: -1}
	if o.Tail != "" && o.Tail != "all" {
		n, err := strconv.ParseInt(o.Tail, 10, 64)
		if err != nil || n < 0 {
			return fmt.Errorf("--tail %q: give a number of lines, or all", o.Tail)
		}
		lo.Tail = n
	}
	if o.Since != "" {
		d, err := time.ParseDuration(o.Since)
		if err != nil {
			t, terr := time.Parse(time.RFC3339, o.Since)
			if terr != nil {
				return fmt.Errorf("--since %q: give a duration such as 10m, or a time such as 2026-11-25T18:00:00Z", o.Since)
			}
			d = time.Since(t)
		}
		lo.Since = d
	}
	cluster, err := b.connect(ctx)
	if err != nil {
		return err
	}
	var short []string
	for _, s := range services {
		short = append(short, stackname.Unscoped(stackName, s))
	}
	return Logs(ctx, cluster, stackName, short, lo, out)
}

// Down removes the stack's objects and waits until its pods are gone.
func (b *Backend) Down(ctx context.Context, stackName string, o backend.DownOptions) (bool, error) {
	cluster, err := b.connect(ctx)
	if err != nil {
		return false, err
	}
	return Down(ctx, cluster, stackName, o.Timeout, o.Progress)
}
