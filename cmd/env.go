package cmd

import (
	"context"
	"fmt"

	"github.com/rscale/rscale/pkg/backend"
	"github.com/rscale/rscale/pkg/engine"
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
// environment names (DOCKER_HOST, ...). It connects only once the backend first needs to.
func DefaultBackends(_ context.Context, o backend.Options) (backend.Backend, error) {
	switch o.Target {
	case "", backend.TargetSwarm:
		return swarm.NewBackend(connectDocker), nil
	default:
		return nil, usageError{fmt.Errorf("unknown target %q: choose %s", o.Target, backend.TargetSwarm)}
	}
}

func connectDocker(ctx context.Context) (engine.API, error) {
	c, err := engine.Connect(ctx)
	if err != nil {
		return nil, err // not a nil *client.Client in a non-nil engine.API
	}
	return c, nil
}
