package swarm

import (
	"context"
	"fmt"
	"regexp"
	"sort"
	"time"

	"github.com/docker/docker/api/types/filters"
	"github.com/docker/docker/api/types/swarm"

	"github.com/rscale/rscale/pkg/docker"
	"github.com/rscale/rscale/pkg/engine"
	"github.com/rscale/rscale/pkg/stackname"
)

// Status reports how far each target is from running all its replicas on the spec Apply gave
// it (its Revision, the spec-hash label), healthy, with Swarm no longer updating it.
func (e *Engine) Status(ctx context.Context, stack string, targets []engine.Change) ([]engine.Status, error) {
	api, err := e.api(ctx)
	if err != nil {
		return nil, err
	}
	nodes, err := listNodes(ctx, api)
	if err != nil {
		return nil, err
	}
	down := downNodes(nodes)
	out := make([]engine.Status, 0, len(targets))
	for _, t := range targets {
		name := stackname.Scoped(stack, t.Service)
		svc, _, err := api.ServiceInspectWithRaw(ctx, name, swarm.ServiceInspectOptions{})
		if err != nil {
			return out, fmt.Errorf("inspecting service %s: %w", name, err)
		}
		st, _, err := serviceStatus(ctx, api, svc, down)
		if err != nil {
			return out, err
		}
		out = append(out, engine.Status{
			Service: t.Service, Desired: st.Desired, Running: st.Running, Ready: st.Ready,
			Done: st.converged(), Updating: st.updating(), Detail: st.detail(), Err: st.stop(t.Revision, t.Service),
		})
	}
	return out, nil
}

// state is how far one service is from what it should be, as Swarm tells it.
type state struct {
	Service  string // full name
	Desired  int
	Running  int // tasks started, healthy or not yet
	Up       int // tasks running; with a health check Swarm counts a task running only once it is healthy
	Ready    int // of those, the ones on the service's current spec
	Update   swarm.UpdateState
	Message  string // the update's message
	TaskErr  string // the error of the task that failed last
	NoImage  int    // tasks Swarm could not start because it could not get their image
	SpecHash string // the io.rscale.spec-hash label the service carries now
	Monitor  time.Duration
}

// updating reports whether Swarm is replacing the service's tasks, or putting the old ones back.
func (s state) updating() bool {
	return s.Update == swarm.UpdateStateUpdating || s.Update == swarm.UpdateStateRollbackStarted
}

func (s state) converged() bool {
	return s.Ready == s.Desired && s.Running == s.Desired && !s.updating()
}

// detail says what Swarm is doing with the service, such as "updating, one replica at a
// time", and, until it runs all its replicas, why its last task failed.
func (s state) detail() string {
	var d string
	switch {
	case s.Update == swarm.UpdateStateRollbackStarted:
		d = "the new version failed: rolling back"
	case s.Update == swarm.UpdateStateUpdating && s.Ready == s.Desired && s.Monitor > 0:
		d = fmt.Sprintf("all replaced; Swarm watches them for %s", s.Monitor)
	case s.Update == swarm.UpdateStateUpdating:
		d = "updating, one replica at a time"
	case s.Update == swarm.UpdateStatePaused || s.Update == swarm.UpdateStateRollbackPaused:
		d = "update paused: " + s.Message
	case s.Running > s.Ready:
		d = fmt.Sprintf("%d starting", s.Running-s.Ready)
	}
	if s.TaskErr != "" && !s.converged() {
		if d != "" {
			d += "; "
		}
		d += "last task error: " + s.TaskErr
	}
	return d
}

// stop is why waiting for the service cannot succeed, if it cannot: it no longer carries the
// spec rscale gave it (revision), or Swarm cannot get its image. short is its short name.
func (s state) stop(revision, short string) error {
	if revision != "" && s.SpecHash != revision && !s.updating() {
		return replacedError(s, short)
	}
	if s.NoImage >= 2 && s.Ready == 0 {
		return noImageError(s)
	}
	return nil
}

