package swarm

import (
	"context"
	"fmt"
	"sort"
	"strings"

	"github.com/docker/docker/api/types/swarm"

	"github.com/rscale/rscale/pkg/docker"
)

// nodeNames maps the swarm's node IDs to their host names, the names `docker node ls` shows.
func nodeNames(nodes []swarm.Node) map[string]string {
	names := make(map[string]string, len(nodes))
	for _, n := range nodes {
		names[n.ID] = n.Description.Hostname
	}
	return names
}

// downNodes are the nodes Swarm has found dead. Their tasks may still be listed as running
// for a while (a node killed outright cannot report its tasks' end), so counts leave them out.
func downNodes(nodes []swarm.Node) map[string]bool {
	down := map[string]bool{}
	for _, n := range nodes {
		if n.Status.State == swarm.NodeStateDown {
			down[n.ID] = true
		}
	}
	return down
}

func listNodes(ctx context.Context, api docker.API) ([]swarm.Node, error) {
	nodes, err := api.NodeList(ctx, swarm.NodeListOptions{})
	if err != nil {
		return nil, fmt.Errorf("listing the swarm's nodes: %w", err)
	}
	return nodes, nil
}

// checkImagesReachNodes stops a deploy with no registry that would leave replicas on other
// nodes without their image: rscale builds on the node it talks to, and only that node has
// the image. A service pinned by its placement constraints to this node alone is fine.
func checkImagesReachNodes(ctx context.Context, api docker.API, spec *Spec, built map[string]bool) error {
	info, err := api.Info(ctx)
	if err != nil {
		return fmt.Errorf("asking the Docker engine about its swarm: %w", err)
	}
	nodes, err := listNodes(ctx, api)
	if err != nil {
		return err
	}
	var active []swarm.Node
	managers := 0
	for _, n := range nodes {
		if n.Spec.Availability == swarm.NodeAvailabilityActive {
			active = append(active, n)
		}
		if n.Spec.Role == swarm.NodeRoleManager {
			managers++
		}
	}
	if len(active) < 2 {
		return nil
	}
	here := info.Swarm.NodeID
	for _, s := range spec.Services {
		if !built[s.Name] {
			continue
		}
		var constraints []string
		if p := s.TaskTemplate.Placement; p != nil {
			constraints = p.Constraints
		}
		var elsewhere []string
		for _, n := range active {
			if n.ID != here && matchesConstraints(n, constraints) {
				elsewhere = append(elsewhere, n.Description.Hostname)
			}
		}
		if len(elsewhere) == 0 {
			continue
		}
		sort.Strings(elsewhere)
		hostname := info.Name
		for _, n := range nodes {
			if n.ID == here {
				hostname = n.Description.Hostname
			}
		}
		pin := "node.role == manager"
		if managers > 1 {
			pin = "node.hostname == " + hostname
		}
		return fmt.Errorf(`this swarm has %d nodes, and rscale builds the image of %s on %s only: its replicas on %s would not find it ("No such image"), and the service would never be whole. Deploy through a registry every node can pull from: rscale deploy --registry HOST[:PORT] (rscale init --registry records it in the stack file). Or, to run %s on this node only, add to its deploy: section in the stack file:
      placement:
        constraints:
          - %s`, len(active), s.Name, hostname, strings.Join(elsewhere, ", "), s.Name, pin)
	}
	return nil
}

// matchesConstraints reports whether Swarm could place a task with these placement
// constraints on node n. A constraint rscale cannot evaluate counts as met: better to ask for
// a registry once too often than to let a service split across nodes without its image.
func matchesConstraints(n swarm.Node, constraints []string) bool {
	for _, c := range constraints {
		key, want, equal := "", "", true
		if k, v, ok := strings.Cut(c, "!="); ok {
			key, want, equal = k, v, false
		} else if k, v, ok := strings.Cut(c, "=="); ok {
			key, want = k, v
		} else {
			continue
		}
		key, want = strings.TrimSpace(key), strings.TrimSpace(want)
		have, known := nodeAttribute(n, key)
		if !known {
			continue
		}
		if strings.EqualFold(have, want) != equal {
			return false
		}
	}
	return true
}

// nodeAttribute is the value of a placement constraint's key for node n, as Swarm reads it.
func nodeAttribute(n swarm.Node, key string) (string, bool) {
	switch {
	case key == "node.id":
		return n.ID, true
	case key == "node.hostname":
		return n.Description.Hostname, true
	case key == "node.role":
		return string(n.Spec.Role), true
	case key == "node.platform.os":
		return n.Description.Platform.OS, true
	case key == "node.platform.arch":
		return n.Description.Platform.Architecture, true
	case strings.HasPrefix(key, "node.labels."):
		return n.Spec.Labels[strings.TrimPrefix(key, "node.labels.")], true
	case strings.HasPrefix(key, "engine.labels."):
		return n.Description.Engine.Labels[strings.TrimPrefix(key, "engine.labels.")], true
	}
	return "", false
}
