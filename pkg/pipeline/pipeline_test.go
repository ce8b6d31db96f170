package pipeline

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/compose-spec/compose-go/v2/types"

	"github.com/rscale/rscale/pkg/docker"
	"github.com/rscale/rscale/pkg/engine"
	"github.com/rscale/rscale/pkg/progress"
	"github.com/rscale/rscale/pkg/stack"
)

// scripted is an engine.Engine whose services become ready as the test says: each service
// has a replica count asked for, and ready replicas that follow it after readyAfter looks.
type scripted struct {
	mu         sync.Mutex
	replicas   map[string]uint64 // asked for now
	ready      map[string]uint64
	never      map[string]bool  // never ready (until rolled back)
	statusErr  map[string]error // reported by Status
	revision   int
	rolledBack []string
	noPrevious bool
	calls      []string
	pacing     engine.Pacing
	planErr    error // what Plan says of the file
}

type scriptedPlan struct{ services []string }

func (p scriptedPlan) Stack() string      { return "api" }
func (p scriptedPlan) Services() []string { return p.services }

func newScripted(services ...string) *scripted {
	e := &scripted{replicas: map[string]uint64{}, ready: map[string]uint64{}, never: map[string]bool{}, statusErr: map[string]error{}}
	for _, s := range services {
		e.replicas[s] = 0
	}
	return e
}

func (e *scripted) record(format string, args ...any) {
	e.calls = append(e.calls, fmt.Sprintf(format, args...))
}

func (e *scripted) Plan(s *stack.Stack, images map[string]string) (engine.Plan, error) {
	if e.planErr != nil {
		return nil, e.planErr
	}
	var names []string
	for name := range e.replicas {
		names = append(names, name)
	}
	return scriptedPlan{names}, nil
}

func (e *scripted) Prepare(ctx context.Context, p engine.Plan, o engine.PrepareOptions) error {
	return nil
}

// Apply asks for 4 replicas of every service (the pacing's first step of them, when paced).
func (e *scripted) Apply(ctx context.Context, p engine.Plan, o engine.ApplyOptions) ([]engine.Change, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.revision++
	var changes []engine.Change
	for _, s := range p.Services() {
		n := uint64(4)
		if o.Pacing != nil {
			n = o.Pacing.First(0, 4)
		}
		e.replicas[s], e.ready[s] = n, 0
		changes = append(changes, engine.Change{Service: s, Action: "updated", Revision: fmt.Sprint(e.revision), Replicas: 4})
	}
	return changes, nil
}

// Status: one more replica ready at every look.
func (e *scripted) Status(ctx context.Context, stackName string, targets []engine.Change) ([]engine.Status, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	var out []engine.Status
	for _, t := range targets {
		if !e.never[t.Service] && e.ready[t.Service] < e.replicas[t.Service] {
			e.ready[t.Service]++
		}
		want, ready := e.replicas[t.Service], e.ready[t.Service]
		out = append(out, engine.Status{Service: t.Service, Desired: int(want), Running: int(want), Ready: int(ready),
			Done: ready == want, Err: e.statusErr[t.Service]})
	}
	return out, nil
}

func (e *scripted) Resolve(ctx context.Context, stackName string, services []string) ([]engine.Change, error) {
	var out []engine.Change
	for _, s := range services {
		n, ok := e.replicas[s]
		if !ok {
			return nil, fmt.Errorf("stack %s has no service %q", stackName, s)
		}
		out = append(out, engine.Change{Service: s, Replicas: n})
	}
	return out, nil
}

func (e *scripted) SetReplicas(ctx context.Context, stackName, service string, n, target uint64) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.record("set %s %d of %d", service, n, target)
	e.replicas[service] = n
	return nil
}

func (e *scripted) RollBack(ctx context.Context, p engine.Plan, services []string) map[string]error {
	e.mu.Lock()
	defer e.mu.Unlock()
	failed := map[string]error{}
	for _, s := range services {
		if e.noPrevious {
			failed[s] = engine.ErrNoPreviousVersion
			continue
		}
		e.rolledBack = append(e.rolledBack, s)
		e.never[s] = false
	}
	return failed
}

