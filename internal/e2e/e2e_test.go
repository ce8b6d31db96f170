package e2e

// End-to-end tests: rscale init, build, deploy, scale, ps, logs and down against the real
// Docker engine and a real Swarm, with R and HAProxy in images built from Debian's packages
// (testdata/images/build.sh), since no image can be pulled here. They skip when no engine
// answers, and fail instead when CI is set.

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/docker/docker/api/types/filters"
	"github.com/docker/docker/api/types/network"
	"github.com/docker/docker/api/types/swarm"
	"github.com/docker/docker/client"

	"github.com/rscale/rscale/internal/testenv"
)

// byLabel lists what the engine holds for a stack: services, networks and configs.
func byLabel(t *testing.T, c *client.Client, stack string) []string {
	t.Helper()
	ctx := context.Background()
	f := filters.NewArgs(filters.Arg("label", "com.docker.stack.namespace="+stack))
	var left []string
	services, err := c.ServiceList(ctx, swarm.ServiceListOptions{Filters: f})
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range services {
		left = append(left, "service "+s.Spec.Name)
	}
	networks, err := c.NetworkList(ctx, network.ListOptions{Filters: f})
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range networks {
		left = append(left, "network "+n.Name)
	}
	configs, err := c.ConfigList(ctx, swarm.ConfigListOptions{Filters: f})
	if err != nil {
		t.Fatal(err)
	}
	for _, cfg := range configs {
		left = append(left, "config "+cfg.Spec.Name)
	}
	return left
}

func runningTaskIDs(t *testing.T, c *client.Client, service string) []string {
	t.Helper()
	tasks, err := c.TaskList(context.Background(), swarm.TaskListOptions{Filters: filters.NewArgs(
		filters.Arg("service", service), filters.Arg("desired-state", "running"))})
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, task := range tasks {
		ids = append(ids, task.ID)
	}
	slices.Sort(ids)
	return ids
}

