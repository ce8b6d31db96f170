package swarm

import (
	"context"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"

	"github.com/rscale/rscale/pkg/docker"
	"github.com/rscale/rscale/pkg/registry"
)

// pushImages pushes each service's freshly built image (service → local reference, as
// BuildImages returns them) to REGISTRY/<stack>/<service>:<the same tag>, and returns
// service → the pushed reference pinned by digest.
func pushImages(ctx context.Context, api docker.API, reg, stackName string, built map[string]string, progress io.Writer) (map[string]string, error) {
	pinned := map[string]string{}
	services := slices.Sorted(maps.Keys(built))
	for _, service := range services {
		local := built[service]
		tag := local[strings.LastIndex(local, ":")+1:]
		remote, err := registry.Ref(reg, stackName, service, tag)
		if err != nil {
			return nil, err
		}
		ref, err := registry.Push(ctx, api, local, remote, progress)
		if err != nil {
			return nil, fmt.Errorf("service %s: %w", service, err)
		}
		pinned[service] = ref
	}
	return pinned, nil
}
