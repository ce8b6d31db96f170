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
	"net"
	"net/http"
	"os"
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

	"github.com/rscale/rscale/cmd"
	"github.com/rscale/rscale/pkg/docker"
)

const (
	testRImage       = "rscale-test/r-base:bookworm"
	testHAProxyImage = "rscale-test/haproxy:bookworm"
)

var testImages struct {
	once sync.Once
	err  error
	log  []byte
}

// needEngine connects to the engine and makes sure the test images exist.
func needEngine(t *testing.T) *client.Client {
	t.Helper()
	if testing.Short() {
		t.Skip("-short: no end-to-end tests")
	}
	c, err := docker.Connect(context.Background())
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("end-to-end tests need a Docker engine: %v", err)
		}
		t.Skipf("no Docker engine: %v", err)
	}
	t.Cleanup(func() { c.Close() })
	testImages.once.Do(func() {
		testImages.log, testImages.err = exec.Command("bash", filepath.Join("testdata", "images", "build.sh"), "r-base", "haproxy").CombinedOutput()
	})
	if testImages.err != nil {
		t.Fatalf("building the test images: %v\n%s", testImages.err, testImages.log)
	}
	return c
}

type result struct {
	stdout, stderr string
	code           int
}

// rscale runs the CLI in-process, as a user would run it.
func rscale(t *testing.T, args ...string) result {
	t.Helper()
	var out, errOut bytes.Buffer
	code := cmd.Run(cmd.Streams{In: strings.NewReader(""), Out: &out, ErrOut: &errOut}, args)
	t.Logf("rscale %s: exit %d\n%s%s", strings.Join(args, " "), code, out.String(), errOut.String())
	return result{out.String(), errOut.String(), code}
}

func mustRscale(t *testing.T, args ...string) result {
	t.Helper()
	r := rscale(t, args...)
	if r.code != 0 {
		t.Fatalf("rscale %s failed (exit %d):\n%s", strings.Join(args, " "), r.code, r.stderr)
	}
	return r
}

// project is an example API copied into a temporary folder and initialised for the test
// images, with the HAProxy proxy on a free port.
type project struct {
	dir, stack string
	port       int
}

func newProject(t *testing.T, fixture, stack string, initArgs ...string) project {
	t.Helper()
	return setupProject(t, fixture, stack, true, initArgs...)
}

// setupProject is newProject, with the generated health checks kept as they are unless quick.
func setupProject(t *testing.T, fixture, stack string, quick bool, initArgs ...string) project {
	t.Helper()
	p := project{dir: filepath.Join(t.TempDir(), fixture), stack: stack, port: freePort(t)}
	if err := os.CopyFS(p.dir, os.DirFS(filepath.Join("testdata", "projects", fixture))); err != nil {
		t.Fatal(err)
	}
	args := append([]string{"init", p.dir, "--name", stack,
		"--base-image", testRImage, "--proxy-image", testHAProxyImage, "--proxy-port", strconv.Itoa(p.port)}, initArgs...)
	mustRscale(t, args...)
	if slices.Contains(initArgs, "--dashboard") {
		password, err := os.ReadFile(filepath.Join(p.dir, ".rscale", "secrets", "dashboard-password"))
		if err != nil {
			t.Fatal(err)
		}
		dashboardPassword.Lock()
		dashboardPassword.value = strings.TrimSpace(string(password))
		dashboardPassword.Unlock()
	}
	if quick {
		quickerHealthChecks(t, filepath.Join(p.dir, "rscale.yml"))
	}
	rscale(t, "down", p.dir) // what an interrupted earlier run left
	t.Cleanup(func() { rscale(t, "down", p.dir) })
	return p
}

