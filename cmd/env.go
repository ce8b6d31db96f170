package cmd

import (
	"context"
	"fmt"

	"github.com/rscale/rscale/pkg/backend"
	"github.com/rscale/rscale/pkg/engine"
	"github.com/rscale/rscale/pkg/kube"
	"github.com/rscale/rscale/pkg/swarm"
)

// Env is what the commands are given instead of making it themselves: the IO streams and the
// backends they act through, so that tests can run every command against a fake engine.
type Env struct {
	Streams
	Backends backend.Factory
}

// DefaultEnv is the process's streams and the real engines.
func DefaultEnv() Env {
	return Env{Streams: DefaultStreams(), Backends: DefaultBackends}
}

// DefaultBackends makes the backend for a target: Docker Swarm, on the engine the
// environment names (DOCKER_HOST, ...), or the Kubernetes cluster of the kubeconfig. It
// connects only once the backend first needs to.
func DefaultBackends(_ context.Context, o backend.Options) (backend.Backend, error) {
	switch o.Target {
	case "", backend.TargetSwarm:
		return swarm.NewBackend(connectDocker), nil
	case backend.TargetKubernetes:
		// Images are still built, and pushed, by the Docker engine.
		pusher := func(ctx context.Context) (kube.Pusher, error) {
			c, err := engine.Connect(ctx)
			if err != nil {
				return nil, err
			}
			return kube.DockerPusher(c), nil
		}
		return kube.NewBackend(kube.ConnectOptions{Kubeconfig: o.Kubeconfig, Context: o.Context, Namespace: o.Namespace},
			swarm.NewBackend(connectDocker), pusher), nil
	default:
		return nil, usageError{fmt.Errorf("unknown target %q: choose %s or %s", o.Target, backend.TargetSwarm, backend.TargetKubernetes)}
	}
}

func connectDocker(ctx context.Context) (engine.API, error) {
	c, err := engine.Connect(ctx)
	if err != nil {
		return nil, err // not a nil *client.Client in a non-nil engine.API
	}
	return c, nil
}
