package kube

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/spf13/pflag"
	corev1 "k8s.io/api/core/v1"

	"github.com/rscale/rscale/pkg/docker"
	"github.com/rscale/rscale/pkg/engine"
	"github.com/rscale/rscale/pkg/haproxy"
	"github.com/rscale/rscale/pkg/stack"
)

// Engine is engine.Engine on Kubernetes. The cluster is reached on the first call that
// needs it; images are built and pushed by the Docker engine the docker CLI would use.
type Engine struct {
	// ServiceType of the proxy's Service: LoadBalancer (the default) or NodePort.
	ServiceType corev1.ServiceType
	// Interval is how often Remove looks whether the pods are gone; 0: half a second.
	Interval time.Duration

	connect func(context.Context) (*Cluster, error)
	docker  func(context.Context) (docker.API, error)

	once    sync.Once
	cluster *Cluster
	err     error

	dockerOnce sync.Once
	dockerAPI  docker.API
	dockerErr  error
}

var (
	_ engine.Engine     = (*Engine)(nil)
	_ engine.Renderer   = (*Engine)(nil)
	_ engine.RollBacker = (*Engine)(nil)
)

// New returns an Engine on the cluster o names, building images with the Docker engine
// dockerConnect gives.
func New(o ConnectOptions, dockerConnect func(context.Context) (docker.API, error)) *Engine {
	return &Engine{
		connect: func(ctx context.Context) (*Cluster, error) { return Connect(ctx, o) },
		docker:  dockerConnect,
	}
}

// NewFor is an Engine on a cluster already connected, for tests.
func NewFor(c *Cluster, dockerConnect func(context.Context) (docker.API, error)) *Engine {
	return &Engine{connect: func(context.Context) (*Cluster, error) { return c, nil }, docker: dockerConnect}
}

// Registration is Kubernetes as the commands know it: HAProxy is the proxy rscale runs on it.
var Registration = engine.Registration{
	Name:    "kubernetes",
	Bind:    bind,
	Proxies: []string{"haproxy"},
	HAProxy: haproxy.Kubernetes,
}

// bind adds the flags kubectl users expect (--kubeconfig, -n), and deploy's --service-type;
// the global --context names a kubeconfig context.
func bind(command string, fs *pflag.FlagSet) func(engine.Options) (engine.Engine, error) {
	var kubeconfig, namespace, serviceType string
	if command != "build" {
		fs.StringVar(&kubeconfig, "kubeconfig", "", "Kubernetes: kubeconfig file (default: $KUBECONFIG, else ~/.kube/config)")
		fs.StringVarP(&namespace, "namespace", "n", "", "Kubernetes: namespace (default: the context's, else default)")
	}
	if command == "deploy" {
		fs.StringVar(&serviceType, "service-type", "", "Kubernetes: type of the proxy's Service, LoadBalancer or NodePort (default LoadBalancer)")
	}
	return func(o engine.Options) (engine.Engine, error) {
		switch corev1.ServiceType(serviceType) {
		case "", corev1.ServiceTypeLoadBalancer, corev1.ServiceTypeNodePort:
		default:
			return nil, fmt.Errorf("--service-type %q: choose LoadBalancer or NodePort", serviceType)
		}
		// Images go through the Docker engine the docker CLI would use: --context names a
		// kubeconfig context here, not a docker one.
		e := New(ConnectOptions{Kubeconfig: kubeconfig, Context: o.Context, Namespace: namespace},
			func(ctx context.Context) (docker.API, error) { return docker.ConnectChosen(ctx, "", o.Notices) })
		e.ServiceType = corev1.ServiceType(serviceType)
		return e, nil
	}
}

func (e *Engine) clusterFor(ctx context.Context) (*Cluster, error) {
	e.once.Do(func() { e.cluster, e.err = e.connect(ctx) })
	return e.cluster, e.err
}

func (e *Engine) interval() time.Duration {
	if e.Interval > 0 {
		return e.Interval
	}
	return 500 * time.Millisecond
}

