package pipeline

import (
	"fmt"

	"github.com/rscale/rscale/pkg/engine"
	"github.com/rscale/rscale/pkg/stack"
)

// checkReplicas refuses, before anything is built or sent, a service whose replicas
// (deploy.replicas) are beyond engine.MaxReplicas, or beyond the proxy's room for it
// (x-rscale: max_replicas): HAProxy would leave the replicas past its server slots without
// a request, and no engine should be asked for a count it cannot hold.
func checkReplicas(s *stack.Stack) error {
	for _, name := range s.Project.ServiceNames() {
		svc := s.Project.Services[name]
		if svc.Deploy == nil || svc.Deploy.Replicas == nil {
			continue
		}
		n := *svc.Deploy.Replicas
		if n > engine.MaxReplicas {
			return fmt.Errorf("%s: service %s asks for %d replicas, and rscale runs at most %d of a service: set deploy: replicas: to %d or fewer",
				s.File, name, n, engine.MaxReplicas, engine.MaxReplicas)
		}
		if limit, ok := s.Ext.MaxReplicas[name]; ok && uint64(n) > limit {
			return fmt.Errorf("%s: service %s asks for %d replicas, and the proxy has room for %d (x-rscale: max_replicas): set deploy: replicas: to %d or fewer, or run 'rscale init --max-replicas %d' to make room, then deploy",
				s.File, name, n, limit, limit, n)
		}
	}
	return nil
}

// checkScale refuses a target beyond engine.MaxReplicas, or beyond the proxy's room for its
// service (limits, by short name).
func checkScale(arg, service string, n uint64, limits map[string]uint64) error {
	if n > engine.MaxReplicas {
		return fmt.Errorf("%s: rscale runs at most %d replicas of a service: give %s=%d or fewer", arg, engine.MaxReplicas, service, engine.MaxReplicas)
	}
	if limit, ok := limits[service]; ok && n > limit {
		return fmt.Errorf("%s: the proxy has room for %d replicas of %s; to serve more, run 'rscale init --max-replicas %d' and 'rscale deploy', then scale",
			arg, limit, service, n)
	}
	return nil
}