func (e *scripted) Services(ctx context.Context, stackName string) ([]engine.ServiceInfo, error) {
	return nil, nil
}
func (e *scripted) Logs(ctx context.Context, stackName string, services []string, o engine.LogOptions, out io.Writer) error {
	return nil
}
func (e *scripted) Remove(ctx context.Context, stackName string, o engine.RemoveOptions) (bool, error) {
	return false, nil
}
func (e *scripted) URLs(ctx context.Context, stackName string) ([]string, error) {
	return []string{"http://localhost:8000/", "http://localhost:8404/"}, nil
}
func (e *scripted) Version(ctx context.Context) (engine.Version, error) { return engine.Version{}, nil }
func (e *scripted) Images(ctx context.Context) (docker.API, error) {
	return nil, errors.New("no images here")
}
func (e *scripted) Close() error { return nil }

// pacedEngine is scripted with a Pacer: one more replica asked for at a time.
type pacedEngine struct{ *scripted }

func (p pacedEngine) Pacing(ctx context.Context, batch int) engine.Pacing { return oneAtATime{} }

type oneAtATime struct{}

func (oneAtATime) First(current, target uint64) uint64 { return min(target, current+1) }
func (oneAtATime) Next(s engine.Status, target uint64) (uint64, bool) {
	if s.Ready < s.Desired {
		return 0, false
	}
	return uint64(s.Desired) + 1, true
}
func (oneAtATime) String() string { return "1 starting at a time" }

// noRollBack is the scripted engine without engine.RollBacker.
type noRollBack struct{ engine.Engine }

func testStack() *stack.Stack {
	return &stack.Stack{File: "rscale.yml", Name: "api", Project: &types.Project{Name: "api", Services: types.Services{}},
		Ext: stack.Extension{DashboardURL: "http://localhost:8404/"}}
}

func deployOn(t *testing.T, e engine.Engine, timeout time.Duration) (*Result, []progress.Event, error) {
	t.Helper()
	var events progress.Recorder
	p := New(e, Options{Sink: &events, Interval: time.Millisecond})
	r, err := p.Deploy(context.Background(), testStack(), DeployOptions{Timeout: timeout})
	return r, events.Events, err
}

func TestDeployWaitsForEveryReplicaAndLeavesTheDashboardOut(t *testing.T) {
	r, events, err := deployOn(t, newScripted("model_server"), time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(r.URLs, " ") != "http://localhost:8000/" {
		t.Errorf("URLs %v, want the API's only", r.URLs)
	}
	last := events[len(events)-2]
	if last.Kind != progress.ServiceProgress || last.Ready != 4 || last.Desired != 4 {
		t.Errorf("last progress %+v, want 4/4 ready", last)
	}
	if done := events[len(events)-1]; done.Kind != progress.Done || done.Message != "Stack api is running." {
		t.Errorf("last event %+v", done)
	}
}

func TestDeployPacesUntilTheTargetNotOnlyUntilDone(t *testing.T) {
	e := newScripted("model_server")
	if _, _, err := deployOn(t, pacedEngine{e}, time.Minute); err != nil {
		t.Fatal(err)
	}
	// Done at 1/1 is not the end: the pipeline goes on to 4, one more at a time.
	if got := strings.Join(e.calls, ", "); got != "set model_server 2 of 4, set model_server 3 of 4, set model_server 4 of 4" {
		t.Errorf("replicas asked for: %s", got)
	}
}

// Interrupted, the wait says what it leaves, and is still known as interrupted.
func TestAnInterruptedWaitSaysWhatIsLeft(t *testing.T) {
	e := newScripted("model_server")
	e.never["model_server"] = true
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(50*time.Millisecond, cancel)
	p := New(e, Options{Sink: &progress.Recorder{}, Interval: time.Millisecond})
	_, err := p.Deploy(ctx, testStack(), DeployOptions{Timeout: time.Minute})
	if !errors.Is(err, context.Canceled) || !strings.Contains(err.Error(), "model_server had 0 of 4 replicas ready") {
		t.Fatalf("got %v, want context.Canceled saying model_server had 0 of 4 ready", err)
	}
}

func TestAnEngineErrorStopsTheWaitAtOnce(t *testing.T) {
	e := newScripted("model_server")
	e.never["model_server"] = true
	e.statusErr["model_server"] = errors.New("the nodes cannot pull image x")
	start := time.Now()
	_, _, err := deployOn(t, noRollBack{e}, time.Minute)
	var notReady *NotReadyError
	if !errors.As(err, &notReady) || notReady.Service != "model_server" || !strings.Contains(err.Error(), "cannot pull image x") {
		t.Fatalf("got %v, want the engine's error for model_server", err)
	}
	if time.Since(start) > 10*time.Second {
		t.Errorf("waited %s: an engine error must stop the wait at once", time.Since(start))
	}
}

func TestATimeoutNamesWhatWasNotReady(t *testing.T) {
	e := newScripted("model_server")
	e.never["model_server"] = true
	_, _, err := deployOn(t, noRollBack{e}, 50*time.Millisecond)
	var notReady *NotReadyError
	if !errors.As(err, &notReady) || notReady.Timeout != 50*time.Millisecond {
		t.Fatalf("got %v, want a NotReadyError after the timeout", err)
	}
	for _, want := range []string{"after 50ms", "model_server 0/4 ready", "--timeout"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("%q lacks %q", err, want)
		}
	}
}

