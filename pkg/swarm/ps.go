package swarm

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"sort"
	"strconv"

	"github.com/docker/docker/api/types/swarm"

	"github.com/rscale/rscale/pkg/engine"
)

// Services describes every service of the deployed stack (by full name, as docker stack
// services shows them); none when it is not deployed.
func (e *Engine) Services(ctx context.Context, namespace string) ([]engine.ServiceInfo, error) {
	api, err := e.api(ctx)
	if err != nil {
		return nil, err
	}
	services, err := servicesOf(ctx, api, namespace)
	if err != nil || len(services) == 0 {
		return nil, err
	}
	nodes, err := listNodes(ctx, api)
	if err != nil {
		return nil, err
	}
	hostnames, down := nodeNames(nodes), downNodes(nodes)
	var infos []engine.ServiceInfo
	for _, svc := range services {
		st, tasks, err := serviceStatus(ctx, api, svc, down)
		if err != nil {
			return nil, err
		}
		info := engine.ServiceInfo{Name: svc.Spec.Name, Desired: st.Desired, Running: st.Running, Image: svc.Spec.Labels[LabelImage], Ports: []string{}, Nodes: []string{}}
		if cs := svc.Spec.TaskTemplate.ContainerSpec; cs != nil {
			if info.Image == "" {
				info.Image = cs.Image
			}
			// Swarm counts a task with a health check as running only once it is healthy.
			if cs.Healthcheck != nil && len(cs.Healthcheck.Test) > 0 && cs.Healthcheck.Test[0] != "NONE" {
				healthy := st.Up
				info.Healthy = &healthy
			}
		}
		if svc.Spec.EndpointSpec != nil {
			for _, p := range svc.Spec.EndpointSpec.Ports {
				info.Ports = append(info.Ports, fmt.Sprintf("%d->%d/%s (%s)", p.PublishedPort, p.TargetPort, p.Protocol, p.PublishMode))
			}
		}
		inUse := map[string]bool{}
		for _, t := range tasks {
			node := hostnames[t.NodeID]
			if node == "" {
				node = t.NodeID
			}
			if t.NodeID != "" && t.DesiredState == swarm.TaskStateRunning && t.Status.State == swarm.TaskStateRunning && !down[t.NodeID] {
				inUse[node] = true
			}
			info.Tasks = append(info.Tasks, engine.TaskInfo{
				Name:    svc.Spec.Name + "." + strconv.Itoa(t.Slot),
				State:   string(t.Status.State),
				Desired: string(t.DesiredState),
				Node:    node,
				NodeID:  t.NodeID,
				Error:   t.Status.Err,
				Since:   t.Status.Timestamp,
			})
		}
		info.Nodes = slices.Sorted(maps.Keys(inUse))
		sort.Slice(info.Tasks, func(i, j int) bool {
			a, b := info.Tasks[i], info.Tasks[j]
			if a.Name != b.Name {
				return a.Name < b.Name
			}
			// The replica serving now first, then its history, newest first.
			if (a.Desired == "running") != (b.Desired == "running") {
				return a.Desired == "running"
			}
			return a.Since.After(b.Since)
		})
		infos = append(infos, info)
	}
	sort.Slice(infos, func(i, j int) bool { return infos[i].Name < infos[j].Name })
	return infos, nil
}
