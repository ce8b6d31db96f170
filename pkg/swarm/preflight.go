package swarm

import (
	"context"
	"fmt"
	"io"

	"github.com/docker/docker/api/types/network"

	"github.com/rscale/rscale/pkg/docker"
	"github.com/rscale/rscale/pkg/engine"
	"github.com/rscale/rscale/pkg/stackname"
)

// Prepare checks, before anything is built or changed, that the swarm can take the plan: a
// manager to deploy through, the external networks, and, with no registry, images that reach
// every node that may run them. It makes this machine a one-node swarm when it is in none,
// unless NoInit.
func (e *Engine) Prepare(ctx context.Context, p engine.Plan, o engine.PrepareOptions) error {
	plan, err := planOf(p)
	if err != nil {
		return err
	}
	api, err := e.api(ctx)
	if err != nil {
		return err
	}
	inSwarm, err := docker.SwarmManager(ctx, api)
	if err != nil {
		return err
	}
	if !inSwarm && e.NoInit {
		return docker.ErrNoSwarm
	}
	if err := checkExternalNetworks(ctx, api, plan.Spec); err != nil {
		return err
	}
	if inSwarm && o.Registry == "" && len(o.BuiltServices) > 0 {
		built := map[string]bool{}
		for _, name := range o.BuiltServices {
			built[stackname.Scoped(plan.Name, name)] = true
		}
		if err := checkImagesReachNodes(ctx, api, plan.Spec, built); err != nil {
			return err
		}
	}
	if inSwarm {
		return nil
	}
	progress := o.Progress
	if progress == nil {
		progress = io.Discard
	}
	return docker.InitSwarm(ctx, api, e.AdvertiseAddr, progress)
}

// checkExternalNetworks refuses, before anything is built or changed, a stack whose
// external networks do not exist; Apply would only find out after the build.
func checkExternalNetworks(ctx context.Context, api docker.API, spec *Spec) error {
	var external []string
	for _, n := range spec.Networks {
		if n.External {
			external = append(external, n.Name)
		}
	}
	if len(external) == 0 {
		return nil
	}
	have, err := networkNames(ctx, api)
	if err != nil {
		return err
	}
	for _, name := range external {
		if !have[name] {
			return fmt.Errorf("network %s is declared external but does not exist: create it with 'docker network create --driver overlay --attachable %s', or drop external: true to let rscale create it", name, name)
		}
	}
	return nil
}

// networkNames lists the names of the networks the engine has.
func networkNames(ctx context.Context, api docker.API) (map[string]bool, error) {
	list, err := api.NetworkList(ctx, network.ListOptions{})
	if err != nil {
		return nil, fmt.Errorf("listing networks: %w", err)
	}
	have := make(map[string]bool, len(list))
	for _, n := range list {
		have[n.Name] = true
	}
	return have, nil
}