// The seed's echo/plot/sum API, from init to down: requests through the proxy, ps, logs,
// a redeploy that changes nothing, a rolling update, a rollback, and down.
func TestE2EDeployLifecycle(t *testing.T) {
	c := testenv.NeedEngine(t)
	p := testenv.NewProject(t, "echo", "rscale-e2e-echo", "--replicas", "3")

	deployed := testenv.MustRscale(t, "deploy", p.Dir)
	if !strings.Contains(deployed.Stdout, fmt.Sprintf("http://localhost:%d/", p.Port)) {
		t.Errorf("deploy printed %q, want the proxy's URL", deployed.Stdout)
	}
	if r := testenv.Served(t, p, "/echo?msg=hi"); string(r.Body) != `{"msg":["The message is: 'hi'"]}` {
		t.Errorf("/echo answered %s", r.Body)
	}
	if r := testenv.Served(t, p, "/plot"); r.ContentType != "image/png" || !bytes.HasPrefix(r.Body, []byte("\x89PNG")) {
		t.Errorf("/plot answered %s with %d bytes, want a PNG", r.ContentType, len(r.Body))
	}
	if r, err := testenv.Request("POST", p.URL("/sum"), "application/json", `{"a":1,"b":2}`); err != nil || r.Status != 200 || string(r.Body) != "[3]" {
		t.Errorf("POST /sum answered %v %d %s, want [3]", err, r.Status, r.Body)
	}

	// A client that keeps its connection alive, as browsers do, must not meet R's 40 ms
	// delayed-ACK stall on the proxy's side.
	if median := keptAliveMedian(t, p.URL("/echo?msg=hi")); median > 30*time.Millisecond {
		t.Errorf("the median answer of /echo on a kept-alive connection took %s; R answers in a few ms", median)
	}

	var ps []struct {
		Name                      string
		Desired, Running, Healthy int
	}
	if err := json.Unmarshal([]byte(testenv.MustRscale(t, "ps", p.Dir, "-o", "json").Stdout), &ps); err != nil {
		t.Fatal(err)
	}
	if len(ps) != 2 || ps[0].Name != p.Stack+"_model_server" || ps[0].Desired != 3 || ps[0].Running != 3 || ps[0].Healthy != 3 {
		t.Errorf("ps -o json: %+v", ps)
	}

	listed := testenv.MustRscale(t, "ps", p.Dir, "--tasks").Stdout
	if n := len(regexp.MustCompile(`(?m)^`+p.Stack+`_model_server\.[123] +running +running`).FindAllString(listed, -1)); n != 3 {
		t.Errorf("ps --tasks lists %d running replicas of model_server, want 3:\n%s", n, listed)
	}

	logs := testenv.MustRscale(t, "logs", "model_server", "--dir", p.Dir, "--tail", "5").Stdout
	if !regexp.MustCompile(`(?m)^model_server\.[123] \| Running plumber API`).MatchString(logs) {
		t.Errorf("logs lack a replica-prefixed line from plumber:\n%s", logs)
	}

	service := p.Stack + "_model_server"
	before := runningTaskIDs(t, c, service)
	again := testenv.MustRscale(t, "deploy", p.Dir)
	if !strings.Contains(again.Stderr, "service "+service+" unchanged") {
		t.Errorf("redeploying the same files: %s", again.Stderr)
	}
	if after := runningTaskIDs(t, c, service); strings.Join(before, ",") != strings.Join(after, ",") {
		t.Errorf("redeploying the same files replaced tasks: %v, then %v", before, after)
	}

	t.Run("rolling update", func(t *testing.T) {
		p.Edit(t, "plumber.R", "The message is", "The new message is")
		fewest, most := rollout(t, c, service, func() { testenv.MustRscale(t, "deploy", p.Dir) })
		if fewest < 3 {
			t.Errorf("only %d replicas were running at one point of the update; start-first keeps 3", fewest)
		}
		if most > 4 {
			t.Errorf("%d replicas were wanted at once; one at a time means at most 4", most)
		}
		if r := testenv.Served(t, p, "/echo?msg=hi"); string(r.Body) != `{"msg":["The new message is: 'hi'"]}` {
			t.Errorf("after the update /echo answered %s", r.Body)
		}
		if replaced := runningTaskIDs(t, c, service); len(replaced) != 3 || strings.Contains(strings.Join(replaced, ","), before[0]) {
			t.Errorf("tasks after the update %v, before %v", replaced, before)
		}
	})

	t.Run("rollback", func(t *testing.T) {
		// The API now defines the health path itself and fails it, so no new replica is ever healthy.
		p.Edit(t, "plumber.R", "#* Echo back the input", "#* @get /healthz\nfunction(res) {\n  res$status <- 500\n  list(status = \"broken\")\n}\n\n#* Echo back the input")
		r := testenv.Rscale(t, "deploy", p.Dir)
		if r.Code == 0 || !strings.Contains(r.Stderr, "rolled back") || !strings.Contains(r.Stderr, "rscale logs model_server") {
			t.Errorf("deploying a version that never gets healthy: exit %d, %s", r.Code, r.Stderr)
		}
		if r := testenv.Served(t, p, "/echo?msg=hi"); string(r.Body) != `{"msg":["The new message is: 'hi'"]}` {
			t.Errorf("after the rollback /echo answered %s, want the previous version", r.Body)
		}
	})

	testenv.MustRscale(t, "down", p.Dir)
	if left := byLabel(t, c, p.Stack); len(left) != 0 {
		t.Errorf("down left %v", left)
	}
	if r := testenv.MustRscale(t, "down", p.Dir); !strings.Contains(r.Stderr, "nothing to remove") {
		t.Errorf("second down said %q", r.Stderr)
	}
}

// rollout runs deploy while it watches the service's tasks, and returns the fewest tasks
// running and the most tasks wanted at any moment.
func rollout(t *testing.T, c *client.Client, service string, deploy func()) (fewestRunning, mostWanted int) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	fewestRunning = 1 << 30
	go func() {
		defer close(done)
		for ctx.Err() == nil {
			tasks, err := c.TaskList(ctx, swarm.TaskListOptions{Filters: filters.NewArgs(filters.Arg("service", service))})
			if err == nil {
				running, wanted := 0, 0
				for _, task := range tasks {
					if task.Status.State == swarm.TaskStateRunning {
						running++
					}
					if task.DesiredState == swarm.TaskStateRunning {
						wanted++
					}
				}
				fewestRunning, mostWanted = min(fewestRunning, running), max(mostWanted, wanted)
			}
			time.Sleep(100 * time.Millisecond)
		}
	}()
	deploy()
	cancel()
	<-done
	return fewestRunning, mostWanted
}