// quickerHealthChecks shortens the generated health checks and update monitoring, which
// suit production, so a test waits seconds rather than minutes for each rollout.
func quickerHealthChecks(t *testing.T, file string) {
	t.Helper()
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	s := string(data)
	for old, quick := range map[string]string{
		"start_period: 60s": "start_period: 20s", "monitor: 30s": "monitor: 5s",
		// A healthy replica is checked every 2 s rather than 51 s (.rscale/healthcheck.sh).
		"      HEALTH_PATH: ": "      HEALTH_PAUSE: \"1\"\n      HEALTH_PATH: ",
	} {
		if strings.Count(s, old) != 1 {
			t.Fatalf("%s: expected one %q to shorten", file, old)
		}
		s = strings.Replace(s, old, quick, 1)
	}
	if err := os.WriteFile(file, []byte(s), 0o644); err != nil {
		t.Fatal(err)
	}
}

func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

func (p project) url(path string) string {
	return fmt.Sprintf("http://127.0.0.1:%d%s", p.port, path)
}

func (p project) edit(t *testing.T, file, old, replacement string) {
	t.Helper()
	path := filepath.Join(p.dir, file)
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(data, []byte(old)) {
		t.Fatalf("%s has no %q", file, old)
	}
	if err := os.WriteFile(path, bytes.Replace(data, []byte(old), []byte(replacement), 1), 0o644); err != nil {
		t.Fatal(err)
	}
}

type response struct {
	status      int
	contentType string
	body        []byte
}

