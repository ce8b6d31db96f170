// Package pipeline is what rscale's commands call: one service over an engine.Engine that
// holds, once for every engine, what a deploy does (build, push, pin, apply, wait, roll
// back) and what a scale does (resolve, pace, wait), reporting progress as typed events.
// An engine keeps only what is truly its own.
package pipeline

import (
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"time"

	"k8s.io/apimachinery/pkg/util/wait"

	"github.com/rscale/rscale/pkg/engine"
	"github.com/rscale/rscale/pkg/images"
	"github.com/rscale/rscale/pkg/progress"
	"github.com/rscale/rscale/pkg/registry"
	"github.com/rscale/rscale/pkg/stack"
)

// Service is what the commands do, on one engine.
type Service interface {
	Deploy(ctx context.Context, s *stack.Stack, o DeployOptions) (*Result, error)
	DryRun(s *stack.Stack, format string) ([]byte, error)
	Build(ctx context.Context, s *stack.Stack, o BuildOptions) ([]BuiltImage, error)
	Scale(ctx context.Context, stack string, targets []ScaleTarget, o ScaleOptions) error
	Ps(ctx context.Context, stack string) ([]engine.ServiceInfo, error)
	Logs(ctx context.Context, stack string, services []string, o engine.LogOptions, out io.Writer) error
	Down(ctx context.Context, stack string, timeout time.Duration) (bool, error)
	Version(ctx context.Context) (engine.Version, error)
	URLs(ctx context.Context, stack string, ext stack.Extension) ([]string, error)
}

// DefaultInterval is how often a wait asks the engine for the services' status.
const DefaultInterval = 500 * time.Millisecond

// Options tune a Pipeline.
type Options struct {
	Sink     progress.Sink // where the events go; nil: nowhere
	Interval time.Duration // between two looks at the services while waiting; 0: DefaultInterval
}

// Pipeline is Service on one engine.
type Pipeline struct {
	engine   engine.Engine
	sink     progress.Sink
	interval time.Duration
}

var _ Service = (*Pipeline)(nil)

// New makes the pipeline over e.
func New(e engine.Engine, o Options) *Pipeline {
	if o.Sink == nil {
		o.Sink = progress.Discard
	}
	if o.Interval <= 0 {
		o.Interval = DefaultInterval
	}
	return &Pipeline{engine: e, sink: o.Sink, interval: o.Interval}
}

func (p *Pipeline) emit(e progress.Event) { p.sink.Event(e) }

// lines is where engines and builds write their text: Log events.
func (p *Pipeline) lines() io.Writer { return progress.Lines(p.sink) }

// DeployOptions say how to deploy.
type DeployOptions struct {
	Build   bool          // build the images of the services with a build: section
	Verbose bool          // every line of the image builds, not only their steps
	Prune   bool          // remove the stack's services the file no longer has
	Detach  bool          // return once the engine has the new objects
	Timeout time.Duration // how long to wait for every replica
	Batch   int           // most replicas starting at a time, for an engine.Pacer; 0: its default
	// Registry is where images are pushed for every node to pull, and deployed from, pinned
	// by digest; "" takes the stack file's (x-rscale: registry:), and with none they stay
	// on the Docker engine.
	Registry string
}

// Result is what a deploy did.
type Result struct {
	Stack string
	URLs  []string // where the proxy serves the API (the dashboard's left out)
}

