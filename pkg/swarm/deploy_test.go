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

	"github.com/rscale/rscale/pkg/backend"
	"github.com/rscale/rscale/pkg/docker"
	"github.com/rscale/rscale/pkg/docker/dockertest"
)

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

func actions(changes []Change) string {
	var parts []string
	for _, c := range changes {
		parts = append(parts, c.Service+" "+c.Action)
	}
	return strings.Join(parts, ", ")
}

func TestApplyCreatesThenLeavesUnchangedThenUpdates(t *testing.T) {
	ctx := context.Background()
	f := dockertest.New()
	changes, err := Apply(ctx, f, testSpec("api:1", "cfg v1"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	if got := actions(changes); got != "demo_model_server created, demo_proxy created" {
		t.Errorf("first deploy: %s", got)
	}
	proxy, _, _ := f.ServiceInspectWithRaw(ctx, "demo_proxy", swarm.ServiceInspectOptions{})
	ref := proxy.Spec.TaskTemplate.ContainerSpec.Configs[0]
	if !strings.HasPrefix(ref.ConfigName, "demo_haproxy_cfg-") || ref.ConfigID == "" {
		t.Errorf("the proxy refers to config %q (ID %q), want the content-named config", ref.ConfigName, ref.ConfigID)
	}

	f.Calls = nil
	changes, err = Apply(ctx, f, testSpec("api:1", "cfg v1"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	if got := actions(changes); got != "demo_model_server unchanged, demo_proxy unchanged" || len(f.Calls) != 0 {
		t.Errorf("redeploying the same spec: %s, calls %v; want no change at all", got, f.Calls)
	}

	changes, err = Apply(ctx, f, testSpec("api:2", "cfg v2"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	if got := actions(changes); got != "demo_model_server updated, demo_proxy updated" {
		t.Errorf("new image and config: %s", got)
	}
	proxy, _, _ = f.ServiceInspectWithRaw(ctx, "demo_proxy", swarm.ServiceInspectOptions{})
	if proxy.Spec.TaskTemplate.ContainerSpec.Configs[0].ConfigName == ref.ConfigName {
		t.Error("a changed config kept its name, so Swarm would not roll the proxy over")
	}
	if _, kept := f.Configs[ref.ConfigID]; !kept || len(f.Configs) != 2 {
		t.Errorf("configs after the change: %v; want the new one, and the old one kept for a rollback", f.Configs)
	}
	if _, err := Apply(ctx, f, testSpec("api:3", "cfg v3"), Options{}); err != nil {
		t.Fatal(err)
	}
	if _, kept := f.Configs[ref.ConfigID]; kept || len(f.Configs) != 2 {
		t.Errorf("configs two changes later: %v; want the first one gone", f.Configs)
	}
}

func TestApplyPrunesOnlyWhenAsked(t *testing.T) {
	ctx := context.Background()
	f := dockertest.New()
	if _, err := Apply(ctx, f, testSpec("api:1", "x"), Options{}); err != nil {
		t.Fatal(err)
	}
	smaller := testSpec("api:1", "x")
	smaller.Services = smaller.Services[:1]
	changes, err := Apply(ctx, f, smaller, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if len(f.Services) != 2 || actions(changes) != "demo_model_server unchanged" {
		t.Errorf("without --prune: %d services, %s", len(f.Services), actions(changes))
	}
	changes, err = Apply(ctx, f, smaller, Options{Prune: true})
	if err != nil {
		t.Fatal(err)
	}
	if len(f.Services) != 1 || actions(changes) != "demo_model_server unchanged, demo_proxy removed" {
		t.Errorf("with --prune: %d services, %s", len(f.Services), actions(changes))
	}
}

func TestApplyExternalNetworkMustExist(t *testing.T) {
	s := testSpec("api:1", "x")
	s.Networks = append(s.Networks, NetworkSpec{Name: "shared", External: true})
	_, err := Apply(context.Background(), dockertest.New(), s, Options{})
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

func TestDeployWithNoInitRefusesWithoutASwarm(t *testing.T) {
	f := dockertest.New()
	f.SystemInfo.Swarm.LocalNodeState = swarm.LocalNodeStateInactive
	plan := &Plan{Name: "demo", Spec: testSpec("api:1", "x")}
	_, err := Stack(context.Background(), f, plan, StackOptions{Init: false})
	if !errors.Is(err, docker.ErrNoSwarm) || !strings.Contains(err.Error(), "docker swarm init") || len(f.Calls) != 0 {
		t.Errorf("err = %v, calls %v; want ErrNoSwarm and nothing done", err, f.Calls)
	}
}

func TestParseScaleValidatesEveryArgumentFirst(t *testing.T) {
	ctx := context.Background()
	f := dockertest.New()
	if _, err := Apply(ctx, f, testSpec("api:1", "x"), Options{}); err != nil {
		t.Fatal(err)
	}
	bad := map[string]string{
		"model_server=-1":  "whole number of 0 or more",
		"model_server=abc": "whole number of 0 or more",
		"model_server":     "SERVICE=REPLICAS",
		"=3":               "SERVICE=REPLICAS",
		"web=3":            `no service "web": it has model_server, proxy`,
	}
	for arg, want := range bad {
		_, err := parseScale(ctx, f, "demo", []string{"model_server=5", arg})
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: %v, want an error containing %q", arg, err, want)
		}
	}
	targets, err := parseScale(ctx, f, "demo", []string{"model_server=6", "demo_proxy=1"})
	if err != nil {
		t.Fatal(err)
	}
	f.Calls = nil
	if err := Scale(ctx, f, targets, true, WaitOptions{}); err != nil {
		t.Fatal(err)
	}
	svc, _, _ := f.ServiceInspectWithRaw(ctx, "demo_model_server", swarm.ServiceInspectOptions{})
	if *svc.Spec.Mode.Replicated.Replicas != 6 {
		t.Errorf("replicas = %d, want 6", *svc.Spec.Mode.Replicated.Replicas)
	}
	if _, err := parseScale(ctx, f, "absent", []string{"model_server=2"}); err == nil || !strings.Contains(err.Error(), "not deployed") {
		t.Errorf("scaling a stack that is not deployed: %v", err)
	}
}

// task is one replica of svc, on the spec svc has now.
func task(svc swarm.Service, slot int, desired, state swarm.TaskState, errText string) swarm.Task {
	return swarm.Task{ID: fmt.Sprintf("%s-%d-%s", svc.ID, slot, state), ServiceID: svc.ID, Slot: slot, DesiredState: desired,
		Spec: svc.Spec.TaskTemplate, Status: swarm.TaskStatus{State: state, Err: errText}}
}

func deployed(t *testing.T, f *dockertest.Engine, image string) (swarm.Service, []Change) {
	t.Helper()
	changes, err := Apply(context.Background(), f, testSpec(image, "x"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	svc, _, _ := f.ServiceInspectWithRaw(context.Background(), "demo_model_server", swarm.ServiceInspectOptions{})
	return svc, changes
}

func waitFor(f *dockertest.Engine, c Change, timeout time.Duration, out io.Writer) error {
	return Wait(context.Background(), f, []WaitTarget{{Service: c.Service, SpecHash: c.SpecHash}},
		WaitOptions{Timeout: timeout, Interval: time.Millisecond, Out: out, Prefix: "demo_"})
}

func TestWaitConvergesAndReportsProgress(t *testing.T) {
	f := dockertest.New()
	api, changes := deployed(t, f, "api:1")
	f.Tasks = []swarm.Task{
		task(api, 1, swarm.TaskStateRunning, swarm.TaskStateRunning, ""),
		task(api, 2, swarm.TaskStateRunning, swarm.TaskStateRunning, ""),
		task(api, 3, swarm.TaskStateRunning, swarm.TaskStateRunning, ""),
		task(api, 3, swarm.TaskStateShutdown, swarm.TaskStateFailed, "old failure"),
	}
	var out strings.Builder
	if err := waitFor(f, changes[0], time.Second, &out); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(out.String(), "model_server") || !strings.Contains(out.String(), "3/3") {
		t.Errorf("progress %q", out.String())
	}
}

// Right after an update, the old replicas still run and Swarm may not have begun replacing
// them: they must not count.
func TestWaitIgnoresReplicasOfTheOldSpec(t *testing.T) {
	f := dockertest.New()
	old, _ := deployed(t, f, "api:1")
	_, changes := deployed(t, f, "api:2")
	f.Tasks = []swarm.Task{
		task(old, 1, swarm.TaskStateRunning, swarm.TaskStateRunning, ""),
		task(old, 2, swarm.TaskStateRunning, swarm.TaskStateRunning, ""),
		task(old, 3, swarm.TaskStateRunning, swarm.TaskStateRunning, ""),
	}
	err := waitFor(f, changes[0], 30*time.Millisecond, nil)
	if err == nil || !strings.Contains(err.Error(), "0/3 ready") {
		t.Errorf("err = %v, want a timeout with 0/3 ready", err)
	}
}

func TestWaitWaitsForTheUpdateToFinish(t *testing.T) {
	f := dockertest.New()
	api, changes := deployed(t, f, "api:1")
	api.UpdateStatus = &swarm.UpdateStatus{State: swarm.UpdateStateUpdating}
	api.Spec.UpdateConfig = &swarm.UpdateConfig{Monitor: 30 * time.Second}
	f.Services[api.ID] = api
	for slot := 1; slot <= 3; slot++ {
		f.Tasks = append(f.Tasks, task(api, slot, swarm.TaskStateRunning, swarm.TaskStateRunning, ""))
	}
	var out strings.Builder
	err := waitFor(f, changes[0], 30*time.Millisecond, &out)
	if err == nil || !strings.Contains(out.String(), "Swarm watches them for 30s") {
		t.Errorf("err = %v, progress %q: want a timeout while Swarm still watches the new replicas", err, out.String())
	}
}

func TestWaitTimesOutWithTheTaskError(t *testing.T) {
	f := dockertest.New()
	api, changes := deployed(t, f, "api:1")
	f.Tasks = []swarm.Task{task(api, 1, swarm.TaskStateRunning, swarm.TaskStateStarting, "container is unhealthy")}
	var out strings.Builder
	err := waitFor(f, changes[0], 50*time.Millisecond, &out)
	if err == nil || !strings.Contains(err.Error(), "0/3") || !strings.Contains(err.Error(), "container is unhealthy") || !strings.Contains(err.Error(), "--timeout") {
		t.Errorf("err = %v", err)
	}
	if !strings.Contains(out.String(), "(1 starting)") {
		t.Errorf("progress %q, want the starting replica shown", out.String())
	}
}

func TestWaitReportsARollback(t *testing.T) {
	f := dockertest.New()
	_, _ = deployed(t, f, "api:1")
	before, _, _ := f.ServiceInspectWithRaw(context.Background(), "demo_model_server", swarm.ServiceInspectOptions{})
	svc, changes := deployed(t, f, "api:2")
	// What Swarm does when the new tasks fail: it puts the previous spec back.
	svc.Spec = before.Spec
	svc.UpdateStatus = &swarm.UpdateStatus{State: swarm.UpdateStateRollbackCompleted, Message: "rollback completed"}
	f.Services[svc.ID] = svc
	f.Tasks = []swarm.Task{task(svc, 1, swarm.TaskStateShutdown, swarm.TaskStateFailed, "container is unhealthy")}
	err := waitFor(f, changes[0], time.Second, nil)
	if !errors.Is(err, ErrRolledBack) || !strings.Contains(err.Error(), "rscale logs model_server") || !strings.Contains(err.Error(), "container is unhealthy") {
		t.Errorf("err = %v, want ErrRolledBack with the reason and a hint", err)
	}
}

func TestWaitStopsWhenTheImageCannotBePulled(t *testing.T) {
	f := dockertest.New()
	api, changes := deployed(t, f, "traefik:v3.7.3")
	f.Tasks = []swarm.Task{
		task(api, 1, swarm.TaskStateShutdown, swarm.TaskStateRejected, "No such image: traefik:v3.7.3"),
		task(api, 1, swarm.TaskStateRunning, swarm.TaskStateRejected, "No such image: traefik:v3.7.3"),
	}
	err := waitFor(f, changes[0], time.Minute, nil)
	if err == nil || !strings.Contains(err.Error(), "No such image: traefik:v3.7.3") || !strings.Contains(err.Error(), "docker load") {
		t.Errorf("err = %v, want the image error at once, with what to do", err)
	}
}

// A rollback left over from an earlier deploy is not this deploy's failure.
func TestWaitIgnoresAnEarlierRollback(t *testing.T) {
	f := dockertest.New()
	svc, changes := deployed(t, f, "api:1")
	svc.UpdateStatus = &swarm.UpdateStatus{State: swarm.UpdateStateRollbackCompleted}
	f.Services[svc.ID] = svc
	for slot := 1; slot <= 3; slot++ {
		f.Tasks = append(f.Tasks, task(svc, slot, swarm.TaskStateRunning, swarm.TaskStateRunning, ""))
	}
	if err := waitFor(f, changes[0], time.Second, nil); err != nil {
		t.Errorf("err = %v", err)
	}
}

func TestRedeployKeepsTheReplicasScaleSet(t *testing.T) {
	ctx := context.Background()
	f := dockertest.New()
	deployed(t, f, "api:1")
	targets, err := parseScale(ctx, f, "demo", []string{"model_server=10"})
	if err != nil {
		t.Fatal(err)
	}
	if err := Scale(ctx, f, targets, true, WaitOptions{}); err != nil {
		t.Fatal(err)
	}
	replicasNow := func() uint64 {
		svc, _, _ := f.ServiceInspectWithRaw(ctx, "demo_model_server", swarm.ServiceInspectOptions{})
		return *svc.Spec.Mode.Replicated.Replicas
	}
	var out strings.Builder
	if _, err := Apply(ctx, f, testSpec("api:2", "x"), Options{Out: &out}); err != nil {
		t.Fatal(err)
	}
	if n := replicasNow(); n != 10 || !strings.Contains(out.String(), "keeps its 10 replicas") {
		t.Errorf("new code after scale: %d replicas, output %q; want the 10 that scale set, and a note", n, out.String())
	}
	// The file now asks for another number: the file wins.
	more := testSpec("api:2", "x")
	more.Services[0].Mode = replicas(4)
	if _, err := Apply(ctx, f, more, Options{}); err != nil {
		t.Fatal(err)
	}
	if n := replicasNow(); n != 4 {
		t.Errorf("after the file changed its replicas: %d, want 4", n)
	}
}

func TestRemove(t *testing.T) {
	ctx := context.Background()
	f := dockertest.New()
	if _, err := Apply(ctx, f, testSpec("api:1", "x"), Options{}); err != nil {
		t.Fatal(err)
	}
	var out strings.Builder
	removed, err := Remove(ctx, f, "demo", &out, time.Second)
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
	if removed, err := Remove(ctx, f, "demo", nil, time.Second); err != nil || removed {
		t.Errorf("second Remove = %v, %v; want nothing removed", removed, err)
	}
}

func TestRemoveWaitsForTheReplicasToStop(t *testing.T) {
	ctx := context.Background()
	f := dockertest.New()
	api, _ := deployed(t, f, "api:1")
	f.Tasks = []swarm.Task{task(api, 1, swarm.TaskStateShutdown, swarm.TaskStateRunning, "")}
	if _, err := Remove(ctx, f, "demo", nil, 50*time.Millisecond); err == nil || !strings.Contains(err.Error(), "still stopping") {
		t.Errorf("a replica still running: %v", err)
	}
	if len(f.Networks) != 1 {
		t.Errorf("the network was removed while a replica still ran")
	}
	f.Tasks[0].Status.State = swarm.TaskStateShutdown
	if removed, err := Remove(ctx, f, "demo", nil, time.Second); err != nil || !removed {
		t.Errorf("once stopped: %v, %v", removed, err)
	}
	if len(f.Networks)+len(f.Configs) != 0 {
		t.Errorf("left %v %v", f.Networks, f.Configs)
	}
}

// Many replicas start a few at a time: all at once, R processes on a few cores fail their
// health checks while they start, and restart without end.
func TestDeployAndScaleAddReplicasInBatches(t *testing.T) {
	ctx := context.Background()
	f := dockertest.New()
	f.Converge = true
	changes, err := Apply(ctx, f, testSpec("api:1", "x"), Options{Ramp: &Ramp{Window: 2}})
	if err != nil {
		t.Fatal(err)
	}
	svc, _, _ := f.ServiceInspectWithRaw(ctx, "demo_model_server", swarm.ServiceInspectOptions{})
	if *svc.Spec.Mode.Replicated.Replicas != 2 || changes[0].Replicas != 3 {
		t.Fatalf("created with %d replicas, change %+v; want 2 now on the way to 3", *svc.Spec.Mode.Replicated.Replicas, changes[0])
	}
	var out strings.Builder
	err = Wait(ctx, f, []WaitTarget{{Service: changes[0].Service, SpecHash: changes[0].SpecHash, Replicas: changes[0].Replicas}},
		WaitOptions{Timeout: time.Second, Interval: time.Millisecond, Out: &out, Prefix: "demo_", Ramp: &Ramp{Window: 2}})
	if err != nil {
		t.Fatal(err)
	}
	if svc, _, _ = f.ServiceInspectWithRaw(ctx, "demo_model_server", swarm.ServiceInspectOptions{}); *svc.Spec.Mode.Replicated.Replicas != 3 {
		t.Errorf("after the wait: %d replicas, want 3", *svc.Spec.Mode.Replicated.Replicas)
	}
	if !strings.Contains(out.String(), "on the way to 3, at most 2 starting at a time") {
		t.Errorf("progress %q", out.String())
	}

	targets, err := parseScale(ctx, f, "demo", []string{"model_server=10"})
	if err != nil {
		t.Fatal(err)
	}
	f.Calls = nil
	if err := Scale(ctx, f, targets, false, WaitOptions{Timeout: time.Second, Interval: time.Millisecond, Ramp: &Ramp{Window: 4}}); err != nil {
		t.Fatal(err)
	}
	if want := []string{"update demo_model_server to 7", "update demo_model_server to 10"}; !reflect.DeepEqual(f.Calls, want) {
		t.Errorf("scaling 3 → 10 four at a time: %v, want %v", f.Calls, want)
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

func TestURLs(t *testing.T) {
	if got := URLs(testSpec("api:1", "x")); !reflect.DeepEqual(got, []string{"http://localhost:8080/"}) {
		t.Errorf("URLs = %v", got)
	}
}

func parseScale(ctx context.Context, api docker.API, namespace string, args []string) ([]ScaleTarget, error) {
	parsed, err := backend.ParseScaleArgs(args)
	if err != nil {
		return nil, err
	}
	return ResolveScale(ctx, api, namespace, parsed)
}

// A missing external network is found before the image is built or anything created.
func TestDeployRefusesAMissingExternalNetworkFirst(t *testing.T) {
	f := dockertest.New()
	spec := testSpec("api:1", "x")
	spec.Networks = append(spec.Networks, NetworkSpec{Name: "shared", External: true})
	_, err := Stack(context.Background(), f, &Plan{Name: "demo", Spec: spec}, StackOptions{Build: true, Init: true})
	if err == nil || !strings.Contains(err.Error(), "network shared is declared external but does not exist") || len(f.Calls) != 0 {
		t.Errorf("err = %v, calls %v; want the missing network named and nothing done", err, f.Calls)
	}
}