// Images is the Docker engine that builds the images and pushes them for the nodes.
func (e *Engine) Images(ctx context.Context) (docker.API, error) {
	e.dockerOnce.Do(func() {
		if e.docker == nil {
			e.dockerErr = fmt.Errorf("no Docker engine to build the images with")
			return
		}
		e.dockerAPI, e.dockerErr = e.docker(ctx)
	})
	return e.dockerAPI, e.dockerErr
}

// Close closes the Docker engine's connection, if one was made; client-go's needs no closing.
func (e *Engine) Close() error {
	if e.dockerAPI == nil {
		return nil
	}
	return e.dockerAPI.Close()
}

// Version is the API server's version.
func (e *Engine) Version(ctx context.Context) (engine.Version, error) {
	c, err := e.clusterFor(ctx)
	if err != nil {
		return engine.Version{}, err
	}
	v, err := c.Client.Discovery().ServerVersion()
	if err != nil {
		return engine.Version{}, c.explain(err, "get", "version")
	}
	os, arch, _ := strings.Cut(v.Platform, "/")
	return engine.Version{Engine: "Kubernetes", Version: v.GitVersion, APIVersion: v.Major + "." + v.Minor, OS: os, Arch: arch}, nil
}

// Plan is a stack's Kubernetes objects.
type Plan struct{ Objects *Objects }

var _ engine.Plan = (*Plan)(nil)

// Stack is the stack's name.
func (p *Plan) Stack() string { return p.Objects.Stack }

// Services are the stack file's services the plan deploys, sorted.
func (p *Plan) Services() []string {
	var out []string
	for _, s := range p.Objects.Components {
		out = append(out, s)
	}
	sort.Strings(out)
	return out
}

// Plan builds the stack's objects, each service running the image images gives it.
func (e *Engine) Plan(s *stack.Stack, images map[string]string) (engine.Plan, error) {
	objs, err := Build(s.Project, s.Name, Options{Images: images, ServiceType: e.ServiceType})
	if err != nil {
		return nil, err
	}
	return &Plan{Objects: objs}, nil
}

func planOf(p engine.Plan) (*Objects, error) {
	plan, ok := p.(*Plan)
	if !ok {
		return nil, fmt.Errorf("the plan of stack %s was made for another engine than Kubernetes", p.Stack())
	}
	return plan.Objects, nil
}

// Render prints the objects as YAML documents or, for "json", a List.
func (e *Engine) Render(p engine.Plan, format string) ([]byte, error) {
	objs, err := planOf(p)
	if err != nil {
		return nil, err
	}
	switch format {
	case "yaml":
		return YAML(objs.All())
	case "json":
		var items []map[string]any
		for _, obj := range objs.All() {
			m, err := manifest(obj)
			if err != nil {
				return nil, err
			}
			items = append(items, m)
		}
		out, err := json.MarshalIndent(map[string]any{"apiVersion": "v1", "kind": "List", "items": items}, "", "  ")
		if err != nil {
			return nil, err
		}
		return append(out, '\n'), nil
	}
	return nil, fmt.Errorf("unknown format %q: choose yaml or json", format)
}

// Prepare connects, which checks that the cluster answers and the namespace exists, and
// says where the stack goes.
func (e *Engine) Prepare(ctx context.Context, p engine.Plan, o engine.PrepareOptions) error {
	c, err := e.clusterFor(ctx)
	if err != nil {
		return err
	}
	fmt.Fprintf(orDiscard(o.Progress), "Deploying stack %s to namespace %s of context %s (%s)\n", p.Stack(), c.Namespace, c.Context, c.Host)
	return nil
}

// URLs is where the stack's proxy answers from this machine.
func (e *Engine) URLs(ctx context.Context, stack string) ([]string, error) {
	c, err := e.clusterFor(ctx)
	if err != nil {
		return nil, err
	}
	url, err := URL(ctx, c, stack)
	if err != nil {
		return nil, err
	}
	return []string{url}, nil
}

// Remove removes the stack's objects and waits until its pods are gone.
func (e *Engine) Remove(ctx context.Context, stack string, o engine.RemoveOptions) (bool, error) {
	c, err := e.clusterFor(ctx)
	if err != nil {
		return false, err
	}
	return Down(ctx, c, stack, o.Timeout, e.interval(), o.Progress)
}

func orDiscard(w io.Writer) io.Writer {
	if w == nil {
		return io.Discard
	}
	return w
}
