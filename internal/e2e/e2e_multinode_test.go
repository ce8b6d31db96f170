package e2e

// End-to-end tests on a real three-node swarm with an image registry (internal/harness/multinode):
// rscale runs in-process against the manager (DOCKER_HOST), builds there, pushes to the
// registry, and the workers pull from it. Requests reach the proxy, published on the
// manager, from the bridge's network namespace.

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/filters"
	"github.com/docker/docker/api/types/image"
	"github.com/docker/docker/api/types/swarm"
	"github.com/docker/docker/client"

	"github.com/rscale/rscale/internal/harness/multinode"
	"github.com/rscale/rscale/internal/testenv"
)

// mnProject is a project deployed on the multi-node swarm, with its proxy on the manager.
type mnProject struct {
	testenv.Project
	m *multinode.Swarm
}

func (p mnProject) URL(path string) string {
	return fmt.Sprintf("http://%s:%d%s", p.m.Addr(1), p.Port, path)
}

func (p mnProject) get(path string) (testenv.Response, error) {
	return p.do("GET", path, "", "")
}

func (p mnProject) do(method, path, contentType, body string) (testenv.Response, error) {
	req, err := http.NewRequest(method, p.URL(path), strings.NewReader(body))
	if err != nil {
		return testenv.Response{}, err
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	resp, err := p.m.HTTP.Do(req)
	if err != nil {
		return testenv.Response{}, err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	return testenv.Response{Status: resp.StatusCode, ContentType: resp.Header.Get("Content-Type"), Body: data}, err
}

// served waits until the proxy answers path with 200.
func (p mnProject) served(t *testing.T, path string) testenv.Response {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for {
		r, err := p.get(path)
		if err == nil && r.Status == http.StatusOK {
			return r
		}
		if time.Now().After(deadline) {
			t.Fatalf("GET %s: %v %d %s", path, err, r.Status, r.Body)
		}
		time.Sleep(250 * time.Millisecond)
	}
}

// proxyServersUp waits until HAProxy's statistics (--dashboard, on the manager) show n replicas up.
func (p mnProject) proxyServersUp(t *testing.T, n int) {
	t.Helper()
	testenv.WaitServersUp(t, n, p.m.HTTP, fmt.Sprintf("http://%s:8404/;csv", p.m.Addr(1)))
}

// psInfo is what rscale ps -o json says of one service.
type psInfo struct {
	Name                      string
	Desired, Running, Healthy int
	Image                     string
	Nodes                     []string
	Tasks                     []struct{ Name, State, Desired, Node string }
}

func mnPs(t *testing.T, p mnProject) map[string]psInfo {
	t.Helper()
	var infos []psInfo
	if err := json.Unmarshal([]byte(testenv.MustRscale(t, "ps", p.Dir, "--tasks", "-o", "json").Stdout), &infos); err != nil {
		t.Fatal(err)
	}
	out := map[string]psInfo{}
	for _, i := range infos {
		out[strings.TrimPrefix(i.Name, p.Stack+"_")] = i
	}
	return out
}

// runningNodes counts the service's running tasks per node host name, on nodes that are up.
func runningNodes(t *testing.T, m *multinode.Swarm, service string) map[string]int {
	t.Helper()
	ctx := context.Background()
	nodes, err := m.Manager.NodeList(ctx, swarm.NodeListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	names := map[string]string{}
	for _, n := range nodes {
		if n.Status.State == swarm.NodeStateReady {
			names[n.ID] = n.Description.Hostname
		}
	}
	tasks, err := m.Manager.TaskList(ctx, swarm.TaskListOptions{Filters: filters.NewArgs(
		filters.Arg("service", service), filters.Arg("desired-state", "running"))})
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]int{}
	for _, task := range tasks {
		if name, ok := names[task.NodeID]; ok && task.Status.State == swarm.TaskStateRunning {
			out[name]++
		}
	}
	return out
}

// sequentialLoad sends GET path one request after another until stop is closed, and
// returns how many were sent and which failed.
func sequentialLoad(p mnProject, path string, stop <-chan struct{}) (sent *atomic.Int64, failed func() []string, done <-chan struct{}) {
	sent = new(atomic.Int64)
	var (
		mu       sync.Mutex
		failures []string
	)
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		for {
			select {
			case <-stop:
				return
			default:
			}
			began := time.Now()
			r, err := p.get(path)
			sent.Add(1)
			if err != nil || r.Status != http.StatusOK {
				mu.Lock()
				failures = append(failures, fmt.Sprintf("%s at %s (took %s): %v %d %s", path, began.Format("15:04:05.000"), time.Since(began).Round(time.Millisecond), err, r.Status, bytes.TrimSpace(r.Body)))
				mu.Unlock()
			}
		}
	}()
	return sent, func() []string {
		mu.Lock()
		defer mu.Unlock()
		return slices.Clone(failures)
	}, finished
}

// The seed's API on a real three-node swarm, through a registry: deployed on 3 replicas over
// several nodes, refused without a registry, scaled to 6, updated under load, a worker lost
// under load, removed; and the swarm itself leaves nothing behind.
func TestE2EMultinode(t *testing.T) {
	testenv.NeedEngine(t) // the test images, on the main engine, to copy to the manager
	began := time.Now()
	m := multinode.Start(t, testenv.RImage, testenv.HAProxyImage)
	t.Setenv("DOCKER_HOST", m.Host(1))

	p := mnProject{testenv.SetupProject(t, "echo", "rscale-e2e-mn-echo", true, "--replicas", "3", "--dashboard"), m}
	// One-second requests, for the concurrency and node-loss checks; HAProxy routes every path.
	p.Edit(t, "plumber.R", "#* Plot a histogram", "#* @get /sleep\nfunction(seconds = 1) {\n  Sys.sleep(as.numeric(seconds))\n  list(host = Sys.info()[[\"nodename\"]])\n}\n\n#* Plot a histogram")
	service := p.Stack + "_model_server"

	t.Run("deploy through the registry", func(t *testing.T) {
		r := testenv.MustRscale(t, "deploy", p.Dir, "--registry", multinode.Registry)
		for _, want := range []string{"Pushing " + multinode.Registry + "/" + p.Stack + "/model_server:rscale-", "Pushed " + multinode.Registry + "/"} {
			if !strings.Contains(r.Stderr, want) {
				t.Errorf("deploy does not show %q:\n%s", want, r.Stderr)
			}
		}
		svc, _, err := m.Manager.ServiceInspectWithRaw(context.Background(), service, swarm.ServiceInspectOptions{})
		if err != nil {
			t.Fatal(err)
		}
		ref := svc.Spec.TaskTemplate.ContainerSpec.Image
		if !strings.HasPrefix(ref, multinode.Registry+"/"+p.Stack+"/model_server:rscale-") || !strings.Contains(ref, "@sha256:") {
			t.Fatalf("the service runs %q, want the pushed image pinned by digest", ref)
		}
		nodes := runningNodes(t, m, service)
		if len(nodes) < 2 {
			t.Errorf("3 replicas run on %v, want at least two nodes", nodes)
		}
		// Every worker running a replica pulled the image from the registry: the engine
		// records the digest it pulled.
		repo, digest := ref[:strings.LastIndex(ref, ":rscale-")], ref[strings.Index(ref, "@")+1:]
		for i := 2; i <= 3; i++ {
			if nodes[fmt.Sprintf("rsmn%d", i)] == 0 {
				continue
			}
			images, err := m.Nodes[i-1].ImageList(context.Background(), image.ListOptions{})
			if err != nil {
				t.Fatal(err)
			}
			pulled := false
			for _, img := range images {
				pulled = pulled || slices.Contains(img.RepoDigests, repo+"@"+digest)
			}
			if !pulled {
				t.Errorf("worker rsmn%d runs a replica but has no image pulled as %s@%s", i, repo, digest)
			}
		}

		if r := p.served(t, "/echo?msg=hi"); string(r.Body) != `{"msg":["The message is: 'hi'"]}` {
			t.Errorf("/echo answered %s", r.Body)
		}
		if r := p.served(t, "/plot"); r.ContentType != "image/png" || !bytes.HasPrefix(r.Body, []byte("\x89PNG")) {
			t.Errorf("/plot answered %s with %d bytes, want a PNG", r.ContentType, len(r.Body))
		}
		if r, err := p.do("POST", "/sum", "application/json", `{"a":1,"b":2}`); err != nil || r.Status != 200 || string(r.Body) != "[3]" {
			t.Errorf("POST /sum answered %v %d %s, want [3]", err, r.Status, r.Body)
		}

		ps := mnPs(t, p)
		api, proxy := ps["model_server"], ps["proxy"]
		if api.Running != 3 || api.Healthy != 3 || len(api.Nodes) < 2 {
			t.Errorf("ps: model_server %+v, want 3 running and healthy on at least 2 nodes", api)
		}
		if !slices.Equal(proxy.Nodes, []string{"rsmn1"}) {
			t.Errorf("ps: the proxy runs on %v, want the manager rsmn1", proxy.Nodes)
		}
		for _, task := range api.Tasks {
			if task.Desired == "running" && !strings.HasPrefix(task.Node, "rsmn") {
				t.Errorf("ps --tasks shows replica %s on %q, want a node's host name", task.Name, task.Node)
			}
		}
		table := testenv.MustRscale(t, "ps", p.Dir, "--tasks").Stdout
		for _, want := range []string{"NODES", "NODE", "rsmn1"} {
			if !strings.Contains(table, want) {
				t.Errorf("ps --tasks does not show %q:\n%s", want, table)
			}
		}
	})

	t.Run("no registry, no half-deploy", func(t *testing.T) {
		q := mnProject{testenv.SetupProject(t, "echo", "rscale-e2e-mn-noreg", true, "--replicas", "2"), m}
		r := testenv.Rscale(t, "deploy", q.Dir)
		if r.Code == 0 {
			t.Fatal("deploying to 3 nodes without a registry succeeded")
		}
		for _, want := range []string{"--registry", "node.role == manager", "3 nodes"} {
			if !strings.Contains(r.Stderr, want) {
				t.Errorf("the refusal does not say %q:\n%s", want, r.Stderr)
			}
		}
		if left := byLabel(t, m.Manager, q.Stack); len(left) != 0 {
			t.Errorf("a refused deploy left %v", left)
		}

		// Pinned to the manager on purpose: allowed, and every replica runs there.
		q.Edit(t, "rscale.yml", "      endpoint_mode: dnsrr\n", "      endpoint_mode: dnsrr\n      placement:\n        constraints:\n          - node.role == manager\n")
		testenv.MustRscale(t, "deploy", q.Dir)
		if nodes := runningNodes(t, m, q.Stack+"_model_server"); len(nodes) != 1 || nodes["rsmn1"] != 2 {
			t.Errorf("pinned to the manager, the replicas run on %v", nodes)
		}
		testenv.MustRscale(t, "down", q.Dir)
	})

	t.Run("rolling update across nodes under load", func(t *testing.T) {
		p.Edit(t, "plumber.R", "The message is", "The new message is")
		stop := make(chan struct{})
		sent, failed, done := sequentialLoad(p, "/echo?msg=hi", stop)
		testenv.MustRscale(t, "deploy", p.Dir, "--registry", multinode.Registry)
		close(stop)
		<-done
		if f := failed(); len(f) != 0 {
			t.Errorf("%d of %d requests failed during the rolling update:\n%s", len(f), sent.Load(), strings.Join(f, "\n"))
		}
		t.Logf("rolling update of 3 replicas across nodes: %d requests, 0 failed", sent.Load())
		if r := p.served(t, "/echo?msg=hi"); string(r.Body) != `{"msg":["The new message is: 'hi'"]}` {
			t.Errorf("after the update /echo answered %s", r.Body)
		}
		if nodes := runningNodes(t, m, service); len(nodes) < 2 {
			t.Errorf("after the update the replicas run on %v, want at least two nodes", nodes)
		}
	})

	t.Run("scale to 6", func(t *testing.T) {
		testenv.MustRscale(t, "scale", "model_server=6", "--dir", p.Dir)
		p.proxyServersUp(t, 6)
		if nodes := runningNodes(t, m, service); len(nodes) != 3 {
			t.Errorf("6 replicas run on %v, want all three nodes", nodes)
		}
		var wg sync.WaitGroup
		hosts := make([]string, 6)
		start := time.Now()
		for i := range hosts {
			wg.Add(1)
			go func() {
				defer wg.Done()
				r, err := p.get("/sleep?seconds=1")
				var body struct{ Host []string }
				if err != nil || r.Status != 200 || json.Unmarshal(r.Body, &body) != nil || len(body.Host) != 1 {
					t.Errorf("/sleep: %v %d %s", err, r.Status, r.Body)
					return
				}
				hosts[i] = body.Host[0]
			}()
		}
		wg.Wait()
		took := time.Since(start)
		slices.Sort(hosts)
		t.Logf("6 one-second requests at once took %s, on %d replicas", took, len(slices.Compact(hosts)))
		if took > 1800*time.Millisecond {
			t.Errorf("6 one-second requests on 6 replicas took %s, want under 1.8 s", took)
		}
	})

	t.Run("a worker dies under load", func(t *testing.T) {
		nodes := runningNodes(t, m, service)
		victim := 2
		if nodes["rsmn3"] > nodes["rsmn2"] {
			victim = 3
		}
		if nodes[fmt.Sprintf("rsmn%d", victim)] == 0 {
			t.Fatalf("no replica on a worker to lose: %v", nodes)
		}
		stop := make(chan struct{})
		sent, failed, done := sequentialLoad(p, "/sleep?seconds=0.2", stop)
		time.Sleep(2 * time.Second)
		before := sent.Load()
		killed := time.Now()
		if err := syscall.Kill(m.DockerdPID(t, victim), syscall.SIGKILL); err != nil {
			t.Fatal(err)
		}
		// A dockerd killed leaves its containers running, still serving; a machine lost
		// takes them along. Both at once: what runs in the node's cgroup goes too.
		replicas := m.KillContainers(t, victim)
		t.Logf("killed the dockerd of rsmn%d and its %d container processes (%d replicas of %v), after %d requests", victim, replicas, nodes[fmt.Sprintf("rsmn%d", victim)], nodes, before)

		// Back to 6 replicas on the surviving nodes, as rscale counts them.
		deadline := time.Now().Add(2 * time.Minute)
		for {
			ps := mnPs(t, p)["model_server"]
			onVictim := false
			for _, task := range ps.Tasks {
				onVictim = onVictim || (task.Desired == "running" && task.Node == fmt.Sprintf("rsmn%d", victim))
			}
			if ps.Running == 6 && ps.Healthy == 6 && !onVictim && !slices.Contains(ps.Nodes, fmt.Sprintf("rsmn%d", victim)) {
				t.Logf("6 replicas healthy on %v %s after the kill", ps.Nodes, time.Since(killed).Round(time.Second))
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("2 minutes after the kill, rscale ps shows %+v", ps)
			}
			time.Sleep(time.Second)
		}
		if n := runningNodes(t, m, service); n["rsmn1"]+n[fmt.Sprintf("rsmn%d", 5-victim)] != 6 {
			t.Errorf("after the kill the replicas run on %v, want 6 on the two surviving nodes", n)
		}
		p.proxyServersUp(t, 6)
		time.Sleep(2 * time.Second)
		close(stop)
		<-done
		// One client, one request at a time: at most the one in flight when the node died
		// may fail; the proxy retries failed connections on another replica.
		f := failed()
		t.Logf("%d requests while a worker died and its replicas moved, %d failed:\n%s", sent.Load(), len(f), strings.Join(f, "\n"))
		if len(f) > 1 {
			t.Errorf("%d of %d requests failed; at most the one in flight on the lost node may", len(f), sent.Load())
		}
	})

	t.Run("down", func(t *testing.T) {
		testenv.MustRscale(t, "down", p.Dir)
		if left := byLabel(t, m.Manager, p.Stack); len(left) != 0 {
			t.Errorf("down left %v", left)
		}
		// The nodes still up run none of the stack's containers.
		for i, c := range m.Nodes {
			if _, err := c.Ping(context.Background()); err != nil {
				continue // the killed worker
			}
			// Swarm's task reaper removes the stopped containers a moment later.
			waitFor(t, fmt.Sprintf("node rsmn%d to hold none of the stack's containers", i+1), func() bool {
				left := stackContainers(t, c, p.Stack)
				if len(left) > 0 {
					t.Logf("rsmn%d still has %v", i+1, left)
				}
				return len(left) == 0
			})
		}
	})
	t.Logf("the multi-node tests took %s before the harness's teardown", time.Since(began).Round(time.Second))
}

func stackContainers(t *testing.T, c *client.Client, stack string) []string {
	t.Helper()
	list, err := c.ContainerList(context.Background(), container.ListOptions{All: true,
		Filters: filters.NewArgs(filters.Arg("label", "com.docker.stack.namespace="+stack))})
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, ctr := range list {
		names = append(names, strings.Join(ctr.Names, ",")+" "+ctr.State)
	}
	return names
}
