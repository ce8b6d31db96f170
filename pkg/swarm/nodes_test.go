package swarm

import (
	"context"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/docker/docker/api/types/swarm"

	"github.com/rscale/rscale/pkg/docker/dockertest"
	"github.com/rscale/rscale/pkg/engine"
	"github.com/rscale/rscale/pkg/stack"
)

func node(id, hostname string, role swarm.NodeRole, state swarm.NodeState) swarm.Node {
	n := swarm.Node{ID: id}
	n.Description.Hostname = hostname
	n.Spec.Role, n.Spec.Availability = role, swarm.NodeAvailabilityActive
	n.Status.State = state
	return n
}

// threeNodes is a swarm of one manager (n1, the node rscale talks to) and two workers.
func threeNodes(f *dockertest.Engine) {
	f.SystemInfo.Swarm.NodeID = "n1"
	f.Nodes = []swarm.Node{
		node("n1", "alpha", swarm.NodeRoleManager, swarm.NodeStateReady),
		node("n2", "beta", swarm.NodeRoleWorker, swarm.NodeStateReady),
		node("n3", "gamma", swarm.NodeRoleWorker, swarm.NodeStateReady),
	}
}

func TestNoRegistryOnSeveralNodesIsRefused(t *testing.T) {
	f := dockertest.New()
	threeNodes(f)
	spec := testSpec("demo/model_server:latest", "x")
	built := map[string]bool{"demo_model_server": true}
	err := checkImagesReachNodes(context.Background(), f, spec, built)
	if err == nil {
		t.Fatal("3 nodes and no registry: no error")
	}
	for _, want := range []string{"3 nodes", "demo_model_server on alpha only", "beta, gamma", "--registry", "node.role == manager"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("the error does not say %q: %v", want, err)
		}
	}

	// Pinned to the manager on purpose, or to this node by name: allowed.
	for _, pin := range []string{"node.role == manager", "node.hostname==alpha", "node.id == n1"} {
		spec.Services[0].TaskTemplate.Placement = &swarm.Placement{Constraints: []string{pin}}
		if err := checkImagesReachNodes(context.Background(), f, spec, built); err != nil {
			t.Errorf("pinned with %q: %v", pin, err)
		}
	}
	// Pinned to another node, or to a role several nodes share: refused.
	for _, pin := range []string{"node.hostname == beta", "node.role != manager"} {
		spec.Services[0].TaskTemplate.Placement = &swarm.Placement{Constraints: []string{pin}}
		if err := checkImagesReachNodes(context.Background(), f, spec, built); err == nil {
			t.Errorf("pinned with %q: no error", pin)
		}
	}
	// With two managers, node.role == manager is not enough, and the advice names this node.
	f.Nodes[1].Spec.Role = swarm.NodeRoleManager
	spec.Services[0].TaskTemplate.Placement = &swarm.Placement{Constraints: []string{"node.role == manager"}}
	if err := checkImagesReachNodes(context.Background(), f, spec, built); err == nil || !strings.Contains(err.Error(), "node.hostname == alpha") {
		t.Errorf("two managers, pinned to the managers: %v", err)
	}

	// Services rscale does not build (the proxy's image) are used as named.
	spec.Services[0].TaskTemplate.Placement = nil
	if err := checkImagesReachNodes(context.Background(), f, spec, map[string]bool{}); err != nil {
		t.Errorf("no built image: %v", err)
	}
	// A drained node gets no tasks, so a swarm with one active node needs no registry.
	f.Nodes[1].Spec.Availability, f.Nodes[2].Spec.Availability = swarm.NodeAvailabilityDrain, swarm.NodeAvailabilityDrain
	if err := checkImagesReachNodes(context.Background(), f, spec, built); err != nil {
		t.Errorf("one active node: %v", err)
	}
}

func TestMatchesConstraints(t *testing.T) {
	n := node("n2", "beta", swarm.NodeRoleWorker, swarm.NodeStateReady)
	n.Spec.Labels = map[string]string{"zone": "a"}
	n.Description.Platform.OS = "linux"
	for constraints, want := range map[string]bool{
		"":                          true,
		"node.role == worker":       true,
		"node.role==manager":        false,
		"node.hostname != beta":     false,
		"node.labels.zone == a":     true,
		"node.labels.zone == b":     false,
		"node.platform.os == Linux": true,
		"node.role == worker,node.labels.zone==b": false,
		"something.unknown == x":                  true,
	} {
		var list []string
		if constraints != "" {
			list = strings.Split(constraints, ",")
		}
		if got := matchesConstraints(n, list); got != want {
			t.Errorf("matchesConstraints(%q) = %v, want %v", constraints, got, want)
		}
	}
}

// With no registry, Prepare refuses before any build a built image that other nodes would
// not find; with one, every node pulls it, and images not built are used as named.
func TestPrepareAsksForARegistryOnSeveralNodes(t *testing.T) {
	f := dockertest.New()
	threeNodes(f)
	e := onFake(f)
	built := engine.PrepareOptions{BuiltServices: []string{"model_server"}}
	err := e.Prepare(context.Background(), testPlan("demo/model_server:latest", "x"), built)
	if err == nil || !strings.Contains(err.Error(), "--registry") || len(f.Calls) != 0 {
		t.Errorf("no registry on 3 nodes: %v, calls %v", err, f.Calls)
	}
	built.Registry = "reg.example.com:5000"
	if err := e.Prepare(context.Background(), testPlan("demo/model_server:latest", "x"), built); err != nil {
		t.Errorf("through a registry: %v", err)
	}
	if err := e.Prepare(context.Background(), testPlan("demo/model_server:latest", "x"), engine.PrepareOptions{}); err != nil {
		t.Errorf("nothing built: %v", err)
	}
}

