package engine

import (
	"context"
	"fmt"
	"io"
	"strings"

	"github.com/docker/docker/api/types/swarm"
)

// EnsureSwarm makes sure the engine is a swarm manager. An engine in no swarm becomes a
// one-node swarm when initialise is true (rscale's embedded default); otherwise, and on a
// worker, the error says what to do.
func EnsureSwarm(ctx context.Context, api API, initialise bool, advertiseAddr string, out io.Writer) error {
	info, err := api.Info(ctx)
	if err != nil {
		return fmt.Errorf("asking the Docker engine about its swarm: %w", err)
	}
	switch info.Swarm.LocalNodeState {
	case swarm.LocalNodeStateActive:
		if !info.Swarm.ControlAvailable {
			return fmt.Errorf("this machine is a worker of a swarm, and only a manager can deploy: run rscale on a manager node (`docker node ls` there lists them)")
		}
		return nil
	case swarm.LocalNodeStateInactive:
		if !initialise {
			return fmt.Errorf("not a swarm manager: run 'docker swarm init', or deploy without --no-init to let rscale make a one-node swarm")
		}
		return initSwarm(ctx, api, advertiseAddr, out)
	case swarm.LocalNodeStateLocked:
		return fmt.Errorf("the swarm is locked: unlock it with 'docker swarm unlock'")
	default:
		return fmt.Errorf("the swarm is %s (%s): wait for it, or check 'docker info'", info.Swarm.LocalNodeState, info.Swarm.Error)
	}
}

func initSwarm(ctx context.Context, api API, advertiseAddr string, out io.Writer) error {
	req := swarm.InitRequest{ListenAddr: "0.0.0.0:2377", AdvertiseAddr: advertiseAddr}
	_, err := api.SwarmInit(ctx, req)
	// A machine with several addresses makes Docker ask which one to advertise; a one-node
	// swarm needs none, so loopback does.
	if err != nil && advertiseAddr == "" && strings.Contains(err.Error(), "advertise") {
		req.AdvertiseAddr = "127.0.0.1"
		_, err = api.SwarmInit(ctx, req)
	}
	if err != nil {
		return fmt.Errorf("making this machine a one-node swarm: %w (or run 'docker swarm init' yourself)", err)
	}
	fmt.Fprintf(out, "This machine was in no swarm: it is now a one-node swarm manager (docker swarm init).\n")
	return nil
}
