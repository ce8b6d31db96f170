package swarm

import (
	"context"
	"fmt"
	"strings"

	"github.com/docker/docker/api/types/swarm"

	"github.com/rscale/rscale/pkg/backend"
	"github.com/rscale/rscale/pkg/docker"
	"github.com/rscale/rscale/pkg/stackname"
)

// findService finds a service of the stack by its name with or without the stack prefix.
func findService(existing map[string]swarm.Service, namespace, name string) (swarm.Service, error) {
	if svc, ok := existing[name]; ok {
		return svc, nil
	}
	if svc, ok := existing[stackname.Scoped(namespace, name)]; ok {
		return svc, nil
	}
	known := make([]string, 0, len(existing))
	for full := range existing {
		known = append(known, stackname.Unscoped(namespace, full))
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
func ResolveScale(ctx context.Context, api docker.API, namespace string, args []backend.ScaleTarget) ([]ScaleTarget, error) {
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
// healthy; replicas are added as a ramp allows (o.Batch starting at a time; 0: the default).
// Detached, it asks for every replica at once and returns.
func Scale(ctx context.Context, api docker.API, targets []ScaleTarget, detach bool, o WaitOptions) error {
	var ramp *Ramp // detached, nobody would add the rest
	if !detach {
		if ramp = o.Ramp; ramp == nil {
			ramp = NewRamp(ctx, api, o.Batch)
		}
		o.Ramp = ramp
	}
	waits := make([]WaitTarget, len(targets))
	for i, t := range targets {
		if err := setReplicas(ctx, api, t.Service, ramp.First(currentReplicas(t.Service), t.Replicas)); err != nil {
			return err
		}
		waits[i] = WaitTarget{Service: t.Service.Spec.Name, Replicas: t.Replicas}
	}
	if detach {
		return nil
	}
	return Wait(ctx, api, waits, o)
}

func currentReplicas(svc swarm.Service) uint64 {
	if r := svc.Spec.Mode.Replicated; r != nil && r.Replicas != nil {
		return *r.Replicas
	}
	return 0
}

func setReplicas(ctx context.Context, api docker.API, svc swarm.Service, n uint64) error {
	spec := svc.Spec
	mode := *spec.Mode.Replicated
	mode.Replicas = &n
	spec.Mode.Replicated = &mode
	if _, err := api.ServiceUpdate(ctx, svc.ID, svc.Version, spec, swarm.ServiceUpdateOptions{}); err != nil {
		return fmt.Errorf("scaling %s: %w", spec.Name, err)
	}
	return nil
}
