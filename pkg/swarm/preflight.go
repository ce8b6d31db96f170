package swarm

import (
	"context"
	"fmt"

	"github.com/docker/docker/api/types/network"

	"github.com/rscale/rscale/pkg/engine"
	"github.com/rscale/rscale/pkg/stack"
)

// checkExternalNetworks refuses, before anything is built or changed, a stack whose
// external networks do not exist; Apply would only find out after the build.
func checkExternalNetworks(ctx context.Context, api engine.API, spec *stack.Spec) error {
	var external []string
	for _, n := range spec.Networks {
		if n.External {
			external = append(external, n.Name)
		}
	}
	if len(external) == 0 {
		return nil
	}
	list, err := api.NetworkList(ctx, network.ListOptions{})
	if err != nil {
		return fmt.Errorf("listing networks: %w", err)
	}
	have := map[string]bool{}
	for _, n := range list {
		have[n.Name] = true
	}
	for _, name := range external {
		if !have[name] {
			return fmt.Errorf("network %s is declared external but does not exist: create it with 'docker network create --driver overlay --attachable %s', or drop external: true to let rscale create it", name, name)
		}
	}
	return nil
}