// The random forest API: its prediction, then requests that each keep an R process busy,
// spread over the replicas the proxy has, before and after scaling.
func TestE2EConcurrencyAndScale(t *testing.T) {
	c := testenv.NeedEngine(t)
	p := testenv.NewProject(t, "randomforest", "rscale-e2e-rf", "--replicas", "3", "--dashboard")
	testenv.MustRscale(t, "deploy", p.Dir)

	// The seed's example car, a Mazda RX4, has 6 cylinders.
	if r := testenv.Served(t, p, "/prediction?mpg=21&disp=160&hp=110&wt=2.62"); string(r.Body) != `["6"]` {
		t.Errorf("/prediction answered %s, want [\"6\"]", r.Body)
	}

	const sleep = 2 * time.Second
	slow := p.URL(fmt.Sprintf("/asynchronousTest?seconds=%g", sleep.Seconds()))

	testenv.WaitProxyServers(t, 3)
	if r, err := testenv.Request("GET", "http://127.0.0.1:8404/;csv", "", ""); err != nil || r.Status != http.StatusUnauthorized {
		t.Errorf("HAProxy's statistics without the dashboard's password: %v %d, want 401", err, r.Status)
	}
	if took, hosts := concurrently(t, 3, slow); took > sleep*3/2 || len(hosts) != 3 {
		t.Errorf("3 requests on 3 replicas took %s on %d replicas; want at most %s, one each", took, len(hosts), sleep*3/2)
	}

	testenv.MustRscale(t, "scale", "model_server=1", "--dir", p.Dir)
	testenv.WaitProxyServers(t, 1)
	if took, _ := concurrently(t, 3, slow); took < time.Duration(float64(3*sleep)*0.9) {
		t.Errorf("3 requests on 1 replica took %s; one R process serves one at a time, so at least %s", took, time.Duration(float64(3*sleep)*0.9))
	}

	// A request longer than the health check's patience: R cannot answer its health
	// endpoint meanwhile, and still the replica must not be killed under it.
	before := runningTaskIDs(t, c, p.Stack+"_model_server")
	if a, err := testenv.Request("GET", p.URL("/asynchronousTest?seconds=25"), "", ""); err != nil || a.Status != 200 {
		t.Errorf("a 25 s request: %v %d %s", err, a.Status, a.Body)
	}
	if after := runningTaskIDs(t, c, p.Stack+"_model_server"); strings.Join(before, ",") != strings.Join(after, ",") {
		t.Errorf("the replica busy with a long request was replaced: %v, then %v", before, after)
	}

	if r := testenv.Rscale(t, "scale", "web=3", "--dir", p.Dir); r.Code == 0 || !strings.Contains(r.Stderr, `no service "web": it has model_server, proxy`) {
		t.Errorf("scaling an unknown service: exit %d, %s", r.Code, r.Stderr)
	}

	testenv.MustRscale(t, "scale", p.Stack+"_model_server=6", "--dir", p.Dir)
	testenv.WaitProxyServers(t, 6)
	if took, hosts := concurrently(t, 6, slow); took > sleep*3/2 || len(hosts) != 6 {
		t.Errorf("6 requests on 6 replicas took %s on %d replicas (%v); want at most %s, one each", took, len(hosts), hosts, sleep*3/2)
	}
}

// concurrently sends n requests at once and returns how long the last took to answer and
// how many each replica (container host name) served.
func concurrently(t *testing.T, n int, url string) (time.Duration, map[string]int) {
	t.Helper()
	var (
		wg    sync.WaitGroup
		mu    sync.Mutex
		hosts = map[string]int{}
		start = make(chan struct{})
	)
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			r, err := testenv.Request("GET", url, "", "")
			var body struct{ Host []string }
			if err == nil && r.Status == 200 {
				err = json.Unmarshal(r.Body, &body)
			}
			mu.Lock()
			defer mu.Unlock()
			if err != nil || r.Status != 200 || len(body.Host) != 1 {
				t.Errorf("GET %s: %v %d %s", url, err, r.Status, r.Body)
				return
			}
			hosts[body.Host[0]]++
		}()
	}
	began := time.Now()
	close(start)
	wg.Wait()
	took := time.Since(began)
	t.Logf("%d requests at once took %s, served by %d replica(s)", n, took, len(hosts))
	return took, hosts
}