// Deploy checks the replicas the stack file asks for and plans the stack (a file refused
// stops before anything), prepares the cluster, builds and pushes the images, applies the
// plan and, unless detached, waits until every replica is ready; a new version that never
// becomes ready is rolled back, and reported as a *RolledBackError.
func (p *Pipeline) Deploy(ctx context.Context, s *stack.Stack, o DeployOptions) (*Result, error) {
	plan, err := p.planFile(s)
	if err != nil {
		return nil, err
	}
	reg := o.Registry
	if reg == "" {
		reg = s.Ext.Registry
	}
	if reg != "" {
		if err := registry.Check(reg); err != nil {
			return nil, fmt.Errorf("%s: %w", s.File, err)
		}
	}
	var built []string
	if o.Build {
		built = images.Buildable(s.Project)
	}
	if err := p.engine.Prepare(ctx, plan, engine.PrepareOptions{BuiltServices: built, Registry: reg, Progress: p.lines()}); err != nil {
		return nil, err
	}
	refs, err := p.images(ctx, s, built, reg, o.Verbose)
	if err != nil {
		return nil, err
	}
	// The file was checked above: only the images differ now.
	if plan, err = p.engine.Plan(s, refs); err != nil {
		return nil, fmt.Errorf("%s: %w", s.File, err)
	}
	var pacing engine.Pacing // detached, nobody would add the rest
	if pacer, ok := p.engine.(engine.Pacer); ok && !o.Detach {
		pacing = pacer.Pacing(ctx, o.Batch)
	}
	changes, err := p.engine.Apply(ctx, plan, engine.ApplyOptions{Prune: o.Prune, Pacing: pacing, Progress: p.lines()})
	if err != nil {
		return nil, err
	}
	var targets []engine.Change
	for _, c := range changes {
		p.emit(progress.Event{Kind: progress.Applied, Service: c.Service, Action: c.Action, Desired: int(c.Replicas)})
		if c.Action != "removed" {
			targets = append(targets, c)
		}
	}
	r := &Result{Stack: s.Name}
	if o.Detach {
		p.emit(progress.Event{Kind: progress.Done, Message: fmt.Sprintf("Stack %s was handed to the engine (not waiting: --detach).", s.Name)})
	} else {
		p.emit(progress.Event{Kind: progress.Waiting, Message: "Waiting for every replica to run and be healthy..."})
		if err := p.wait(ctx, s.Name, targets, pacing, o.Timeout); err != nil {
			return nil, p.rollBack(ctx, plan, targets, err, o.Timeout)
		}
		p.emit(progress.Event{Kind: progress.Done, Message: fmt.Sprintf("Stack %s is running.", s.Name)})
	}
	if r.URLs, err = p.URLs(ctx, s.Name, s.Ext); err != nil {
		return nil, err
	}
	return r, nil
}

// planFile checks the stack file (its images, its replicas) and has the engine plan it as
// the file gives it; what is wrong names the file.
func (p *Pipeline) planFile(s *stack.Stack) (engine.Plan, error) {
	if err := stack.CheckImages(s.Project); err != nil {
		return nil, fmt.Errorf("%s: %w", s.File, err)
	}
	if err := checkReplicas(s); err != nil {
		return nil, err
	}
	plan, err := p.engine.Plan(s, nil)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", s.File, err)
	}
	return plan, nil
}

// images builds the services built names and, with a registry, pushes them and the file's
// images the Docker engine holds; it returns service → the reference to deploy.
func (p *Pipeline) images(ctx context.Context, s *stack.Stack, built []string, reg string, verbose bool) (map[string]string, error) {
	refs := map[string]string{}
	if len(built) == 0 && reg == "" {
		return refs, nil
	}
	api, err := p.engine.Images(ctx)
	if err != nil {
		return nil, err
	}
	for _, service := range built {
		p.emit(progress.Event{Kind: progress.Building, Service: service, Image: s.Project.Services[service].Image})
		ref, err := images.BuildService(ctx, api, s.Project, service, images.BuildOptions{Progress: p.lines(), Verbose: verbose})
		if err != nil {
			return nil, err
		}
		p.emit(progress.Event{Kind: progress.Built, Service: service, Image: ref})
		refs[service] = ref
	}
	if reg == "" {
		return refs, nil
	}
	// Every image before any service changes: a push that fails deploys nothing.
	push, err := images.ToPush(ctx, api, s.Project, refs)
	if err != nil {
		return nil, err
	}
	for _, service := range slices.Sorted(maps.Keys(push)) {
		remote, err := images.Remote(reg, s.Name, service, push[service])
		if err != nil {
			return nil, err
		}
		p.emit(progress.Event{Kind: progress.Pushing, Service: service, Image: remote})
		pinned, err := images.Push(ctx, api, push[service], remote, p.lines())
		if err != nil {
			return nil, fmt.Errorf("service %s: %w", service, err)
		}
		p.emit(progress.Event{Kind: progress.Pushed, Service: service, Image: pinned})
		refs[service] = pinned
	}
	return refs, nil
}

// RolledBackError: the new version of Services never became ready, and the previous version
// runs again, whether the engine put it back by itself (Swarm) or the pipeline did
// (engine.RollBacker). It wraps engine.ErrRolledBack and why the new version failed.
type RolledBackError struct {
	Services []string
	Cause    error
}

func (e *RolledBackError) Error() string {
	return fmt.Sprintf("the new version of %s never became ready, so it was rolled back and the previous version runs again: %v", strings.Join(e.Services, ", "), e.Cause)
}

func (e *RolledBackError) Unwrap() []error { return []error{engine.ErrRolledBack, e.Cause} }