func TestARollBackerPutsThePreviousVersionBackAndWaitsForIt(t *testing.T) {
	e := newScripted("model_server")
	e.never["model_server"] = true
	_, events, err := deployOn(t, e, 50*time.Millisecond)
	var rolledBack *RolledBackError
	if !errors.As(err, &rolledBack) || !errors.Is(err, engine.ErrRolledBack) || strings.Join(rolledBack.Services, ",") != "model_server" {
		t.Fatalf("got %v, want a RolledBackError for model_server", err)
	}
	if strings.Join(e.rolledBack, ",") != "model_server" {
		t.Errorf("rolled back %v", e.rolledBack)
	}
	var sawRollingBack bool
	for _, ev := range events {
		sawRollingBack = sawRollingBack || ev.Kind == progress.RollingBack
	}
	if !sawRollingBack {
		t.Errorf("no RollingBack event in %+v", events)
	}
}

func TestAFirstVersionHasNothingToRollBackTo(t *testing.T) {
	e := newScripted("model_server")
	e.never["model_server"], e.noPrevious = true, true
	_, _, err := deployOn(t, e, 50*time.Millisecond)
	if err == nil || errors.Is(err, engine.ErrRolledBack) || !strings.Contains(err.Error(), "model_server has no previous version to roll back to") {
		t.Errorf("got %v", err)
	}
}

func TestAnEngineThatRolledBackByItselfIsARolledBackError(t *testing.T) {
	e := newScripted("model_server")
	e.never["model_server"] = true
	e.statusErr["model_server"] = fmt.Errorf("update failed: %w", engine.ErrRolledBack)
	_, _, err := deployOn(t, noRollBack{e}, time.Minute)
	var rolledBack *RolledBackError
	if !errors.As(err, &rolledBack) || strings.Join(rolledBack.Services, ",") != "model_server" {
		t.Fatalf("got %v, want a RolledBackError", err)
	}
	if !strings.Contains(err.Error(), "the previous version runs again") {
		t.Errorf("%q", err)
	}
}

func TestScaleResolvesEveryTargetBeforeChangingAny(t *testing.T) {
	e := newScripted("model_server", "other")
	p := New(e, Options{Interval: time.Millisecond})
	err := p.Scale(context.Background(), "api", []ScaleTarget{{Service: "model_server", Replicas: 3}, {Service: "web", Replicas: 2}}, ScaleOptions{Timeout: time.Minute})
	if err == nil || !strings.Contains(err.Error(), `no service "web"`) {
		t.Fatalf("got %v", err)
	}
	if len(e.calls) > 0 {
		t.Errorf("changed %v before every target was found", e.calls)
	}
	if err := p.Scale(context.Background(), "api", []ScaleTarget{{Service: "model_server", Replicas: 3}}, ScaleOptions{Timeout: time.Minute}); err != nil {
		t.Fatal(err)
	}
	if e.ready["model_server"] != 3 {
		t.Errorf("%d ready after the scale, want 3", e.ready["model_server"])
	}
}

// TestParseScaleWithoutAStackFile: with --name only there are no limits, and the ceiling
// still holds.
func TestParseScaleWithoutAStackFile(t *testing.T) {
	var usage *ArgError
	if _, err := ParseScale([]string{"model_server=4000000000"}, "api", nil); !errors.As(err, &usage) || !strings.Contains(err.Error(), "at most 10000") {
		t.Errorf("got %v, want an ArgError naming the ceiling", err)
	}
	if _, err := ParseScale([]string{"model_server=500"}, "api", nil); err != nil {
		t.Errorf("500 with no limits: %v", err)
	}
}

