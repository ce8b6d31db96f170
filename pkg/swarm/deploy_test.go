package swarm

import (
	"context"
	"errors"
	"fmt"
	"io"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/docker/docker/api/types/network"
	"github.com/docker/docker/api/types/swarm"

	"github.com/rscale/rscale/pkg/docker"
	"github.com/rscale/rscale/pkg/docker/dockertest"
	"github.com/rscale/rscale/pkg/engine"
)

// onFake is an Engine acting on the fake Docker engine f.
func onFake(f *dockertest.Engine) *Engine {
	return New(func(context.Context) (docker.API, error) { return f, nil })
}

func testPlan(image, haproxyCfg string) *Plan {
	return &Plan{Name: "demo", Spec: testSpec(image, haproxyCfg)}
}

func replicas(n uint64) swarm.ServiceMode {
	return swarm.ServiceMode{Replicated: &swarm.ReplicatedService{Replicas: &n}}
}

func testSpec(image, haproxyCfg string) *Spec {
	ns := map[string]string{LabelNamespace: "demo"}
	return &Spec{
		Namespace: "demo",
		Services: []swarm.ServiceSpec{
			{
				Annotations:  swarm.Annotations{Name: "demo_model_server", Labels: ns},
				Mode:         replicas(3),
				TaskTemplate: swarm.TaskSpec{ContainerSpec: &swarm.ContainerSpec{Image: image}},
			},
			{
				Annotations: swarm.Annotations{Name: "demo_proxy", Labels: ns},
				Mode:        replicas(1),
				TaskTemplate: swarm.TaskSpec{ContainerSpec: &swarm.ContainerSpec{
					Image:   "haproxy",
					Configs: []*swarm.ConfigReference{{ConfigName: "demo_haproxy_cfg", File: &swarm.ConfigReferenceFileTarget{Name: "/cfg"}}},
				}},
				EndpointSpec: &swarm.EndpointSpec{Ports: []swarm.PortConfig{{TargetPort: 80, PublishedPort: 8080, PublishMode: swarm.PortConfigPublishModeHost}}},
			},
		},
		Networks: []NetworkSpec{{Name: "demo_backend", Options: network.CreateOptions{Driver: "overlay", Labels: ns}}},
		Configs:  []swarm.ConfigSpec{{Annotations: swarm.Annotations{Name: "demo_haproxy_cfg", Labels: ns}, Data: []byte(haproxyCfg)}},
	}
}

func actions(changes []engine.Change) string {
	var parts []string
	for _, c := range changes {
		parts = append(parts, c.Service+" "+c.Action)
	}
	return strings.Join(parts, ", ")
}