// rollBack turns a failed wait into what the user is told: the engine's own roll-back as a
// *RolledBackError; on an engine.RollBacker, the previous version of each service that was
// not ready put back and waited for (within timeout again), then a *RolledBackError (or why
// it could not be).
func (p *Pipeline) rollBack(ctx context.Context, plan engine.Plan, targets []engine.Change, waitErr error, timeout time.Duration) error {
	var notReady *NotReadyError
	if !errors.As(waitErr, &notReady) {
		return waitErr
	}
	if errors.Is(waitErr, engine.ErrRolledBack) {
		return &RolledBackError{Services: notReady.rolledBack(), Cause: waitErr}
	}
	rb, ok := p.engine.(engine.RollBacker)
	if !ok {
		return waitErr
	}
	services := notReady.Services()
	for _, s := range services {
		p.emit(progress.Event{Kind: progress.RollingBack, Service: s})
	}
	failed := rb.RollBack(ctx, plan, services)
	var why []string
	for _, s := range services {
		switch err := failed[s]; {
		case err == nil:
		case errors.Is(err, engine.ErrNoPreviousVersion):
			why = append(why, fmt.Sprintf("%s has no previous version to roll back to", s))
		default:
			why = append(why, fmt.Sprintf("rolling %s back failed: %v", s, err))
		}
	}
	if len(why) > 0 {
		return fmt.Errorf("%w; %s", waitErr, strings.Join(why, "; "))
	}
	// The previous version has its own revision: any revision will do now.
	var restored []engine.Change
	for _, t := range targets {
		if slices.Contains(services, t.Service) {
			restored = append(restored, engine.Change{Service: t.Service, Action: "rolled back", Replicas: t.Replicas})
		}
	}
	if err := p.wait(ctx, plan.Stack(), restored, nil, timeout); err != nil {
		return fmt.Errorf("%w; rolled back, but the previous version did not come back either: %v", waitErr, err)
	}
	return &RolledBackError{Services: services, Cause: waitErr}
}

// NotReadyError: waiting ended before every service was ready, on a timeout (Timeout set)
// or an engine's Status.Err (Err set, for Service).
type NotReadyError struct {
	Timeout  time.Duration
	Service  string // the service whose Status.Err stopped the wait
	Err      error
	Statuses []engine.Status // the last the engine reported
}

func (e *NotReadyError) Error() string {
	if e.Err != nil {
		return e.Err.Error()
	}
	var waiting []string
	for _, s := range e.Statuses {
		if !s.Done {
			w := fmt.Sprintf("%s %d/%d ready", s.Service, s.Ready, s.Desired)
			if s.Detail != "" {
				w += ": " + s.Detail
			}
			waiting = append(waiting, w)
		}
	}
	return fmt.Sprintf("not every replica was running and healthy after %s (%s): see 'rscale ps --tasks' and 'rscale logs', or wait longer with --timeout",
		e.Timeout, strings.Join(waiting, "; "))
}

func (e *NotReadyError) Unwrap() error { return e.Err }

// Services are the services that were not ready.
func (e *NotReadyError) Services() []string {
	var out []string
	for _, s := range e.Statuses {
		if !s.Done || s.Service == e.Service {
			out = append(out, s.Service)
		}
	}
	if len(out) == 0 && e.Service != "" {
		out = []string{e.Service}
	}
	return out
}

// rolledBack are the services the engine rolled back.
func (e *NotReadyError) rolledBack() []string {
	if e.Service != "" {
		return []string{e.Service}
	}
	return e.Services()
}

// wait looks at the targets every interval until each is done, showing a line when a
// service's counts change, adding replicas as pacing allows, and stopping at once on a
// Status.Err; after timeout it returns a *NotReadyError naming the services not ready.
func (p *Pipeline) wait(ctx context.Context, stackName string, targets []engine.Change, pacing engine.Pacing, timeout time.Duration) error {
	if len(targets) == 0 {
		return nil
	}
	want := map[string]uint64{}
	for _, t := range targets {
		want[t.Service] = t.Replicas
	}
	tctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	shown := map[string]progress.Event{}
	var last []engine.Status
	err := wait.PollUntilContextCancel(tctx, p.interval, true, func(ctx context.Context) (bool, error) {
		statuses, err := p.engine.Status(ctx, stackName, targets)
		if err != nil {
			return false, err
		}
		last = statuses
		done := true
		for _, s := range statuses {
			target := want[s.Service]
			e := progress.Event{Kind: progress.ServiceProgress, Service: s.Service, Ready: s.Ready, Desired: s.Desired, Running: s.Running, Detail: s.Detail}
			if pacing != nil && target > uint64(s.Desired) {
				e.Target, e.Pacing = target, pacing.String()
			}
			if shown[s.Service] != e {
				shown[s.Service] = e
				p.emit(e)
			}
			if s.Err != nil {
				return false, &NotReadyError{Service: s.Service, Err: s.Err, Statuses: statuses}
			}
			if pacing != nil && target > uint64(s.Desired) && !s.Updating {
				if n, ok := pacing.Next(s, target); ok {
					if err := p.engine.SetReplicas(ctx, stackName, s.Service, n, target); err != nil {
						return false, err
					}
				}
			}
			if !s.Done || (pacing != nil && target > uint64(s.Desired)) {
				done = false
			}
		}
		return done, nil
	})
	if err != nil && tctx.Err() != nil && ctx.Err() == nil {
		var notReady *NotReadyError
		if !errors.As(err, &notReady) {
			return &NotReadyError{Timeout: timeout, Statuses: last}
		}
	}
	if err != nil && ctx.Err() != nil {
		return interrupted(ctx.Err(), last, want)
	}
	return err
}