func request(method, url, contentType, body string) (response, error) {
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		return response{}, err
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	c := http.Client{Timeout: time.Minute}
	resp, err := c.Do(req)
	if err != nil {
		return response{}, err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	return response{resp.StatusCode, resp.Header.Get("Content-Type"), data}, err
}

// served waits until the proxy answers path with 200: it learns of new replicas through
// Docker's DNS a moment after Swarm reports them healthy.
func served(t *testing.T, p project, path string) response {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for {
		r, err := request("GET", p.url(path), "", "")
		if err == nil && r.status == http.StatusOK {
			return r
		}
		if time.Now().After(deadline) {
			t.Fatalf("GET %s: %v %d %s", path, err, r.status, r.body)
		}
		time.Sleep(250 * time.Millisecond)
	}
}

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
	c := needEngine(t)
	p := newProject(t, "echo", "rscale-e2e-echo", "--replicas", "3")

	deployed := mustRscale(t, "deploy", p.dir)
	if !strings.Contains(deployed.stdout, fmt.Sprintf("http://localhost:%d/", p.port)) {
		t.Errorf("deploy printed %q, want the proxy's URL", deployed.stdout)
	}
	if r := served(t, p, "/echo?msg=hi"); string(r.body) != `{"msg":["The message is: 'hi'"]}` {
		t.Errorf("/echo answered %s", r.body)
	}
	if r := served(t, p, "/plot"); r.contentType != "image/png" || !bytes.HasPrefix(r.body, []byte("\x89PNG")) {
		t.Errorf("/plot answered %s with %d bytes, want a PNG", r.contentType, len(r.body))
	}
	if r, err := request("POST", p.url("/sum"), "application/json", `{"a":1,"b":2}`); err != nil || r.status != 200 || string(r.body) != "[3]" {
		t.Errorf("POST /sum answered %v %d %s, want [3]", err, r.status, r.body)
	}

	// A client that keeps its connection alive, as browsers do, must not meet R's 40 ms
	// delayed-ACK stall on the proxy's side.
	if median := keptAliveMedian(t, p.url("/echo?msg=hi")); median > 30*time.Millisecond {
		t.Errorf("the median answer of /echo on a kept-alive connection took %s; R answers in a few ms", median)
	}

	var ps []struct {
		Name                      string
		Desired, Running, Healthy int
	}
	if err := json.Unmarshal([]byte(mustRscale(t, "ps", p.dir, "-o", "json").stdout), &ps); err != nil {
		t.Fatal(err)
	}
	if len(ps) != 2 || ps[0].Name != p.stack+"_model_server" || ps[0].Desired != 3 || ps[0].Running != 3 || ps[0].Healthy != 3 {
		t.Errorf("ps -o json: %+v", ps)
	}

	listed := mustRscale(t, "ps", p.dir, "--tasks").stdout
	if n := len(regexp.MustCompile(`(?m)^`+p.stack+`_model_server\.[123] +running +running`).FindAllString(listed, -1)); n != 3 {
		t.Errorf("ps --tasks lists %d running replicas of model_server, want 3:\n%s", n, listed)
	}

	logs := mustRscale(t, "logs", "model_server", "--dir", p.dir, "--tail", "5").stdout
	if !regexp.MustCompile(`(?m)^model_server\.[123] \| Running plumber API`).MatchString(logs) {
		t.Errorf("logs lack a replica-prefixed line from plumber:\n%s", logs)
	}

	service := p.stack + "_model_server"
	before := runningTaskIDs(t, c, service)
	again := mustRscale(t, "deploy", p.dir)
	if !strings.Contains(again.stderr, "service "+service+" unchanged") {
		t.Errorf("redeploying the same files: %s", again.stderr)
	}
	if after := runningTaskIDs(t, c, service); strings.Join(before, ",") != strings.Join(after, ",") {
		t.Errorf("redeploying the same files replaced tasks: %v, then %v", before, after)
	}

	t.Run("rolling update", func(t *testing.T) {
		p.edit(t, "plumber.R", "The message is", "The new message is")
		fewest, most := rollout(t, c, service, func() { mustRscale(t, "deploy", p.dir) })
		if fewest < 3 {
			t.Errorf("only %d replicas were running at one point of the update; start-first keeps 3", fewest)
		}
		if most > 4 {
			t.Errorf("%d replicas were wanted at once; one at a time means at most 4", most)
		}
		if r := served(t, p, "/echo?msg=hi"); string(r.body) != `{"msg":["The new message is: 'hi'"]}` {
			t.Errorf("after the update /echo answered %s", r.body)
		}
		if replaced := runningTaskIDs(t, c, service); len(replaced) != 3 || strings.Contains(strings.Join(replaced, ","), before[0]) {
			t.Errorf("tasks after the update %v, before %v", replaced, before)
		}
	})

	t.Run("rollback", func(t *testing.T) {
		// The API now defines the health path itself and fails it, so no new replica is ever healthy.
		p.edit(t, "plumber.R", "#* Echo back the input", "#* @get /healthz\nfunction(res) {\n  res$status <- 500\n  list(status = \"broken\")\n}\n\n#* Echo back the input")
		r := rscale(t, "deploy", p.dir)
		if r.code == 0 || !strings.Contains(r.stderr, "rolled back") || !strings.Contains(r.stderr, "rscale logs model_server") {
			t.Errorf("deploying a version that never gets healthy: exit %d, %s", r.code, r.stderr)
		}
		if r := served(t, p, "/echo?msg=hi"); string(r.body) != `{"msg":["The new message is: 'hi'"]}` {
			t.Errorf("after the rollback /echo answered %s, want the previous version", r.body)
		}
	})

	mustRscale(t, "down", p.dir)
	if left := byLabel(t, c, p.stack); len(left) != 0 {
		t.Errorf("down left %v", left)
	}
	if r := mustRscale(t, "down", p.dir); !strings.Contains(r.stderr, "nothing to remove") {
		t.Errorf("second down said %q", r.stderr)
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
	c := needEngine(t)
	p := newProject(t, "randomforest", "rscale-e2e-rf", "--replicas", "3", "--dashboard")
	mustRscale(t, "deploy", p.dir)

	// The seed's example car, a Mazda RX4, has 6 cylinders.
	if r := served(t, p, "/prediction?mpg=21&disp=160&hp=110&wt=2.62"); string(r.body) != `["6"]` {
		t.Errorf("/prediction answered %s, want [\"6\"]", r.body)
	}

	const sleep = 2 * time.Second
	slow := p.url(fmt.Sprintf("/asynchronousTest?seconds=%g", sleep.Seconds()))

	waitProxyServers(t, 3)
	if r, err := request("GET", "http://127.0.0.1:8404/;csv", "", ""); err != nil || r.status != http.StatusUnauthorized {
		t.Errorf("HAProxy's statistics without the dashboard's password: %v %d, want 401", err, r.status)
	}
	if took, hosts := concurrently(t, 3, slow); took > sleep*3/2 || len(hosts) != 3 {
		t.Errorf("3 requests on 3 replicas took %s on %d replicas; want at most %s, one each", took, len(hosts), sleep*3/2)
	}

	mustRscale(t, "scale", "model_server=1", "--dir", p.dir)
	waitProxyServers(t, 1)
	if took, _ := concurrently(t, 3, slow); took < time.Duration(float64(3*sleep)*0.9) {
		t.Errorf("3 requests on 1 replica took %s; one R process serves one at a time, so at least %s", took, time.Duration(float64(3*sleep)*0.9))
	}

	// A request longer than the health check's patience: R cannot answer its health
	// endpoint meanwhile, and still the replica must not be killed under it.
	before := runningTaskIDs(t, c, p.stack+"_model_server")
	if a, err := request("GET", p.url("/asynchronousTest?seconds=25"), "", ""); err != nil || a.status != 200 {
		t.Errorf("a 25 s request: %v %d %s", err, a.status, a.body)
	}
	if after := runningTaskIDs(t, c, p.stack+"_model_server"); strings.Join(before, ",") != strings.Join(after, ",") {
		t.Errorf("the replica busy with a long request was replaced: %v, then %v", before, after)
	}

	if r := rscale(t, "scale", "web=3", "--dir", p.dir); r.code == 0 || !strings.Contains(r.stderr, `no service "web": it has model_server, proxy`) {
		t.Errorf("scaling an unknown service: exit %d, %s", r.code, r.stderr)
	}

	mustRscale(t, "scale", p.stack+"_model_server=6", "--dir", p.dir)
	waitProxyServers(t, 6)
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
			r, err := request("GET", url, "", "")
			var body struct{ Host []string }
			if err == nil && r.status == 200 {
				err = json.Unmarshal(r.body, &body)
			}
			mu.Lock()
			defer mu.Unlock()
			if err != nil || r.status != 200 || len(body.Host) != 1 {
				t.Errorf("GET %s: %v %d %s", url, err, r.status, r.body)
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

// dashboardPassword is the password init generated for the last project initialised with
// --dashboard: its HAProxy statistics are on the node's port 8404, which one stack at a time
// can publish.
var dashboardPassword struct {
	sync.Mutex
	value string
}

// waitProxyServers waits until HAProxy's statistics (published on this machine's port 8404
// with --dashboard) show n replicas up.
func waitProxyServers(t *testing.T, n int) {
	t.Helper()
	waitServersUp(t, n, &http.Client{Timeout: 10 * time.Second}, "http://127.0.0.1:8404/;csv")
}

// waitServersUp waits until the HAProxy statistics CSV at url, asked as the dashboard's user,
// show n replicas up: the proxy finds replicas through Docker's DNS and checks them first.
func waitServersUp(t *testing.T, n int, c *http.Client, url string) {
	t.Helper()
	dashboardPassword.Lock()
	password := dashboardPassword.value
	dashboardPassword.Unlock()
	deadline := time.Now().Add(time.Minute)
	up := -1
	for time.Now().Before(deadline) {
		if r, err := stats(c, url, password); err == nil && r.status == 200 {
			up = 0
			for _, line := range strings.Split(string(r.body), "\n") {
				fields := strings.Split(line, ",")
				if len(fields) > 17 && fields[0] == "model_server" && strings.HasPrefix(fields[1], "replica") && fields[17] == "UP" {
					up++
				}
			}
			if up == n {
				return
			}
		}
		time.Sleep(250 * time.Millisecond)
	}
	t.Fatalf("HAProxy shows %d replicas up, want %d", up, n)
}

// stats asks HAProxy's statistics page at url for its CSV, as the dashboard's user.
func stats(c *http.Client, url, password string) (response, error) {
	req, err := http.NewRequest("GET", url, nil)
	if err != nil {
		return response{}, err
	}
	req.SetBasicAuth("rscale", password)
	resp, err := c.Do(req)
	if err != nil {
		return response{}, err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	return response{resp.StatusCode, resp.Header.Get("Content-Type"), data}, err
}

// A package that does not exist: the build fails with R's message, and nothing is deployed.
func TestE2EFailedBuildDeploysNothing(t *testing.T) {
	c := needEngine(t)
	p := newProject(t, "echo", "rscale-e2e-badpkg")
	p.edit(t, "plumber.R", "#* @apiTitle", "library(thispackagedoesnotexist)\n\n#* @apiTitle")
	mustRscale(t, "init", p.dir, "--force", "--name", p.stack, "--proxy", "haproxy",
		"--base-image", testRImage, "--proxy-image", testHAProxyImage, "--proxy-port", strconv.Itoa(p.port))
	r := rscale(t, "deploy", p.dir)
	if r.code == 0 {
		t.Fatal("deploy of an API whose package cannot be installed succeeded")
	}
	for _, want := range []string{`failed at Step \d+/\d+ : RUN Rscript /tmp/rscale/install.R`, `could not install R package\(s\): thispackagedoesnotexist`} {
		if !regexp.MustCompile(want).MatchString(r.stderr) {
			t.Errorf("the failed deploy does not say %q:\n%s", want, r.stderr)
		}
	}
	if left := byLabel(t, c, p.stack); len(left) != 0 {
		t.Errorf("a failed build deployed %v", left)
	}
}

// What rscale deploys, the docker CLI sees and removes; what docker stack deploy deploys
// from the generated file, rscale sees and removes.
func TestE2EDockerStackInterop(t *testing.T) {
	c := needEngine(t)
	if _, err := exec.LookPath("docker"); err != nil {
		t.Fatalf("the docker CLI is needed: %v", err)
	}
	p := newProject(t, "echo", "rscale-e2e-interop")
	docker := func(args ...string) string {
		t.Helper()
		out, err := exec.Command("docker", args...).CombinedOutput()
		if err != nil {
			t.Fatalf("docker %s: %v\n%s", strings.Join(args, " "), err, out)
		}
		return string(out)
	}

	mustRscale(t, "deploy", p.dir)
	if ls := docker("stack", "ls", "--format", "{{.Name}} {{.Services}}"); !strings.Contains(ls, p.stack+" 2") {
		t.Errorf("docker stack ls:\n%s", ls)
	}
	if tasks := docker("stack", "ps", p.stack, "--filter", "desired-state=running", "--format", "{{.Name}} {{.CurrentState}}"); strings.Count(tasks, "Running") != 3 {
		t.Errorf("docker stack ps, want 3 running tasks:\n%s", tasks)
	}
	docker("stack", "rm", p.stack)
	waitFor(t, "docker stack rm to remove the stack", func() bool { return len(byLabel(t, c, p.stack)) == 0 })

	mustRscale(t, "build", p.dir)
	docker("stack", "deploy", "--detach=true", "-c", filepath.Join(p.dir, "rscale.yml"), p.stack)
	var ps []struct{ Name string }
	if err := json.Unmarshal([]byte(mustRscale(t, "ps", p.dir, "-o", "json").stdout), &ps); err != nil || len(ps) != 2 {
		t.Errorf("rscale ps of the stack docker deployed: %v %+v", err, ps)
	}
	served(t, p, "/echo?msg=docker")
	mustRscale(t, "down", p.dir)
	if left := byLabel(t, c, p.stack); len(left) != 0 {
		t.Errorf("rscale down left %v of the stack docker deployed", left)
	}
}

func waitFor(t *testing.T, what string, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
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