func TestApplyCreatesThenLeavesUnchangedThenUpdates(t *testing.T) {
	ctx := context.Background()
	f := dockertest.New()
	e := onFake(f)
	var out strings.Builder
	changes, err := e.Apply(ctx, testPlan("api:1", "cfg v1"), engine.ApplyOptions{Progress: &out})
	if err != nil {
		t.Fatal(err)
	}
	if got := actions(changes); got != "model_server created, proxy created" {
		t.Errorf("first deploy: %s", got)
	}
	if !strings.Contains(out.String(), "service demo_model_server created") {
		t.Errorf("progress %q", out.String())
	}
	proxy, _, _ := f.ServiceInspectWithRaw(ctx, "demo_proxy", swarm.ServiceInspectOptions{})
	ref := proxy.Spec.TaskTemplate.ContainerSpec.Configs[0]
	if !strings.HasPrefix(ref.ConfigName, "demo_haproxy_cfg-") || ref.ConfigID == "" {
		t.Errorf("the proxy refers to config %q (ID %q), want the content-named config", ref.ConfigName, ref.ConfigID)
	}
	if changes[1].Revision == "" || changes[1].Revision != proxy.Spec.Labels[LabelSpecHash] {
		t.Errorf("revision %q, want the spec hash the service carries, %q", changes[1].Revision, proxy.Spec.Labels[LabelSpecHash])
	}

	f.Calls = nil
	changes, err = e.Apply(ctx, testPlan("api:1", "cfg v1"), engine.ApplyOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if got := actions(changes); got != "model_server unchanged, proxy unchanged" || len(f.Calls) != 0 {
		t.Errorf("redeploying the same spec: %s, calls %v; want no change at all", got, f.Calls)
	}

	changes, err = e.Apply(ctx, testPlan("api:2", "cfg v2"), engine.ApplyOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if got := actions(changes); got != "model_server updated, proxy updated" {
		t.Errorf("new image and config: %s", got)
	}
	proxy, _, _ = f.ServiceInspectWithRaw(ctx, "demo_proxy", swarm.ServiceInspectOptions{})
	if proxy.Spec.TaskTemplate.ContainerSpec.Configs[0].ConfigName == ref.ConfigName {
		t.Error("a changed config kept its name, so Swarm would not roll the proxy over")
	}
	if _, kept := f.Configs[ref.ConfigID]; !kept || len(f.Configs) != 2 {
		t.Errorf("configs after the change: %v; want the new one, and the old one kept for a rollback", f.Configs)
	}
	if _, err := e.Apply(ctx, testPlan("api:3", "cfg v3"), engine.ApplyOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, kept := f.Configs[ref.ConfigID]; kept || len(f.Configs) != 2 {
		t.Errorf("configs two changes later: %v; want the first one gone", f.Configs)
	}
}

func TestApplyPrunesOnlyWhenAsked(t *testing.T) {
	ctx := context.Background()
	f := dockertest.New()
	e := onFake(f)
	if _, err := e.Apply(ctx, testPlan("api:1", "x"), engine.ApplyOptions{}); err != nil {
		t.Fatal(err)
	}
	smaller := testPlan("api:1", "x")
	smaller.Spec.Services = smaller.Spec.Services[:1]
	changes, err := e.Apply(ctx, smaller, engine.ApplyOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(f.Services) != 2 || actions(changes) != "model_server unchanged" {
		t.Errorf("without --prune: %d services, %s", len(f.Services), actions(changes))
	}
	changes, err = e.Apply(ctx, smaller, engine.ApplyOptions{Prune: true})
	if err != nil {
		t.Fatal(err)
	}
	if len(f.Services) != 1 || actions(changes) != "model_server unchanged, proxy removed" {
		t.Errorf("with --prune: %d services, %s", len(f.Services), actions(changes))
	}
}

func TestApplyExternalNetworkMustExist(t *testing.T) {
	p := testPlan("api:1", "x")
	p.Spec.Networks = append(p.Spec.Networks, NetworkSpec{Name: "shared", External: true})
	_, err := onFake(dockertest.New()).Apply(context.Background(), p, engine.ApplyOptions{})
	if err == nil || !strings.Contains(err.Error(), "docker network create") {
		t.Errorf("err = %v, want one telling how to create the network", err)
	}
}

func TestSwarmManager(t *testing.T) {
	ctx := context.Background()
	f := dockertest.New()
	f.SystemInfo.Swarm.LocalNodeState = swarm.LocalNodeStateInactive
	if in, err := docker.SwarmManager(ctx, f); in || err != nil {
		t.Errorf("no swarm: %v, %v; want false, nil", in, err)
	}
	var out strings.Builder
	if err := docker.InitSwarm(ctx, f, "", &out); err != nil || !reflect.DeepEqual(f.Calls, []string{"swarm init"}) {
		t.Errorf("init: %v, calls %v", err, f.Calls)
	}
	if !strings.Contains(out.String(), "one-node swarm") {
		t.Errorf("init said %q", out.String())
	}
	if in, err := docker.SwarmManager(ctx, f); !in || err != nil {
		t.Errorf("manager: %v, %v; want true, nil", in, err)
	}
	f.SystemInfo.Swarm.ControlAvailable = false
	if _, err := docker.SwarmManager(ctx, f); err == nil || !strings.Contains(err.Error(), "manager") {
		t.Errorf("on a worker: %v", err)
	}
}

// In no swarm, Prepare makes one, unless --no-init; then it refuses and does nothing.
func TestPrepareMakesASwarmUnlessNoInit(t *testing.T) {
	ctx := context.Background()
	f := dockertest.New()
	f.SystemInfo.Swarm.LocalNodeState = swarm.LocalNodeStateInactive
	e := onFake(f)
	e.NoInit = true
	err := e.Prepare(ctx, testPlan("api:1", "x"), engine.PrepareOptions{})
	if !errors.Is(err, docker.ErrNoSwarm) || !strings.Contains(err.Error(), "docker swarm init") || len(f.Calls) != 0 {
		t.Errorf("--no-init: err = %v, calls %v; want ErrNoSwarm and nothing done", err, f.Calls)
	}
	e.NoInit = false
	var progress strings.Builder
	if err := e.Prepare(ctx, testPlan("api:1", "x"), engine.PrepareOptions{Progress: &progress}); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(f.Calls, []string{"swarm init"}) || !strings.Contains(progress.String(), "one-node swarm") {
		t.Errorf("calls %v, progress %q; want a swarm made, and said so", f.Calls, progress.String())
	}
}

// A missing external network is found before the image is built or anything created.
func TestPrepareRefusesAMissingExternalNetwork(t *testing.T) {
	f := dockertest.New()
	p := testPlan("api:1", "x")
	p.Spec.Networks = append(p.Spec.Networks, NetworkSpec{Name: "shared", External: true})
	err := onFake(f).Prepare(context.Background(), p, engine.PrepareOptions{BuiltServices: []string{"model_server"}})
	if err == nil || !strings.Contains(err.Error(), "network shared is declared external but does not exist") || len(f.Calls) != 0 {
		t.Errorf("err = %v, calls %v; want the missing network named and nothing done", err, f.Calls)
	}
}

func TestResolveFindsEveryServiceFirst(t *testing.T) {
	ctx := context.Background()
	f := dockertest.New()
	e := onFake(f)
	if _, err := e.Resolve(ctx, "demo", []string{"model_server"}); !errors.Is(err, engine.ErrNotDeployed) || !strings.Contains(err.Error(), "stack demo is not deployed: run 'rscale deploy' first") {
		t.Errorf("a stack that is not deployed: %v", err)
	}
	if _, err := e.Apply(ctx, testPlan("api:1", "x"), engine.ApplyOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.Resolve(ctx, "demo", []string{"model_server", "web"}); err == nil || !strings.Contains(err.Error(), `stack demo has no service "web": it has model_server, proxy`) {
		t.Errorf("an unknown service: %v", err)
	}
	changes, err := e.Resolve(ctx, "demo", []string{"model_server", "demo_proxy"})
	if err != nil {
		t.Fatal(err)
	}
	if want := []engine.Change{{Service: "model_server", Replicas: 3}, {Service: "proxy", Replicas: 1}}; !reflect.DeepEqual(changes, want) {
		t.Errorf("resolved %+v, want %+v", changes, want)
	}
	f.Calls = nil
	if err := e.SetReplicas(ctx, "demo", "model_server", 6, 6); err != nil {
		t.Fatal(err)
	}
	if want := []string{"update demo_model_server to 6"}; !reflect.DeepEqual(f.Calls, want) {
		t.Errorf("calls %v, want %v", f.Calls, want)
	}
}

// A service in global mode runs one task per node: there is no count to set.
func TestScaleRefusesAGlobalService(t *testing.T) {
	ctx := context.Background()
	f := dockertest.New()
	e := onFake(f)
	p := testPlan("api:1", "x")
	p.Spec.Services[0].Mode = swarm.ServiceMode{Global: &swarm.GlobalService{}}
	if _, err := e.Apply(ctx, p, engine.ApplyOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.Resolve(ctx, "demo", []string{"model_server"}); err == nil || !strings.Contains(err.Error(), "global mode") {
		t.Errorf("Resolve: %v", err)
	}
	if err := e.SetReplicas(ctx, "demo", "model_server", 2, 2); err == nil || !strings.Contains(err.Error(), "global mode") {
		t.Errorf("SetReplicas: %v", err)
	}
}

// task is one replica of svc, on the spec svc has now.
func task(svc swarm.Service, slot int, desired, state swarm.TaskState, errText string) swarm.Task {
	return swarm.Task{ID: fmt.Sprintf("%s-%d-%s", svc.ID, slot, state), ServiceID: svc.ID, Slot: slot, DesiredState: desired,
		Spec: svc.Spec.TaskTemplate, Status: swarm.TaskStatus{State: state, Err: errText}}
}

// deployed deploys the test plan with image, and returns its model_server service and change.
func deployed(t *testing.T, f *dockertest.Engine, image string) (swarm.Service, engine.Change) {
	t.Helper()
	changes, err := onFake(f).Apply(context.Background(), testPlan(image, "x"), engine.ApplyOptions{})
	if err != nil {
		t.Fatal(err)
	}
	svc, _, _ := f.ServiceInspectWithRaw(context.Background(), "demo_model_server", swarm.ServiceInspectOptions{})
	return svc, changes[0]
}

func statusOf(t *testing.T, f *dockertest.Engine, c engine.Change) engine.Status {
	t.Helper()
	statuses, err := onFake(f).Status(context.Background(), "demo", []engine.Change{c})
	if err != nil {
		t.Fatal(err)
	}
	return statuses[0]
}

func TestStatusDoneOnceEveryReplicaRuns(t *testing.T) {
	f := dockertest.New()
	api, change := deployed(t, f, "api:1")
	f.Tasks = []swarm.Task{
		task(api, 1, swarm.TaskStateRunning, swarm.TaskStateRunning, ""),
		task(api, 2, swarm.TaskStateRunning, swarm.TaskStateRunning, ""),
		task(api, 3, swarm.TaskStateRunning, swarm.TaskStateRunning, ""),
		task(api, 3, swarm.TaskStateShutdown, swarm.TaskStateFailed, "old failure"),
	}
	s := statusOf(t, f, change)
	if want := (engine.Status{Service: "model_server", Desired: 3, Running: 3, Ready: 3, Done: true}); !reflect.DeepEqual(s, want) {
		t.Errorf("status %+v, want %+v", s, want)
	}
}

// Right after an update, the old replicas still run and Swarm may not have begun replacing
// them: they must not count.
func TestStatusIgnoresReplicasOfTheOldSpec(t *testing.T) {
	f := dockertest.New()
	old, _ := deployed(t, f, "api:1")
	_, change := deployed(t, f, "api:2")
	f.Tasks = []swarm.Task{
		task(old, 1, swarm.TaskStateRunning, swarm.TaskStateRunning, ""),
		task(old, 2, swarm.TaskStateRunning, swarm.TaskStateRunning, ""),
		task(old, 3, swarm.TaskStateRunning, swarm.TaskStateRunning, ""),
	}
	if s := statusOf(t, f, change); s.Ready != 0 || s.Done || s.Err != nil {
		t.Errorf("status %+v, want 0 ready and not done", s)
	}
}

func TestStatusNotDoneWhileSwarmWatchesTheUpdate(t *testing.T) {
	f := dockertest.New()
	api, change := deployed(t, f, "api:1")
	api.UpdateStatus = &swarm.UpdateStatus{State: swarm.UpdateStateUpdating}
	api.Spec.UpdateConfig = &swarm.UpdateConfig{Monitor: 30 * time.Second}
	f.Services[api.ID] = api
	for slot := 1; slot <= 3; slot++ {
		f.Tasks = append(f.Tasks, task(api, slot, swarm.TaskStateRunning, swarm.TaskStateRunning, ""))
	}
	s := statusOf(t, f, change)
	if s.Done || !s.Updating || s.Detail != "all replaced; Swarm watches them for 30s" {
		t.Errorf("status %+v: want not done, updating, while Swarm still watches the new replicas", s)
	}
}

func TestStatusTellsTheTaskError(t *testing.T) {
	f := dockertest.New()
	api, change := deployed(t, f, "api:1")
	f.Tasks = []swarm.Task{task(api, 1, swarm.TaskStateRunning, swarm.TaskStateStarting, "container is unhealthy")}
	s := statusOf(t, f, change)
	if s.Done || s.Err != nil || s.Running != 1 || s.Detail != "1 starting; last task error: container is unhealthy" {
		t.Errorf("status %+v: want the starting replica and the task error, still waiting", s)
	}
}

func TestStatusReportsARollback(t *testing.T) {
	f := dockertest.New()
	deployed(t, f, "api:1")
	before, _, _ := f.ServiceInspectWithRaw(context.Background(), "demo_model_server", swarm.ServiceInspectOptions{})
	svc, change := deployed(t, f, "api:2")
	// What Swarm does when the new tasks fail: it puts the previous spec back.
	svc.Spec = before.Spec
	svc.UpdateStatus = &swarm.UpdateStatus{State: swarm.UpdateStateRollbackCompleted, Message: "rollback completed"}
	f.Services[svc.ID] = svc
	f.Tasks = []swarm.Task{task(svc, 1, swarm.TaskStateShutdown, swarm.TaskStateFailed, "container is unhealthy")}
	err := statusOf(t, f, change).Err
	if !errors.Is(err, engine.ErrRolledBack) || !strings.Contains(err.Error(), "rscale logs model_server") || !strings.Contains(err.Error(), "container is unhealthy") {
		t.Errorf("err = %v, want ErrRolledBack with the reason and a hint", err)
	}
}

func TestStatusReportsAServiceChangedBySomeoneElse(t *testing.T) {
	f := dockertest.New()
	svc, change := deployed(t, f, "api:1")
	svc.Spec.Labels = withLabel(svc.Spec.Labels, LabelSpecHash, "another")
	f.Services[svc.ID] = svc
	err := statusOf(t, f, change).Err
	if err == nil || errors.Is(err, engine.ErrRolledBack) || !strings.Contains(err.Error(), "changed by someone else") {
		t.Errorf("err = %v, want one saying someone else changed the service", err)
	}
	// Without a revision to hold, any spec will do.
	if err := statusOf(t, f, engine.Change{Service: change.Service}).Err; err != nil {
		t.Errorf("no revision: %v", err)
	}
}

func TestStatusStopsWhenTheImageCannotBePulled(t *testing.T) {
	f := dockertest.New()
	api, change := deployed(t, f, "traefik:v3.7.3")
	f.Tasks = []swarm.Task{
		task(api, 1, swarm.TaskStateShutdown, swarm.TaskStateRejected, "No such image: traefik:v3.7.3"),
		task(api, 1, swarm.TaskStateRunning, swarm.TaskStateRejected, "No such image: traefik:v3.7.3"),
	}
	err := statusOf(t, f, change).Err
	if err == nil || !strings.Contains(err.Error(), "No such image: traefik:v3.7.3") || !strings.Contains(err.Error(), "docker load") {
		t.Errorf("err = %v, want the image error at once, with what to do", err)
	}
}

// A rollback left over from an earlier deploy is not this deploy's failure.
func TestStatusIgnoresAnEarlierRollback(t *testing.T) {
	f := dockertest.New()
	svc, change := deployed(t, f, "api:1")
	svc.UpdateStatus = &swarm.UpdateStatus{State: swarm.UpdateStateRollbackCompleted}
	f.Services[svc.ID] = svc
	for slot := 1; slot <= 3; slot++ {
		f.Tasks = append(f.Tasks, task(svc, slot, swarm.TaskStateRunning, swarm.TaskStateRunning, ""))
	}
	if s := statusOf(t, f, change); !s.Done || s.Err != nil {
		t.Errorf("status %+v, want done", s)
	}
}

func TestRedeployKeepsTheReplicasScaleSet(t *testing.T) {
	ctx := context.Background()
	f := dockertest.New()
	e := onFake(f)
	deployed(t, f, "api:1")
	if err := e.SetReplicas(ctx, "demo", "model_server", 10, 10); err != nil {
		t.Fatal(err)
	}
	replicasNow := func() uint64 {
		svc, _, _ := f.ServiceInspectWithRaw(ctx, "demo_model_server", swarm.ServiceInspectOptions{})
		return *svc.Spec.Mode.Replicated.Replicas
	}
	var out strings.Builder
	if _, err := e.Apply(ctx, testPlan("api:2", "x"), engine.ApplyOptions{Progress: &out}); err != nil {
		t.Fatal(err)
	}
	if n := replicasNow(); n != 10 || !strings.Contains(out.String(), "keeps its 10 replicas") {
		t.Errorf("new code after scale: %d replicas, output %q; want the 10 that scale set, and a note", n, out.String())
	}
	// The file now asks for another number: the file wins.
	more := testPlan("api:2", "x")
	more.Spec.Services[0].Mode = replicas(4)
	if _, err := e.Apply(ctx, more, engine.ApplyOptions{}); err != nil {
		t.Fatal(err)
	}
	if n := replicasNow(); n != 4 {
		t.Errorf("after the file changed its replicas: %d, want 4", n)
	}
}

func TestRemove(t *testing.T) {
	ctx := context.Background()
	f := dockertest.New()
	e := onFake(f)
	if _, err := e.Apply(ctx, testPlan("api:1", "x"), engine.ApplyOptions{}); err != nil {
		t.Fatal(err)
	}
	var out strings.Builder
	removed, err := e.Remove(ctx, "demo", engine.RemoveOptions{Timeout: time.Second, Progress: &out})
	if err != nil || !removed {
		t.Fatalf("Remove = %v, %v", removed, err)
	}
	if len(f.Services)+len(f.Networks)+len(f.Configs) != 0 {
		t.Errorf("left behind: %d services, %d networks, %d configs", len(f.Services), len(f.Networks), len(f.Configs))
	}
	for _, want := range []string{"service demo_model_server removed", "network demo_backend removed", "config demo_haproxy_cfg-"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, out.String())
		}
	}
	if removed, err := e.Remove(ctx, "demo", engine.RemoveOptions{Timeout: time.Second}); err != nil || removed {
		t.Errorf("second Remove = %v, %v; want nothing removed", removed, err)
	}
}

func TestRemoveWaitsForTheReplicasToStop(t *testing.T) {
	ctx := context.Background()
	f := dockertest.New()
	e := onFake(f)
	api, _ := deployed(t, f, "api:1")
	f.Tasks = []swarm.Task{task(api, 1, swarm.TaskStateShutdown, swarm.TaskStateRunning, "")}
	if _, err := e.Remove(ctx, "demo", engine.RemoveOptions{Timeout: 50 * time.Millisecond}); err == nil || !strings.Contains(err.Error(), "still stopping") {
		t.Errorf("a replica still running: %v", err)
	}
	if len(f.Networks) != 1 {
		t.Errorf("the network was removed while a replica still ran")
	}
	f.Tasks[0].Status.State = swarm.TaskStateShutdown
	if removed, err := e.Remove(ctx, "demo", engine.RemoveOptions{Timeout: time.Second}); err != nil || !removed {
		t.Errorf("once stopped: %v, %v", removed, err)
	}
	if len(f.Networks)+len(f.Configs) != 0 {
		t.Errorf("left %v %v", f.Networks, f.Configs)
	}
}

// rampUp does what the pipeline does with a Pacing while it waits: ask for more replicas as
// the ramp allows, until the service has target.
func rampUp(t *testing.T, e *Engine, c engine.Change, pacing engine.Pacing) {
	t.Helper()
	for range 20 {
		statuses, err := e.Status(context.Background(), "demo", []engine.Change{c})
		if err != nil {
			t.Fatal(err)
		}
		if uint64(statuses[0].Desired) >= c.Replicas {
			return
		}
		if n, ok := pacing.Next(statuses[0], c.Replicas); ok {
			if err := e.SetReplicas(context.Background(), "demo", c.Service, n, c.Replicas); err != nil {
				t.Fatal(err)
			}
		}
	}
	t.Fatalf("%s never reached %d replicas", c.Service, c.Replicas)
}

// Many replicas start a few at a time: all at once, R processes on a few cores fail their
// health checks while they start, and restart without end.
func TestDeployAndScaleAddReplicasInBatches(t *testing.T) {
	ctx := context.Background()
	f := dockertest.New()
	f.Converge = true
	e := onFake(f)
	changes, err := e.Apply(ctx, testPlan("api:1", "x"), engine.ApplyOptions{Pacing: &Ramp{Window: 2}})
	if err != nil {
		t.Fatal(err)
	}
	svc, _, _ := f.ServiceInspectWithRaw(ctx, "demo_model_server", swarm.ServiceInspectOptions{})
	if *svc.Spec.Mode.Replicated.Replicas != 2 || changes[0].Replicas != 3 {
		t.Fatalf("created with %d replicas, change %+v; want 2 now on the way to 3", *svc.Spec.Mode.Replicated.Replicas, changes[0])
	}
	rampUp(t, e, changes[0], &Ramp{Window: 2})
	if svc, _, _ = f.ServiceInspectWithRaw(ctx, "demo_model_server", swarm.ServiceInspectOptions{}); *svc.Spec.Mode.Replicated.Replicas != 3 {
		t.Errorf("after the ramp: %d replicas, want 3", *svc.Spec.Mode.Replicated.Replicas)
	}

	resolved, err := e.Resolve(ctx, "demo", []string{"model_server"})
	if err != nil {
		t.Fatal(err)
	}
	f.Calls = nil
	ramp := &Ramp{Window: 4}
	if err := e.SetReplicas(ctx, "demo", "model_server", ramp.First(resolved[0].Replicas, 10), 10); err != nil {
		t.Fatal(err)
	}
	rampUp(t, e, engine.Change{Service: "model_server", Replicas: 10}, ramp)
	if want := []string{"update demo_model_server to 7", "update demo_model_server to 10"}; !reflect.DeepEqual(f.Calls, want) {
		t.Errorf("scaling 3 → 10 four at a time: %v, want %v", f.Calls, want)
	}
}

// A deploy interrupted while it added replicas leaves fewer than the file asks: a rerun of the
// same file adds the rest, where it would have called the service unchanged. A count set
// on purpose ('rscale scale') is no interrupted ramp: the rerun keeps it.
func TestRerunFinishesAnInterruptedRamp(t *testing.T) {
	ctx := context.Background()
	f := dockertest.New()
	f.Converge = true
	e := onFake(f)
	if _, err := e.Apply(ctx, testPlan("api:1", "x"), engine.ApplyOptions{Pacing: &Ramp{Window: 1}}); err != nil {
		t.Fatal(err)
	}
	// Interrupted here, with 1 of 3 replicas asked for.
	changes, err := e.Apply(ctx, testPlan("api:1", "x"), engine.ApplyOptions{Pacing: &Ramp{Window: 1}})
	if err != nil {
		t.Fatal(err)
	}
	if changes[0].Action != "resumed" || changes[0].Replicas != 3 {
		t.Fatalf("rerun after an interrupted ramp: %+v, want resumed on the way to 3", changes[0])
	}
	rampUp(t, e, changes[0], &Ramp{Window: 1})
	if svc, _, _ := f.ServiceInspectWithRaw(ctx, "demo_model_server", swarm.ServiceInspectOptions{}); *svc.Spec.Mode.Replicated.Replicas != 3 {
		t.Errorf("after the resumed ramp: %d replicas, want 3", *svc.Spec.Mode.Replicated.Replicas)
	}

	if err := e.SetReplicas(ctx, "demo", "model_server", 1, 1); err != nil {
		t.Fatal(err)
	}
	changes, err = e.Apply(ctx, testPlan("api:1", "x"), engine.ApplyOptions{Pacing: &Ramp{Window: 1}})
	if err != nil {
		t.Fatal(err)
	}
	if changes[0].Action != "unchanged" || changes[0].Replicas != 1 {
		t.Errorf("rerun after 'rscale scale model_server=1': %+v, want unchanged with 1", changes[0])
	}
}

func TestSplitDetails(t *testing.T) {
	slots := map[string]string{"task1abcdef": "3"}
	replica, msg := splitDetails("com.docker.swarm.node.id=n1,com.docker.swarm.service.id=s1,com.docker.swarm.task.id=task1abcdef Running plumber API", slots)
	if replica != "3" || msg != "Running plumber API" {
		t.Errorf("got %q %q", replica, msg)
	}
	replica, msg = splitDetails("com.docker.swarm.task.id=zzzzzzzzz hello", slots)
	if replica != "zzzzzz" || msg != "hello" {
		t.Errorf("unknown task: %q %q", replica, msg)
	}
	if replica, msg = splitDetails("plain line", slots); replica != "?" || msg != "plain line" {
		t.Errorf("no details: %q %q", replica, msg)
	}
}

func TestLogsPrefixEachLineWithItsReplica(t *testing.T) {
	ctx := context.Background()
	f := dockertest.New()
	e := onFake(f)
	if err := e.Logs(ctx, "demo", nil, engine.LogOptions{}, io.Discard); !errors.Is(err, engine.ErrNotDeployed) {
		t.Errorf("a stack that is not deployed: %v", err)
	}
	api, _ := deployed(t, f, "api:1")
	f.Tasks = []swarm.Task{task(api, 1, swarm.TaskStateRunning, swarm.TaskStateRunning, "")}
	var out strings.Builder
	if err := e.Logs(ctx, "demo", []string{"model_server"}, engine.LogOptions{}, &out); err != nil {
		t.Fatal(err)
	}
	if out.String() != "model_server.1 | started\n" {
		t.Errorf("logs %q, want lines prefixed with the replica", out.String())
	}
}

// The URLs are read from what is deployed, not from a stack file.
func TestURLs(t *testing.T) {
	ctx := context.Background()
	f := dockertest.New()
	e := onFake(f)
	if got, err := e.URLs(ctx, "demo"); err != nil || len(got) != 0 {
		t.Errorf("not deployed: %v, %v", got, err)
	}
	if _, err := e.Apply(ctx, testPlan("api:1", "x"), engine.ApplyOptions{}); err != nil {
		t.Fatal(err)
	}
	if got, err := e.URLs(ctx, "demo"); err != nil || !reflect.DeepEqual(got, []string{"http://localhost:8080/"}) {
		t.Errorf("URLs = %v, %v", got, err)
	}
}
