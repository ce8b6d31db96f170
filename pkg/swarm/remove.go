package swarm

import (
	"context"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/docker/docker/api/types/network"
	"github.com/docker/docker/api/types/swarm"
	"k8s.io/apimachinery/pkg/util/wait"

	"github.com/rscale/rscale/pkg/docker"
	"github.com/rscale/rscale/pkg/engine"
)

// Remove deletes a stack: services first, then, once their tasks are gone (so the stack can
// be deployed again at once), configs, secrets and networks. It reports whether there was
// anything to remove.
func (e *Engine) Remove(ctx context.Context, namespace string, o engine.RemoveOptions) (bool, error) {
	api, err := e.api(ctx)
	if err != nil {
		return false, err
	}
	out := o.Progress
	if out == nil {
		out = io.Discard
	}
	byLabel := namespaceFilter(namespace)
	services, err := api.ServiceList(ctx, swarm.ServiceListOptions{Filters: byLabel})
	if err != nil {
		return false, fmt.Errorf("listing the services of stack %s: %w", namespace, err)
	}
	configs, err := api.ConfigList(ctx, swarm.ConfigListOptions{Filters: byLabel})
	if err != nil {
		return false, fmt.Errorf("listing the configs of stack %s: %w", namespace, err)
	}
	secrets, err := api.SecretList(ctx, swarm.SecretListOptions{Filters: byLabel})
	if err != nil {
		return false, fmt.Errorf("listing the secrets of stack %s: %w", namespace, err)
	}
	networks, err := api.NetworkList(ctx, network.ListOptions{Filters: byLabel})
	if err != nil {
		return false, fmt.Errorf("listing the networks of stack %s: %w", namespace, err)
	}
	if len(services)+len(configs)+len(secrets)+len(networks) == 0 {
		return false, nil
	}

	for _, s := range services {
		if err := api.ServiceRemove(ctx, s.ID); err != nil {
			return true, fmt.Errorf("removing service %s: %w", s.Spec.Name, err)
		}
		fmt.Fprintf(out, "service %s removed\n", s.Spec.Name)
	}
	if o.Timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, o.Timeout)
		defer cancel()
	}
	if err := waitTasksStopped(ctx, api, services, out); err != nil {
		return true, err
	}
	for _, c := range configs {
		if err := api.ConfigRemove(ctx, c.ID); err != nil {
			return true, fmt.Errorf("removing config %s: %w", c.Spec.Name, err)
		}
		fmt.Fprintf(out, "config %s removed\n", c.Spec.Name)
	}
	for _, s := range secrets {
		if err := api.SecretRemove(ctx, s.ID); err != nil {
			return true, fmt.Errorf("removing secret %s: %w", s.Spec.Name, err)
		}
		fmt.Fprintf(out, "secret %s removed\n", s.Spec.Name)
	}
	for _, n := range networks {
		if err := removeNetwork(ctx, api, n.ID); err != nil {
			return true, fmt.Errorf("removing network %s: %w", n.Name, err)
		}
		fmt.Fprintf(out, "network %s removed\n", n.Name)
	}
	return true, nil
}

// pollInterval is how often Remove looks whether the replicas have stopped.
const pollInterval = 500 * time.Millisecond

// waitTasksStopped waits until no task of the removed services holds a container: Swarm
// keeps the stopped tasks listed a while longer, which does not matter. The tasks are
// listed unfiltered: the engine refuses a filter naming a service that no longer exists.
// A task on a node that is down is not waited for: nobody can stop it until the node is back,
// when Swarm stops it.
func waitTasksStopped(ctx context.Context, api docker.API, services []swarm.Service, out io.Writer) error {
	removed := map[string]bool{}
	for _, s := range services {
		removed[s.ID] = true
	}
	err := wait.PollUntilContextCancel(ctx, pollInterval, true, func(ctx context.Context) (bool, error) {
		tasks, err := api.TaskList(ctx, swarm.TaskListOptions{})
		var nodes []swarm.Node
		if err == nil {
			nodes, err = listNodes(ctx, api)
		}
		if err != nil || !allStopped(tasks, removed, downNodes(nodes)) {
			return false, nil // an engine busy removing may fail a list: look again
		}
		if unreachable := onDownNodes(tasks, removed, nodes); len(unreachable) > 0 {
			fmt.Fprintf(out, "replicas on down node(s) %s: Swarm stops them once it reaches the node(s) again\n", strings.Join(unreachable, ", "))
		}
		return true, nil
	})
	if err != nil {
		return fmt.Errorf("the replicas of stack %s are still stopping: run 'rscale down' again in a moment", services[0].Spec.Labels[LabelNamespace])
	}
	return nil
}

func allStopped(tasks []swarm.Task, of, down map[string]bool) bool {
	for _, t := range tasks {
		if !of[t.ServiceID] || down[t.NodeID] {
			continue
		}
		switch t.Status.State {
		case swarm.TaskStateComplete, swarm.TaskStateShutdown, swarm.TaskStateFailed, swarm.TaskStateRejected, swarm.TaskStateOrphaned, swarm.TaskStateRemove:
		default:
			return false
		}
	}
	return true
}

// onDownNodes are the host names of down nodes that still hold tasks of the removed services.
func onDownNodes(tasks []swarm.Task, of map[string]bool, nodes []swarm.Node) []string {
	down, names := downNodes(nodes), nodeNames(nodes)
	seen := map[string]bool{}
	var out []string
	for _, t := range tasks {
		if of[t.ServiceID] && down[t.NodeID] && !seen[t.NodeID] && !allStopped([]swarm.Task{t}, of, nil) {
			seen[t.NodeID] = true
			out = append(out, names[t.NodeID])
		}
	}
	return out
}

// removeNetwork retries while the engine still counts a stopped container on the network.
func removeNetwork(ctx context.Context, api docker.API, id string) error {
	var err error
	_ = wait.PollUntilContextCancel(ctx, pollInterval, true, func(ctx context.Context) (bool, error) {
		err = api.NetworkRemove(ctx, id)
		return err == nil || !strings.Contains(err.Error(), "active endpoints"), nil
	})
	return err
}