// interrupted says what an interrupted wait leaves: each service not yet at its target, with
// the replicas it had ready.
func interrupted(cause error, last []engine.Status, want map[string]uint64) error {
	var left []string
	for _, s := range last {
		if !s.Done || want[s.Service] > uint64(s.Desired) {
			left = append(left, fmt.Sprintf("%s had %d of %d replicas ready", s.Service, s.Ready, want[s.Service]))
		}
	}
	if len(left) == 0 {
		return cause
	}
	return &InterruptedError{Left: left, Cause: cause}
}

// InterruptedError: the wait was interrupted (Cause, the context's error) with services not
// yet at their target (Left, such as "model_server had 1 of 3 replicas ready").
type InterruptedError struct {
	Left  []string
	Cause error
}

func (e *InterruptedError) Error() string { return strings.Join(e.Left, ", ") }
func (e *InterruptedError) Unwrap() error { return e.Cause }

// BuildOptions tune Build.
type BuildOptions struct {
	Verbose bool // every line of the build, not only the steps
}

// BuiltImage is one image Build made: the reference the service would be deployed with.
type BuiltImage struct {
	Service string
	Ref     string
}

// Build builds the images of the stack's services that have a build: section.
func (p *Pipeline) Build(ctx context.Context, s *stack.Stack, o BuildOptions) ([]BuiltImage, error) {
	if err := stack.CheckImages(s.Project); err != nil {
		return nil, fmt.Errorf("%s: %w", s.File, err)
	}
	built := images.Buildable(s.Project)
	refs, err := p.images(ctx, s, built, "", o.Verbose)
	if err != nil {
		return nil, err
	}
	var out []BuiltImage
	for _, service := range built {
		out = append(out, BuiltImage{Service: service, Ref: refs[service]})
	}
	return out, nil
}

// ErrNoRender: the engine cannot print the objects it would apply.
var ErrNoRender = errors.New("this engine cannot print the objects it would apply")

// DryRun is the objects a deploy of the stack would apply, as the file gives them (nothing
// is built or asked), in format ("yaml" or "json"); a file deploy refuses, it refuses too.
func (p *Pipeline) DryRun(s *stack.Stack, format string) ([]byte, error) {
	r, ok := p.engine.(engine.Renderer)
	if !ok {
		return nil, ErrNoRender
	}
	plan, err := p.planFile(s)
	if err != nil {
		return nil, err
	}
	return r.Render(plan, format)
}

// Ps describes the deployed stack's services.
func (p *Pipeline) Ps(ctx context.Context, stackName string) ([]engine.ServiceInfo, error) {
	return p.engine.Services(ctx, stackName)
}

// Logs writes the services' logs to out.
func (p *Pipeline) Logs(ctx context.Context, stackName string, services []string, o engine.LogOptions, out io.Writer) error {
	return p.engine.Logs(ctx, stackName, services, o, out)
}

// Down removes the stack, waiting up to timeout for its replicas to stop; it reports
// whether there was anything to remove.
func (p *Pipeline) Down(ctx context.Context, stackName string, timeout time.Duration) (bool, error) {
	return p.engine.Remove(ctx, stackName, engine.RemoveOptions{Timeout: timeout, Progress: p.lines()})
}

// Version is the engine's version.
func (p *Pipeline) Version(ctx context.Context) (engine.Version, error) {
	return p.engine.Version(ctx)
}

// URLs are where the deployed stack serves the API, the dashboard left out.
func (p *Pipeline) URLs(ctx context.Context, stackName string, ext stack.Extension) ([]string, error) {
	urls, err := p.engine.URLs(ctx, stackName)
	if err != nil {
		return nil, err
	}
	return ext.WithoutDashboard(urls), nil
}
