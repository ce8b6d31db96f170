package swarm

import (
	"context"
	"fmt"

	"github.com/docker/docker/api/types/network"

	"github.com/rscale/rscale/pkg/docker"
)

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
