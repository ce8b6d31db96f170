package swarm

import (
	"context"
	"errors"
	"fmt"
	"io"
	"regexp"
	"sort"
	"strings"
	"time"

	"github.com/docker/docker/api/types/filters"
	"github.com/docker/docker/api/types/swarm"

	"github.com/rscale/rscale/pkg/docker"
)

// Status is how far one service is from what it should be.
type Status struct {
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
func (s Status) updating() bool {
	return s.Update == swarm.UpdateStateUpdating || s.Update == swarm.UpdateStateRollbackStarted
}

func (s Status) converged() bool {
	return s.Ready == s.Desired && s.Running == s.Desired && !s.updating()
}

// progress is the line Wait shows for the service, such as "model_server  7/10 (updating)".
func (s Status) progress(short string) string {
	line := fmt.Sprintf("%-20s %d/%d", short, s.Ready, s.Desired)
	switch {
	case s.Update == swarm.UpdateStateRollbackStarted:
		line += " (the new version failed: rolling back)"
	case s.Update == swarm.UpdateStateUpdating && s.Ready == s.Desired && s.Monitor > 0:
		line += fmt.Sprintf(" (all replaced; Swarm watches them for %s)", s.Monitor)
	case s.Update == swarm.UpdateStateUpdating:
		line += " (updating, one replica at a time)"
	case s.Update == swarm.UpdateStatePaused || s.Update == swarm.UpdateStateRollbackPaused:
		line += " (update paused: " + s.Message + ")"
	case s.Running > s.Ready:
		line += fmt.Sprintf(" (%d starting)", s.Running-s.Ready)
	}
	return line
}

// ErrRolledBack is returned when Swarm rolled a service back because its new tasks failed.
var ErrRolledBack = errors.New("rolled back")

// WaitTarget is a service to wait for. With SpecHash set, the service must still carry that
// spec: one that Swarm rolled back to its previous spec is reported as ErrRolledBack. With
// Replicas above the service's count, Wait raises the count as WaitOptions.Ramp allows.
type WaitTarget struct {
	Service  string
	SpecHash string
	Replicas uint64
}

// WaitOptions tune Wait.
type WaitOptions struct {
	Timeout  time.Duration
	Interval time.Duration // between polls; 0 means half a second
	Out      io.Writer     // a progress line whenever a count changes; nil for none
	Prefix   string        // stack prefix dropped from the names shown
	Batch    int           // most replicas starting at a time on the way to WaitTarget.Replicas; 0: DefaultWindow
	Ramp     *Ramp         // how to add them; nil: NewRamp with Batch
}

// Wait polls until every target runs all its replicas on its current spec, healthy, and
// Swarm is not updating it.
func Wait(ctx context.Context, api docker.API, targets []WaitTarget, o WaitOptions) error {
	if o.Interval == 0 {
		o.Interval = 500 * time.Millisecond
	}
	if o.Out == nil {
		o.Out = io.Discard
	}
	ctx, cancel := context.WithTimeout(ctx, o.Timeout)
	defer cancel()
	names := make([]string, len(targets))
	for i, t := range targets {
		names[i] = t.Service
	}
	shown := map[string]string{}
	for _, t := range targets {
		if o.Ramp == nil && t.Replicas > 0 {
			o.Ramp = NewRamp(ctx, api, o.Batch)
		}
	}
	for {
		statuses, err := Statuses(ctx, api, names)
		if err != nil {
			if ctx.Err() != nil {
				return timeoutError(o.Timeout, statuses)
			}
			return err
		}
		allDone := true
		for i, s := range statuses {
			target := targets[i].Replicas
			line := s.progress(strings.TrimPrefix(s.Service, o.Prefix))
			if target > uint64(s.Desired) {
				line += fmt.Sprintf(", on the way to %d, %s", target, o.Ramp)
			}
			if shown[s.Service] != line {
				shown[s.Service] = line
				fmt.Fprintln(o.Out, line)
			}
			if targets[i].SpecHash == "" || targets[i].SpecHash == s.SpecHash {
				if n, ok := o.Ramp.Next(s, target); ok {
					if err := raiseReplicas(ctx, api, s.Service, n); err != nil {
						return err
					}
				}
			}
			if want := targets[i].SpecHash; want != "" && s.SpecHash != want && !s.updating() {
				return replacedError(s, strings.TrimPrefix(s.Service, o.Prefix))
			}
			if s.NoImage >= 2 && s.Ready == 0 {
				return noImageError(s)
			}
			if !s.converged() || target > uint64(s.Desired) {
				allDone = false
			}
		}
		if allDone {
			return nil
		}
		select {
		case <-ctx.Done():
			return timeoutError(o.Timeout, statuses)
		case <-time.After(o.Interval):
		}
	}
}

func raiseReplicas(ctx context.Context, api docker.API, name string, n uint64) error {
	svc, _, err := api.ServiceInspectWithRaw(ctx, name, swarm.ServiceInspectOptions{})
	if err != nil {
		return fmt.Errorf("inspecting service %s: %w", name, err)
	}
	return setReplicas(ctx, api, svc, n)
}

// imageMissing matches the task errors of an image the node does not have and cannot pull.
var imageMissing = regexp.MustCompile(`No such image|pull access denied|manifest unknown|repository does not exist`)

// noImageError stops the wait early: Swarm would go on retrying a task whose image it cannot
// get, and the user would wait for the timeout to learn why.
func noImageError(s Status) error {
	return fmt.Errorf("service %s cannot start: %s. Check the image: name in the stack file; an image from a private registry needs 'docker login' first, and on a machine that cannot reach the registry, load the image with 'docker load' or build it",
		s.Service, s.TaskErr)
}

// replacedError explains why a service no longer carries the spec rscale gave it.
func replacedError(s Status, short string) error {
	if s.Update != swarm.UpdateStateRollbackCompleted && s.Update != swarm.UpdateStateRollbackPaused {
		return fmt.Errorf("service %s was changed by someone else while rscale waited for it: run 'rscale deploy' again", s.Service)
	}
	why := ""
	if s.TaskErr != "" {
		why = " (" + s.TaskErr + ")"
	}
	return fmt.Errorf("%w: the new version of %s did not become healthy%s, so Swarm put the previous version back; see why with 'rscale logs %s' and 'rscale ps --tasks'",
		ErrRolledBack, s.Service, why, short)
}

func timeoutError(timeout time.Duration, statuses []Status) error {
	var waiting []string
	for _, s := range statuses {
		if !s.converged() {
			w := fmt.Sprintf("%s %d/%d ready", s.Service, s.Ready, s.Desired)
			if s.TaskErr != "" {
				w += ": last task error: " + s.TaskErr
			} else if s.Message != "" {
				w += ": " + s.Message
			}
			waiting = append(waiting, w)
		}
	}
	return fmt.Errorf("not every replica was running and healthy after %s (%s): see 'rscale ps --tasks' and 'rscale logs', or wait longer with --timeout", timeout, strings.Join(waiting, "; "))
}

// Statuses reports, for each named service, its desired, started and ready replicas.
func Statuses(ctx context.Context, api docker.API, services []string) ([]Status, error) {
	out := make([]Status, 0, len(services))
	nodes, err := listNodes(ctx, api)
	if err != nil {
		return out, err
	}
	down := downNodes(nodes)
	for _, name := range services {
		svc, _, err := api.ServiceInspectWithRaw(ctx, name, swarm.ServiceInspectOptions{})
		if err != nil {
			return out, fmt.Errorf("inspecting service %s: %w", name, err)
		}
		st, _, err := serviceStatus(ctx, api, svc, down)
		if err != nil {
			return out, err
		}
		out = append(out, st)
	}
	return out, nil
}

// serviceStatus returns the service's status and its tasks; tasks on down nodes do not count.
func serviceStatus(ctx context.Context, api docker.API, svc swarm.Service, down map[string]bool) (Status, []swarm.Task, error) {
	tasks, err := api.TaskList(ctx, swarm.TaskListOptions{Filters: filters.NewArgs(filters.Arg("service", svc.ID))})
	if err != nil {
		return Status{}, nil, fmt.Errorf("listing the tasks of %s: %w", svc.Spec.Name, err)
	}
	// The engine's own comparison of each task with the service's spec, as docker service update uses.
	current, err := api.TaskList(ctx, swarm.TaskListOptions{Filters: filters.NewArgs(filters.Arg("service", svc.ID), filters.Arg("_up-to-date", "true"))})
	if err != nil {
		return Status{}, nil, fmt.Errorf("listing the tasks of %s: %w", svc.Spec.Name, err)
	}
	return status(svc, tasks, current, down), tasks, nil
}

func status(svc swarm.Service, tasks, current []swarm.Task, down map[string]bool) Status {
	s := Status{Service: svc.Spec.Name, SpecHash: svc.Spec.Labels[LabelSpecHash]}
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