// A package that does not exist: the build fails with R's message, and nothing is deployed.
func TestE2EFailedBuildDeploysNothing(t *testing.T) {
	c := testenv.NeedEngine(t)
	p := testenv.NewProject(t, "echo", "rscale-e2e-badpkg")
	p.Edit(t, "plumber.R", "#* @apiTitle", "library(thispackagedoesnotexist)\n\n#* @apiTitle")
	testenv.MustRscale(t, "init", p.Dir, "--force", "--name", p.Stack, "--proxy", "haproxy",
		"--base-image", testenv.RImage, "--proxy-image", testenv.HAProxyImage, "--proxy-port", strconv.Itoa(p.Port))
	r := testenv.Rscale(t, "deploy", p.Dir)
	if r.Code == 0 {
		t.Fatal("deploy of an API whose package cannot be installed succeeded")
	}
	for _, want := range []string{`failed at Step \d+/\d+ : RUN Rscript /tmp/rscale/install.R`, `could not install R package\(s\): thispackagedoesnotexist`} {
		if !regexp.MustCompile(want).MatchString(r.Stderr) {
			t.Errorf("the failed deploy does not say %q:\n%s", want, r.Stderr)
		}
	}
	if left := byLabel(t, c, p.Stack); len(left) != 0 {
		t.Errorf("a failed build deployed %v", left)
	}
}

// What rscale deploys, the docker CLI sees and removes; what docker stack deploy deploys
// from the generated file, rscale sees and removes.
func TestE2EDockerStackInterop(t *testing.T) {
	c := testenv.NeedEngine(t)
	if _, err := exec.LookPath("docker"); err != nil {
		t.Fatalf("the docker CLI is needed: %v", err)
	}
	p := testenv.NewProject(t, "echo", "rscale-e2e-interop")
	docker := func(args ...string) string {
		t.Helper()
		out, err := exec.Command("docker", args...).CombinedOutput()
		if err != nil {
			t.Fatalf("docker %s: %v\n%s", strings.Join(args, " "), err, out)
		}
		return string(out)
	}

	testenv.MustRscale(t, "deploy", p.Dir)
	if ls := docker("stack", "ls", "--format", "{{.Name}} {{.Services}}"); !strings.Contains(ls, p.Stack+" 2") {
		t.Errorf("docker stack ls:\n%s", ls)
	}
	if tasks := docker("stack", "ps", p.Stack, "--filter", "desired-state=running", "--format", "{{.Name}} {{.CurrentState}}"); strings.Count(tasks, "Running") != 3 {
		t.Errorf("docker stack ps, want 3 running tasks:\n%s", tasks)
	}
	docker("stack", "rm", p.Stack)
	waitFor(t, "docker stack rm to remove the stack", func() bool { return len(byLabel(t, c, p.Stack)) == 0 })

	testenv.MustRscale(t, "build", p.Dir)
	docker("stack", "deploy", "--detach=true", "-c", filepath.Join(p.Dir, "rscale.yml"), p.Stack)
	var ps []struct{ Name string }
	if err := json.Unmarshal([]byte(testenv.MustRscale(t, "ps", p.Dir, "-o", "json").Stdout), &ps); err != nil || len(ps) != 2 {
		t.Errorf("rscale ps of the stack docker deployed: %v %+v", err, ps)
	}
	testenv.Served(t, p, "/echo?msg=docker")
	testenv.MustRscale(t, "down", p.Dir)
	if left := byLabel(t, c, p.Stack); len(left) != 0 {
		t.Errorf("rscale down left %v of the stack docker deployed", left)
	}
}

func waitFor(t *testing.T, what string, ok func() bool) {
	t.Helper()
	waitLong(t, what, time.Minute, ok)
}

// waitLong is waitFor with another deadline, such as for what follows an image build.
func waitLong(t *testing.T, what string, limit time.Duration, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", limit, what)
		}
		time.Sleep(500 * time.Millisecond)
	}
}

// keptAliveMedian asks url 21 times on one kept-alive connection and returns the median time.
func keptAliveMedian(t *testing.T, url string) time.Duration {
	t.Helper()
	c := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 1}}
	var took []time.Duration
	for i := 0; i < 21; i++ {
		began := time.Now()
		resp, err := c.Get(url)
		if err != nil {
			t.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		took = append(took, time.Since(began))
	}
	slices.Sort(took)
	return took[len(took)/2]
}