// imageMissing matches the task errors of an image the node does not have and cannot pull.
var imageMissing = regexp.MustCompile(`No such image|pull access denied|manifest unknown|repository does not exist`)

// noImageError stops the wait early: Swarm would go on retrying a task whose image it cannot
// get, and the user would wait for the timeout to learn why.
func noImageError(s state) error {
	return fmt.Errorf("service %s cannot start: %s. Check the image: name in the stack file; an image from a private registry needs 'docker login' first, and on a machine that cannot reach the registry, load the image with 'docker load' or build it",
		s.Service, s.TaskErr)
}

// replacedError explains why a service no longer carries the spec rscale gave it.
func replacedError(s state, short string) error {
	if s.Update != swarm.UpdateStateRollbackCompleted && s.Update != swarm.UpdateStateRollbackPaused {
		return fmt.Errorf("service %s was changed by someone else while rscale waited for it: run 'rscale deploy' again", s.Service)
	}
	why := ""
	if s.TaskErr != "" {
		why = " (" + s.TaskErr + ")"
	}
	return fmt.Errorf("%w: the new version of %s did not become healthy%s, so Swarm put the previous version back; see why with 'rscale logs %s' and 'rscale ps --tasks'",
		engine.ErrRolledBack, s.Service, why, short)
}

// serviceStatus returns the service's state and its tasks; tasks on down nodes do not count.
func serviceStatus(ctx context.Context, api docker.API, svc swarm.Service, down map[string]bool) (state, []swarm.Task, error) {
	tasks, err := api.TaskList(ctx, swarm.TaskListOptions{Filters: filters.NewArgs(filters.Arg("service", svc.ID))})
	if err != nil {
		return state{}, nil, fmt.Errorf("listing the tasks of %s: %w", svc.Spec.Name, err)
	}
	// The engine's own comparison of each task with the service's spec, as docker service update uses.
	current, err := api.TaskList(ctx, swarm.TaskListOptions{Filters: filters.NewArgs(filters.Arg("service", svc.ID), filters.Arg("_up-to-date", "true"))})
	if err != nil {
		return state{}, nil, fmt.Errorf("listing the tasks of %s: %w", svc.Spec.Name, err)
	}
	return status(svc, tasks, current, down), tasks, nil
}
func status(svc swarm.Service, tasks, current []swarm.Task, down map[string]bool) state {
	s := state{Service: svc.Spec.Name, SpecHash: svc.Spec.Labels[LabelSpecHash]}
	if svc.Spec.UpdateConfig != nil {
		s.Monitor = svc.Spec.UpdateConfig.Monitor
	}
	global := svc.Spec.Mode.Global != nil
	if r := svc.Spec.Mode.Replicated; r != nil && r.Replicas != nil {
		s.Desired = int(*r.Replicas)
	}
	if svc.UpdateStatus != nil {
		s.Update, s.Message = svc.UpdateStatus.State, svc.UpdateStatus.Message
	}
	var lastErr *swarm.Task
	sort.Slice(tasks, func(i, j int) bool { return tasks[i].UpdatedAt.Before(tasks[j].UpdatedAt) })
	for i, t := range tasks {
		if t.DesiredState == swarm.TaskStateRunning && !down[t.NodeID] {
			if global {
				s.Desired++ // one per node: Swarm wants a task running on each
			}
			switch t.Status.State {
			case swarm.TaskStateRunning:
				s.Up++
				s.Running++
			case swarm.TaskStateStarting:
				s.Running++
			}
		}
		if t.Status.Err != "" {
			lastErr = &tasks[i]
			if imageMissing.MatchString(t.Status.Err) {
				s.NoImage++
			}
		}
	}
	for _, t := range current {
		if t.DesiredState == swarm.TaskStateRunning && t.Status.State == swarm.TaskStateRunning && !down[t.NodeID] {
			s.Ready++
		}
	}
	if lastErr != nil {
		s.TaskErr = lastErr.Status.Err
	}
	return s
}
