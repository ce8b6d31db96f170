package swarm

import (
	"context"
	"fmt"
	"strings"

	"github.com/docker/docker/api/types/swarm"

	"github.com/rscale/rscale/pkg/backend"
	"github.com/rscale/rscale/pkg/engine"
	"github.com/rscale/rscale/pkg/names"
)

// findService finds a service of the stack by its name with or without the stack prefix.
func findService(existing map[string]swarm.Service, namespace, name string) (swarm.Service, error) {
	if svc, ok := existing[name]; ok {
		return svc, nil
	}
	if svc, ok := existing[names.Scoped(namespace, name)]; ok {
		return svc, nil
	}
	known := make([]string, 0, len(existing))
	for full := range existing {
		known = append(known, names.Unscoped(namespace, full))
	}
	return swarm.Service{}, fmt.Errorf("stack %s has no service %q: it has %s", namespace, name, strings.Join(sorted(known), ", "))
}

// ScaleTarget is one SERVICE=N argument, resolved to a service of the stack.
type ScaleTarget struct {
	Service  swarm.Service
	Replicas uint64
}

// ResolveScale finds the stack's service for every argument before anything changes.
// SERVICE may carry the stack prefix or not.
func ResolveScale(ctx context.Context, api engine.API, namespace string, args []backend.ScaleTarget) ([]ScaleTarget, error) {
	existing, err := servicesOf(ctx, api, namespace)
	if err != nil {
		return nil, err
	}
	if len(existing) == 0 {
		return nil, fmt.Errorf("stack %s is not deployed: run 'rscale deploy' first", namespace)
	}
	var targets []ScaleTarget
	for _, arg := range args {
		svc, err := findService(existing, namespace, arg.Service)
		if err != nil {
			return nil, err
		}
		if svc.Spec.Mode.Replicated == nil {
			return nil, fmt.Errorf("service %s runs one task per node (global mode) and cannot be scaled", svc.Spec.Name)
		}
		targets = append(targets, ScaleTarget{Service: svc, Replicas: arg.Replicas})
	}
	return targets, nil
}

// Scale sets the replicas of each target and waits, as o says, until they run and are
// healthy; replicas are added o.Batch at a time (0: DefaultBatch). Detached, it asks for
// every replica at once and returns.
func Scale(ctx context.Context, api engine.API, targets []ScaleTarget, detach bool, o WaitOptions) error {
	if detach {
		o.Batch = 0 // nobody would add the rest
	} else if o.Batch == 0 {
		o.Batch = DefaultBatch(ctx, api)
	}
	waits := make([]WaitTarget, len(targets))
	for i, t := range targets {
		if err := setReplicas(ctx, api, t.Service, firstStep(currentReplicas(t.Service), t.Replicas, o.Batch)); err != nil {
			return err
		}
		waits[i] = WaitTarget{Service: t.Service.Spec.Name, Replicas: t.Replicas}
	}
	if detach {
		return nil
	}
	return Wait(ctx, api, waits, o)
}

// firstStep is how many replicas to ask Swarm for now, on the way from current to target:
// Swarm starts every added replica at once, and a hundred R processes starting together on
// a few cores fail their health checks and restart, over and over. Wait adds the rest,
// batch by batch, as they become healthy.
func firstStep(current, target uint64, batch int) uint64 {
	if batch <= 0 || target <= current+uint64(batch) {
		return target
	}
	return current + uint64(batch)
}

func currentReplicas(svc swarm.Service) uint64 {
	if r := svc.Spec.Mode.Replicated; r != nil && r.Replicas != nil {
		return *r.Replicas
	}
	return 0
}

func setReplicas(ctx context.Context, api engine.API, svc swarm.Service, n uint64) error {
	spec := svc.Spec
	mode := *spec.Mode.Replicated
	mode.Replicas = &n
	spec.Mode.Replicated = &mode
	if _, err := api.ServiceUpdate(ctx, svc.ID, svc.Version, spec, swarm.ServiceUpdateOptions{}); err != nil {
		return fmt.Errorf("scaling %s: %w", spec.Name, err)
	}
	return nil
}

// DefaultBatch is how many replicas rscale starts at a time: four per CPU of the swarm's
// nodes that can take them (ready and active); Swarm spreads a batch over those nodes. With
// no node list, four per CPU of the node rscale talks to.
func DefaultBatch(ctx context.Context, api engine.API) int {
	var nanoCPUs int64
	if nodes, err := api.NodeList(ctx, swarm.NodeListOptions{}); err == nil {
		for _, n := range nodes {
			if n.Status.State == swarm.NodeStateReady && n.Spec.Availability == swarm.NodeAvailabilityActive {
				nanoCPUs += n.Description.Resources.NanoCPUs
			}
		}
	}
	if cpus := int(nanoCPUs / 1e9); cpus >= 1 {
		return 4 * cpus
	}
	info, err := api.Info(ctx)
	if err != nil || info.NCPU < 1 {
		return 8
	}
	return 4 * info.NCPU
}