func TestParseScale(t *testing.T) {
	limits := map[string]uint64{"model_server": 10}
	for _, c := range []struct {
		args []string
		want string // the error, or the targets as SERVICE=N
	}{
		{[]string{"model_server=3", "api_other=0"}, "model_server=3 api_other=0"},
		{[]string{"model_server"}, "write SERVICE=REPLICAS"},
		{[]string{"=3"}, "write SERVICE=REPLICAS"},
		{[]string{"model_server=-1"}, "whole number of 0 or more"},
		{[]string{"model_server=2", "api_model_server=3"}, "both scale model_server: give each service once"},
		{[]string{"model_server=11"}, "the proxy has room for 10 replicas of model_server; to serve more, run 'rscale init --max-replicas 11'"},
		{[]string{"other=10000"}, "other=10000"},
		{[]string{"other=10001"}, "other=10001: rscale runs at most 10000 replicas of a service: give other=10000 or fewer"},
		{[]string{"model_server=4000000000"}, "model_server=4000000000: rscale runs at most 10000 replicas"},
		{[]string{"model_server=99999999999999999999999"}, "model_server=99999999999999999999999: rscale runs at most 10000 replicas"},
	} {
		targets, err := ParseScale(c.args, "api", limits)
		var got string
		if err != nil {
			var usage *ArgError
			if !errors.As(err, &usage) {
				t.Errorf("%v: %v is not an ArgError", c.args, err)
			}
			got = err.Error()
		} else {
			var parts []string
			for _, tg := range targets {
				parts = append(parts, fmt.Sprintf("%s=%d", tg.Service, tg.Replicas))
			}
			got = strings.Join(parts, " ")
		}
		if !strings.Contains(got, c.want) {
			t.Errorf("%v: got %q, want %q", c.args, got, c.want)
		}
	}
}

func stackWithReplicas(service string, n int, maxReplicas map[string]uint64) *stack.Stack {
	s := testStack()
	svc := types.ServiceConfig{Name: service, Deploy: &types.DeployConfig{Replicas: &n}}
	svc.Image = "api/" + service
	s.Project.Services[service] = svc
	s.Ext.MaxReplicas = maxReplicas
	return s
}

func TestDeployRefusesReplicasBeyondTheBoundsBeforeAnything(t *testing.T) {
	for _, c := range []struct {
		name string
		s    *stack.Stack
		want string
	}{
		{"beyond the ceiling, which is named first", stackWithReplicas("model_server", 1000000000, map[string]uint64{"model_server": 100}),
			"rscale.yml: service model_server asks for 1000000000 replicas, and rscale runs at most 10000 of a service"},
		{"beyond max_replicas", stackWithReplicas("model_server", 101, map[string]uint64{"model_server": 100}),
			"the proxy has room for 100 (x-rscale: max_replicas): set deploy: replicas: to 100 or fewer, or run 'rscale init --max-replicas 101'"},
		{"beyond the ceiling, with no max_replicas", stackWithReplicas("proxy", 3000000000, nil),
			"service proxy asks for 3000000000 replicas, and rscale runs at most 10000"},
	} {
		t.Run(c.name, func(t *testing.T) {
			e := newScripted("model_server")
			var events progress.Recorder
			p := New(e, Options{Sink: &events, Interval: time.Millisecond})
			_, err := p.Deploy(context.Background(), c.s, DeployOptions{Timeout: time.Minute})
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("got %v, want %q", err, c.want)
			}
			if e.revision != 0 || len(e.calls) > 0 || len(events.Events) > 0 {
				t.Errorf("the engine was asked (revision %d, calls %v, events %v) before the replicas were checked", e.revision, e.calls, events.Events)
			}
		})
	}
}

func TestDeployTakesReplicasWithinTheBounds(t *testing.T) {
	for _, s := range []*stack.Stack{
		stackWithReplicas("model_server", 100, map[string]uint64{"model_server": 100}),
		stackWithReplicas("proxy", 10000, nil),
	} {
		if _, err := New(newScripted("model_server"), Options{Interval: time.Millisecond}).Deploy(context.Background(), s, DeployOptions{Timeout: time.Minute}); err != nil {
			t.Errorf("%v: %v", s.Project.ServiceNames(), err)
		}
	}
}

// Whatever the engine, what it finds wrong in the file is named with the file, once, and
// nothing is applied.
func TestAPlanErrorNamesTheFileOnce(t *testing.T) {
	e := newScripted("model_server")
	e.planErr = errors.New("service model_server: network_mode \"host\" is not available")
	_, _, err := deployOn(t, e, time.Minute)
	if err == nil || err.Error() != "rscale.yml: "+e.planErr.Error() {
		t.Errorf("got %v, want the file named once before the engine's words", err)
	}
	if e.revision != 0 {
		t.Errorf("applied %d times", e.revision)
	}
}
