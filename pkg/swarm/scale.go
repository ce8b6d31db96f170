package swarm

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/docker/docker/api/types/swarm"

	"github.com/rscale/rscale/pkg/docker"
	"github.com/rscale/rscale/pkg/engine"
	"github.com/rscale/rscale/pkg/stackname"
)

// notDeployed is ErrNotDeployed for the stack, with what to do.
func notDeployed(stack string) error {
	return fmt.Errorf("stack %s is %w: run 'rscale deploy' first", stack, engine.ErrNotDeployed)
}

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

// Resolve finds the stack's service for every SERVICE=N argument before anything changes;
// a name may carry the stack's prefix or not. Each Change names the service by its short
// name, with the replicas it has now; a service in global mode (one task per node) is refused.
func (e *Engine) Resolve(ctx context.Context, stack string, services []string) ([]engine.Change, error) {
	api, err := e.api(ctx)
	if err != nil {
		return nil, err
	}
	existing, err := servicesOf(ctx, api, stack)
	if err != nil {
		return nil, err
	}
	if len(existing) == 0 {
		return nil, notDeployed(stack)
	}
	var changes []engine.Change
	for _, name := range services {
		svc, err := findService(existing, stack, name)
		if err != nil {
			return nil, err
		}
		if err := scalable(svc); err != nil {
			return nil, err
		}
		changes = append(changes, engine.Change{Service: stackname.Unscoped(stack, svc.Spec.Name), Replicas: currentReplicas(svc)})
	}
	return changes, nil
}

// SetReplicas asks Swarm for n replicas of the stack's service (its short name), and labels
// it with target, the count a ramp is on its way to.
func (e *Engine) SetReplicas(ctx context.Context, stack, service string, n, target uint64) error {
	api, err := e.api(ctx)
	if err != nil {
		return err
	}
	name := stackname.Scoped(stack, service)
	svc, _, err := api.ServiceInspectWithRaw(ctx, name, swarm.ServiceInspectOptions{})
	if err != nil {
		return fmt.Errorf("inspecting service %s: %w", name, err)
	}
	if err := scalable(svc); err != nil {
		return err
	}
	return setReplicas(ctx, api, svc, n, target)
}

func scalable(svc swarm.Service) error {
	if svc.Spec.Mode.Replicated == nil {
		return fmt.Errorf("service %s runs one task per node (global mode) and cannot be scaled", svc.Spec.Name)
	}
	return nil
}

func currentReplicas(svc swarm.Service) uint64 {
	if r := svc.Spec.Mode.Replicated; r != nil && r.Replicas != nil {
		return *r.Replicas
	}
	return 0
}

func setReplicas(ctx context.Context, api docker.API, svc swarm.Service, n, target uint64) error {
	spec := svc.Spec
	spec.Labels = withLabel(spec.Labels, LabelReplicasTarget, strconv.FormatUint(target, 10))
	mode := *spec.Mode.Replicated
	mode.Replicas = &n
	spec.Mode.Replicated = &mode
	if _, err := api.ServiceUpdate(ctx, svc.ID, svc.Version, spec, swarm.ServiceUpdateOptions{}); err != nil {
		return fmt.Errorf("scaling %s: %w", spec.Name, err)
	}
	return nil
}
