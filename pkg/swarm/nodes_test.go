package swarm

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/docker/docker/api/types/swarm"

	"github.com/rscale/rscale/pkg/docker/dockertest"
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

// The built image goes to REGISTRY/<stack>/<service>:<tag>, and the service runs it by digest.
func TestPushedImagesArePinnedByDigest(t *testing.T) {
	t.Setenv("DOCKER_CONFIG", t.TempDir())
	f := dockertest.New()
	var progress strings.Builder
	refs, err := pushImages(context.Background(), f, "10.0.0.5:5000", "demo", map[string]string{"model_server": "demo/model_server:rscale-abc"}, &progress)
	if err != nil {
		t.Fatal(err)
	}
	remote := "10.0.0.5:5000/demo/model_server:rscale-abc"
	if !strings.HasPrefix(refs["model_server"], remote+"@sha256:") {
		t.Errorf("pushed %v, want %s pinned by digest", refs, remote)
	}
	if strings.Join(f.Calls, ";") != "tag "+remote+";push "+remote {
		t.Errorf("calls: %v", f.Calls)
	}
	spec := testSpec("demo/model_server:latest", "x")
	pinImages(spec, "demo", refs)
	if got := spec.Services[0].TaskTemplate.ContainerSpec.Image; got != refs["model_server"] {
		t.Errorf("the service runs %s", got)
	}
	if !strings.Contains(progress.String(), "Pushed "+refs["model_server"]) {
		t.Errorf("progress: %s", progress.String())
	}
}

// Deploy with a registry: build, push, then the services, which run the pushed image by
// digest. A refused push changes no service, and says what to do.
func TestDeployThroughARegistry(t *testing.T) {
	t.Setenv("DOCKER_CONFIG", t.TempDir())
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "Dockerfile"), []byte("FROM scratch\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(dir, "rscale.yml")
	if err := os.WriteFile(file, []byte("x-rscale:\n  stack: demo\n  registry: reg.example.com:5000\nservices:\n  api:\n    image: demo/api:latest\n    build: .\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	p, name, err := stack.Open(context.Background(), file, "")
	if err != nil {
		t.Fatal(err)
	}
	plan, err := NewPlan(p, name)
	if err != nil {
		t.Fatal(err)
	}

	f := dockertest.New()
	threeNodes(f)
	f.PushRefused = "unauthorized: authentication required"
	_, err = Stack(context.Background(), f, plan, StackOptions{Build: true, Detach: true})
	if err == nil || !strings.Contains(err.Error(), "unauthorized: authentication required") || !strings.Contains(err.Error(), "docker login reg.example.com:5000") {
		t.Errorf("a refused push: %v", err)
	}
	for _, c := range f.Calls {
		if strings.HasPrefix(c, "create") || strings.HasPrefix(c, "update") {
			t.Errorf("a refused push still did %q", c)
		}
	}

	f.PushRefused, f.Calls = "", nil
	if _, err := Stack(context.Background(), f, plan, StackOptions{Build: true, Detach: true}); err != nil {
		t.Fatal(err)
	}
	svc, _, err := f.ServiceInspectWithRaw(context.Background(), "demo_api", swarm.ServiceInspectOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if image := svc.Spec.TaskTemplate.ContainerSpec.Image; !strings.HasPrefix(image, "reg.example.com:5000/demo/api:rscale-") || !strings.Contains(image, "@sha256:") {
		t.Errorf("the service runs %s, want the pushed image pinned by digest", image)
	}

	// --registry wins over the file's; without any, three nodes refuse before any build.
	f.Calls = nil
	if _, err := Stack(context.Background(), f, plan, StackOptions{Build: true, Detach: true, Registry: "other.example.com"}); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(strings.Join(f.Calls, ";"), "push other.example.com/demo/api:rscale-") {
		t.Errorf("--registry other.example.com: calls %v", f.Calls)
	}
	plan.Project.Extensions = nil
	f.Calls = nil
	if _, err := Stack(context.Background(), f, plan, StackOptions{Build: true, Detach: true}); err == nil || !strings.Contains(err.Error(), "--registry") || len(f.Calls) != 0 {
		t.Errorf("no registry on 3 nodes: %v, calls %v", err, f.Calls)
	}
}

// A node killed outright cannot report its tasks' end: once Swarm finds it down, its
// replicas no longer count as running, and ps names the nodes in use.
func TestTasksOnDownNodesDoNotCount(t *testing.T) {
	f := dockertest.New()
	threeNodes(f)
	api, changes := deployed(t, f, "api:1")
	onNode := func(tk swarm.Task, node string) swarm.Task { tk.NodeID = node; return tk }
	f.Tasks = []swarm.Task{
		onNode(task(api, 1, swarm.TaskStateRunning, swarm.TaskStateRunning, ""), "n1"),
		onNode(task(api, 2, swarm.TaskStateRunning, swarm.TaskStateRunning, ""), "n2"),
		onNode(task(api, 3, swarm.TaskStateRunning, swarm.TaskStateRunning, ""), "n3"),
	}
	statuses, err := Statuses(context.Background(), f, []string{changes[0].Service})
	if err != nil || statuses[0].Running != 3 || statuses[0].Ready != 3 {
		t.Fatalf("3 nodes up: %+v %v", statuses, err)
	}
	infos, err := Describe(context.Background(), f, "demo")
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
	statuses, err = Statuses(context.Background(), f, []string{changes[0].Service})
	if err != nil || statuses[0].Running != 2 || statuses[0].Ready != 2 || statuses[0].converged() {
		t.Errorf("a node down: %+v %v", statuses, err)
	}
	infos, _ = Describe(context.Background(), f, "demo")
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