// The pipeline's images (built, pushed, pinned by digest) are what the services run, and
// the stack label says so, as ps shows it.
func TestPlanRunsTheImagesItIsGiven(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "rscale.yml")
	if err := os.WriteFile(file, []byte("services:\n  api:\n    image: demo/api:latest\n    build: .\n  proxy:\n    image: haproxy:3\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	s, err := stack.Resolve(context.Background(), file, "demo")
	if err != nil {
		t.Fatal(err)
	}
	pinned := "reg.example.com:5000/demo/api:rscale-abc@sha256:0123"
	p, err := onFake(dockertest.New()).Plan(s, map[string]string{"api": pinned})
	if err != nil {
		t.Fatal(err)
	}
	if p.Stack() != "demo" || !reflect.DeepEqual(p.Services(), []string{"api", "proxy"}) {
		t.Errorf("plan of %s: %v", p.Stack(), p.Services())
	}
	spec := p.(*Plan).Spec
	api, proxy := service(t, spec, "demo_api"), service(t, spec, "demo_proxy")
	if api.TaskTemplate.ContainerSpec.Image != pinned || api.Labels[LabelImage] != pinned {
		t.Errorf("the API runs %s (label %s), want %s", api.TaskTemplate.ContainerSpec.Image, api.Labels[LabelImage], pinned)
	}
	if proxy.TaskTemplate.ContainerSpec.Image != "haproxy:3" {
		t.Errorf("the proxy runs %s, want the image the file names", proxy.TaskTemplate.ContainerSpec.Image)
	}

	if err := os.WriteFile(file, []byte("services:\n  api:\n    image: demo/api:latest\n    network_mode: host\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if s, err = stack.Resolve(context.Background(), file, "demo"); err != nil {
		t.Fatal(err)
	}
	// The pipeline puts the file's name before it (pkg/pipeline: TestAPlanErrorNamesTheFileOnce).
	if _, err := onFake(dockertest.New()).Plan(s, nil); err == nil || !strings.Contains(err.Error(), `network_mode "host" is not available on Swarm`) {
		t.Errorf("a stack Swarm cannot run: %v, want the error to say why", err)
	}
}

// A node killed outright cannot report its tasks' end: once Swarm finds it down, its
// replicas no longer count as running, and ps names the nodes in use.
func TestTasksOnDownNodesDoNotCount(t *testing.T) {
	f := dockertest.New()
	threeNodes(f)
	api, change := deployed(t, f, "api:1")
	e := onFake(f)
	onNode := func(tk swarm.Task, node string) swarm.Task { tk.NodeID = node; return tk }
	f.Tasks = []swarm.Task{
		onNode(task(api, 1, swarm.TaskStateRunning, swarm.TaskStateRunning, ""), "n1"),
		onNode(task(api, 2, swarm.TaskStateRunning, swarm.TaskStateRunning, ""), "n2"),
		onNode(task(api, 3, swarm.TaskStateRunning, swarm.TaskStateRunning, ""), "n3"),
	}
	if s := statusOf(t, f, change); s.Running != 3 || s.Ready != 3 || !s.Done {
		t.Fatalf("3 nodes up: %+v", s)
	}
	infos, err := e.Services(context.Background(), "demo")
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(infos[0].Nodes, ","); got != "alpha,beta,gamma" {
		t.Errorf("ps nodes: %s", got)
	}
	if infos[0].Tasks[1].Node != "beta" {
		t.Errorf("ps --tasks node of replica 2: %q, want its host name", infos[0].Tasks[1].Node)
	}

	f.Nodes[2].Status.State = swarm.NodeStateDown
	if s := statusOf(t, f, change); s.Running != 2 || s.Ready != 2 || s.Done {
		t.Errorf("a node down: %+v", s)
	}
	infos, _ = e.Services(context.Background(), "demo")
	if got := strings.Join(infos[0].Nodes, ","); got != "alpha,beta" || infos[0].Running != 2 {
		t.Errorf("a node down, ps: nodes %s, running %d", got, infos[0].Running)
	}
}

// Replicas start eight per CPU of the nodes that can take them, spread over them by Swarm;
// the CPU of this machine tells nothing of a swarm of several nodes.
func TestRampCountsTheSwarmsCPUs(t *testing.T) {
	f := dockertest.New() // 2 CPUs, no node list
	if got := NewRamp(context.Background(), f, 0).Window; got != 16 {
		t.Errorf("no node list: %d, want 8 × 2", got)
	}
	threeNodes(f)
	for i := range f.Nodes {
		f.Nodes[i].Description.Resources.NanoCPUs = 2e9
	}
	f.Nodes[2].Status.State = swarm.NodeStateDown
	r := NewRamp(context.Background(), f, 0)
	if r.Window != 32 || r.cpu != nil {
		t.Errorf("two ready nodes of 2 CPUs: window %d, CPU watched %v; want 32, not watched", r.Window, r.cpu != nil)
	}
}
