package cmd

import (
	"context"
	"fmt"

	"github.com/docker/docker/client"

	"github.com/rscale/rscale/pkg/backend"
	"github.com/rscale/rscale/pkg/docker"
	"github.com/rscale/rscale/pkg/kube"
	"github.com/rscale/rscale/pkg/swarm"
)

// Env is what the commands are given instead of making it themselves: the IO streams and the
// backends they act through, so that tests can run every command against a fake engine.
type Env struct {
	Streams
	Backends backend.Factory
	global   *globalOptions // set by NewRootCmd
}

// globalOptions are the flags every command has.
type globalOptions struct {
	context string
}

// backendOptions are the choices of engine the global flags make.
func (e Env) backendOptions() backend.Options {
	o := backend.Options{Notices: e.ErrOut}
	if e.global != nil {
		o.Context = e.global.context
	}
	return o
}

// DefaultEnv is the process's streams and the real engines.
func DefaultEnv() Env {
	return Env{Streams: DefaultStreams(), Backends: DefaultBackends}
}

// DefaultBackends makes the backend for a target: Docker Swarm, on the engine the docker CLI
// would choose (docker.ResolveEndpoint). It resolves and connects only once the backend
// first needs the engine.
func DefaultBackends(_ context.Context, o backend.Options) (backend.Backend, error) {
	switch o.Target {
	case "", backend.TargetSwarm:
		return swarm.NewBackend(func(ctx context.Context) (docker.API, error) { return connectDocker(ctx, o) }), nil
	case backend.TargetKubernetes:
		// Images are still built, and pushed, by the Docker engine: the one the docker CLI
		// would use (--context names the kubeconfig's context here).
		dockerOpts := backend.Options{Notices: o.Notices}
		pusher := func(ctx context.Context) (kube.Pusher, error) {
			api, err := connectDocker(ctx, dockerOpts)
			if err != nil {
				return nil, err
			}
			c, ok := api.(*client.Client)
			if !ok {
				return nil, fmt.Errorf("pushing images needs the Docker engine")
			}
			return kube.DockerPusher(c), nil
		}
		return kube.NewBackend(kube.ConnectOptions{Kubeconfig: o.Kubeconfig, Context: o.Context, Namespace: o.Namespace},
			swarm.NewBackend(func(ctx context.Context) (docker.API, error) { return connectDocker(ctx, dockerOpts) }), pusher), nil
	default:
		return nil, usageError{fmt.Errorf("unknown target %q: choose %s or %s", o.Target, backend.TargetSwarm, backend.TargetKubernetes)}
	}
}

func connectDocker(ctx context.Context, o backend.Options) (docker.API, error) {
	ep, err := docker.ResolveEndpoint(o.Context)
	if err != nil {
		return nil, err
	}
	if !ep.IsLocalDefault() && o.Notices != nil {
		source := ""
		if ep.Source != "" {
			source = " (from " + ep.Source + ")"
		}
		fmt.Fprintf(o.Notices, "Using %s%s.\n", ep, source)
	}
	c, err := ep.Connect(ctx)
	if err != nil {
		return nil, err // not a nil *client.Client in a non-nil docker.API
	}
	return c, nil
}
