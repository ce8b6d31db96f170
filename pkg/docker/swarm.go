package docker

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/docker/docker/api/types/swarm"
)

// ErrNoSwarm says the engine is in no swarm, and how to fix it.
var ErrNoSwarm = errors.New("not a swarm manager: run 'docker swarm init', or deploy without --no-init to let rscale make a one-node swarm")

// SwarmManager reports whether the engine manages a swarm (true) or is in none (false, nil);
// a worker, a locked swarm or one in trouble is an error that says what to do.
func SwarmManager(ctx context.Context, api API) (bool, error) {
	info, err := api.Info(ctx)
	if err != nil {
		return false, fmt.Errorf("asking the Docker engine about its swarm: %w", err)
	}
	switch info.Swarm.LocalNodeState {
	case swarm.LocalNodeStateActive:
		if !info.Swarm.ControlAvailable {
			return false, fmt.Errorf("this machine is a worker of a swarm, and only a manager can deploy: run rscale on a manager node (`docker node ls` there lists them)")
		}
		return true, nil
	case swarm.LocalNodeStateInactive:
		return false, nil
	case swarm.LocalNodeStateLocked:
		return false, fmt.Errorf("the swarm is locked: unlock it with 'docker swarm unlock'")
	default:
		return false, fmt.Errorf("the swarm is %s (%s): wait for it, or check 'docker info'", info.Swarm.LocalNodeState, info.Swarm.Error)
	}
}

// InitSwarm makes the engine a one-node swarm manager: rscale's embedded default.
func InitSwarm(ctx context.Context, api API, advertiseAddr string, out io.Writer) error {
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
