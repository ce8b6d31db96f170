package e2e

// End-to-end tests of the Kubernetes path on a real cluster (internal/harness/kubernetes: Kubernetes
// v1.37.2 with CoreDNS and an image registry, in a network namespace of this machine). The
// stacks run in namespaces that enforce Pod Security's "restricted" profile, so a pod that
// breaks it would never start. They skip under -short, and without root outside CI.

import (
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rscale/rscale/internal/harness/kubernetes"
	"github.com/rscale/rscale/internal/testenv"
)

// kubeProject is an example API initialised with --target kubernetes, in its own namespace.
type kubeProject struct {
	dir, stack, namespace string
	cluster               *kubernetes.Cluster
}

// newKubeProject starts the cluster (once per test binary), makes a restricted namespace,
// and initialises a copy of an example project for the test images.
func newKubeProject(t *testing.T, fixture, stack string, initArgs ...string) kubeProject {
	t.Helper()
	testenv.NeedEngine(t)
	c := kubernetes.Start(t)
	t.Setenv("KUBECONFIG", c.Kubeconfig)
	p := kubeProject{dir: filepath.Join(t.TempDir(), fixture), stack: stack, namespace: stack, cluster: c}
	c.KubectlErr("delete", "namespace", p.namespace, "--wait=true") // what an interrupted earlier run left
	c.Kubectl(t, "create", "namespace", p.namespace)
	c.Kubectl(t, "label", "namespace", p.namespace, "pod-security.kubernetes.io/enforce=restricted")
	t.Cleanup(func() { c.KubectlErr("delete", "namespace", p.namespace, "--wait=false") })
	if err := os.CopyFS(p.dir, os.DirFS(testenv.Testdata(t, "projects", fixture))); err != nil {
		t.Fatal(err)
	}
	args := append([]string{"init", p.dir, "--name", stack, "--target", "kubernetes",
		"--base-image", testenv.RImage, "--proxy-image", testenv.HAProxyImage}, initArgs...)
	testenv.MustRscale(t, args...)
	testenv.QuickerHealthChecks(t, filepath.Join(p.dir, "rscale.yml"))
	return p
}

func (p kubeProject) edit(t *testing.T, file, old, replacement string) {
	t.Helper()
	testenv.Project{Dir: p.dir}.Edit(t, file, old, replacement)
}

// rscale runs a command on the project's namespace, pushing through the harness's registry.
func (p kubeProject) rscale(t *testing.T, args ...string) testenv.Result {
	t.Helper()
	args = append(args, "--namespace", p.namespace)
	if args[0] == "deploy" {
		args = append(args, "--registry", p.cluster.Registry)
	}
	return testenv.Rscale(t, args...)
}

func (p kubeProject) must(t *testing.T, args ...string) testenv.Result {
	t.Helper()
	r := p.rscale(t, args...)
	if r.Code != 0 {
		t.Fatalf("rscale %s failed (exit %d):\n%s", strings.Join(args, " "), r.Code, r.Stderr)
	}
	return r
}

// labelled lists every object in the namespace with the stack's labels.
func (p kubeProject) labelled(t *testing.T) string {
	t.Helper()
	return strings.TrimSpace(p.cluster.Kubectl(t, "get", "all,configmaps,poddisruptionbudgets,endpointslices",
		"-n", p.namespace, "-l", "app.kubernetes.io/instance="+p.stack+",app.kubernetes.io/managed-by=rscale", "-o", "name"))
}

// deployedURL is the URL deploy printed, checked to be where the proxy answers.
func deployedURL(t *testing.T, r testenv.Result) string {
	t.Helper()
	url := strings.TrimSpace(r.Stdout)
	if !strings.HasPrefix(url, "http://") {
		t.Fatalf("deploy printed %q, want a URL", r.Stdout)
	}
	return strings.TrimSuffix(url, "/")
}

// waitServing waits until the proxy answers path with 200 on n different pods (it learns of
// new pods through the cluster's DNS).
func waitServing(t *testing.T, base string, n int) {
	t.Helper()
	deadline := time.Now().Add(90 * time.Second)
	hosts := map[string]bool{}
	for time.Now().Before(deadline) {
		if r, err := testenv.Request("GET", base+"/asynchronousTest?seconds=0", "", ""); err == nil && r.Status == 200 {
			var body struct{ Host []string }
			if json.Unmarshal(r.Body, &body) == nil && len(body.Host) == 1 {
				hosts[body.Host[0]] = true
			}
			if len(hosts) >= n {
				return
			}
		}
		time.Sleep(200 * time.Millisecond)
	}
	t.Fatalf("the proxy reached %d pod(s) (%v), want %d", len(hosts), hosts, n)
}

// The seed's random forest on Kubernetes: deploy, the prediction through the printed URL,
// one request per R process at a time on 1 and 3 replicas, scale with progress, ps and logs
// of every pod, down and a second down.
func TestE2EKubeLifecycle(t *testing.T) {
	p := newKubeProject(t, "randomforest", "e2e-kube-rf", "--replicas", "1")
	start := time.Now()
	r := p.must(t, "deploy", p.dir)
	t.Logf("deploy (build, push, apply, rollout) took %s", time.Since(start))
	base := deployedURL(t, r)
	for _, want := range []string{`(?m)^applied deployments/e2e-kube-rf-model-server$`, `(?m)^model_server +1/1 ready$`, `(?m)^proxy +1/1 ready$`, `(?m)^Stack e2e-kube-rf is running\.$`} {
		if !regexp.MustCompile(want).MatchString(r.Stderr) {
			t.Errorf("deploy's progress lacks %q:\n%s", want, r.Stderr)
		}
	}
	waitServing(t, base, 1)

	// The seed's request: a Mazda RX4 has 6 cylinders.
	pred, err := testenv.Request("POST", base+"/prediction", "application/json", `{"mpg": 21, "disp": 160, "hp": 110, "wt": 2.62}`)
	if err != nil || pred.Status != 200 || string(pred.Body) != `["6"]` {
		t.Errorf("POST /prediction: %v %d %s, want [\"6\"]", err, pred.Status, pred.Body)
	}

	const sleep = 5 * time.Second
	slow := base + fmt.Sprintf("/asynchronousTest?seconds=%g", sleep.Seconds())
	if took, _ := concurrently(t, 3, slow); took < 3*sleep {
		t.Errorf("3 requests of %s on 1 replica took %s: one R process serves one at a time, so at least %s", sleep, took, 3*sleep)
	}

	start = time.Now()
	r = p.must(t, "scale", "model_server=3", "--dir", p.dir)
	t.Logf("scale to 3 took %s", time.Since(start))
	if !regexp.MustCompile(`(?m)^model_server +3/3 ready$`).MatchString(r.Stderr) {
		t.Errorf("scale's progress: %s", r.Stderr)
	}
	waitServing(t, base, 3)
	if took, hosts := concurrently(t, 3, slow); took >= 8*time.Second || len(hosts) != 3 {
		t.Errorf("3 requests of %s on 3 replicas took %s on %d pods, want under 8 s on 3", sleep, took, len(hosts))
	}

	ps := p.must(t, "ps", p.dir, "-o", "json")
	var services []struct {
		Name    string
		Desired int
		Tasks   []struct {
			Name, State, Node string
			Ready             *bool
			Restarts          *int32
		}
	}
	if err := json.Unmarshal([]byte(ps.Stdout), &services); err != nil {
		t.Fatalf("ps -o json: %v\n%s", err, ps.Stdout)
	}
	type podInfo struct{ Name, Service string }
	var pods []podInfo
	apiPods := 0
	for _, s := range services {
		for _, pod := range s.Tasks {
			pods = append(pods, podInfo{pod.Name, s.Name})
			if s.Name == "model-server" {
				apiPods++
			}
			if pod.Ready == nil || !*pod.Ready || pod.Restarts == nil || pod.Node == "" || pod.State != "Running" {
				t.Errorf("pod %+v: want ready and running on a node, with its restarts", pod)
			}
		}
	}
	if apiPods != 3 || len(pods) != 4 {
		t.Errorf("ps shows %d pods of model_server and %d in all, want 3 and 4: %s", apiPods, len(pods), ps.Stdout)
	}
	table := p.must(t, "ps", p.dir).Stdout
	logs := p.must(t, "logs", "--dir", p.dir, "--tail", "50").Stdout
	for _, pod := range pods {
		if !strings.Contains(table, pod.Name) {
			t.Errorf("ps lacks pod %s:\n%s", pod.Name, table)
		}
		if !strings.Contains(logs, pod.Name+" | ") {
			t.Errorf("logs have no line of pod %s", pod.Name)
		}
	}

	r = p.must(t, "scale", "model_server=1", "--dir", p.dir)
	if !regexp.MustCompile(`(?m)^model_server +1/1 ready$`).MatchString(r.Stderr) {
		t.Errorf("scale's progress: %s", r.Stderr)
	}

	start = time.Now()
	p.must(t, "down", p.dir)
	t.Logf("down took %s", time.Since(start))
	if left := p.labelled(t); left != "" {
		t.Errorf("after down, objects with the stack's labels remain:\n%s", left)
	}
	if pods := strings.TrimSpace(p.cluster.Kubectl(t, "get", "pods", "-n", p.namespace, "-o", "name")); pods != "" {
		t.Errorf("after down, pods remain: %s", pods)
	}
	if r := p.must(t, "down", p.dir); !strings.Contains(r.Stderr, "nothing to remove") {
		t.Errorf("second down said %q", r.Stderr)
	}
}

// kubeLoad sends requests without pause until stopped, and counts those that failed.
func kubeLoad(base string, paths ...string) (stop func() (ok, failed int64, errs []string)) {
	var (
		okN, failedN atomic.Int64
		mu           sync.Mutex
		errs         []string
		done         = make(chan struct{})
		wg           sync.WaitGroup
	)
	for i, path := range paths {
		wg.Add(1)
		go func() {
			defer wg.Done()
			client := http.Client{Timeout: time.Minute}
			for n := 0; ; n++ {
				select {
				case <-done:
					return
				default:
				}
				resp, err := client.Get(base + path)
				if err == nil {
					resp.Body.Close()
				}
				if err != nil || resp.StatusCode != 200 {
					failedN.Add(1)
					mu.Lock()
					errs = append(errs, fmt.Sprintf("client %d request %d: %v %v", i, n, err, resp))
					mu.Unlock()
					continue
				}
				okN.Add(1)
			}
		}()
	}
	return func() (int64, int64, []string) {
		close(done)
		wg.Wait()
		return okN.Load(), failedN.Load(), errs
	}
}

// A change to plumber.R rolls out under load with no failed request; a version that never
// becomes ready is rolled back, and deploy says so and exits non-zero.
func TestE2EKubeRollingUpdateAndRollback(t *testing.T) {
	p := newKubeProject(t, "randomforest", "e2e-kube-update", "--replicas", "2")
	base := deployedURL(t, p.must(t, "deploy", p.dir))
	waitServing(t, base, 2)

	stop := kubeLoad(base, "/asynchronousTest?seconds=0.5", "/asynchronousTest?seconds=0", "/prediction")
	time.Sleep(2 * time.Second)
	edited := "#* Keep this R process busy"
	data, err := os.ReadFile(filepath.Join(p.dir, "plumber.R"))
	if err != nil {
		t.Fatal(err)
	}
	changed := strings.Replace(string(data), edited, "#* @get /version\nfunction() \"2\"\n\n"+edited, 1)
	if err := os.WriteFile(filepath.Join(p.dir, "plumber.R"), []byte(changed), 0o644); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	p.must(t, "deploy", p.dir)
	t.Logf("rolling update of 2 replicas took %s", time.Since(start))
	time.Sleep(2 * time.Second)
	ok, failed, errs := stop()
	t.Logf("under the rolling update: %d requests answered, %d failed", ok, failed)
	if failed > 0 || ok == 0 {
		t.Errorf("%d of %d requests failed during the rolling update: %v", failed, ok+failed, errs[:min(len(errs), 5)])
	}
	// Old pods serve what they were given while they drain, so the proxy may reach one for a
	// few seconds more.
	deadline := time.Now().Add(time.Minute)
	for {
		r, err := testenv.Request("GET", base+"/version", "", "")
		if err == nil && string(r.Body) == `["2"]` {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("GET /version after the update: %v %s", err, r.Body)
		}
		time.Sleep(500 * time.Millisecond)
	}
	image := p.cluster.Kubectl(t, "get", "deployment", "e2e-kube-update-model-server", "-n", p.namespace, "-o", "jsonpath={.spec.template.spec.containers[0].image}")

	// R stops at once: the new pods never listen, so never become ready.
	if err := os.WriteFile(filepath.Join(p.dir, "plumber.R"), []byte("stop(\"this version is broken\")\n"+changed), 0o644); err != nil {
		t.Fatal(err)
	}
	start = time.Now()
	r := p.rscale(t, "deploy", p.dir, "--timeout", "90s")
	t.Logf("the failed deploy and its rollback took %s", time.Since(start))
	if r.Code == 0 {
		t.Fatalf("deploying a version that never gets ready exited 0")
	}
	for _, want := range []string{"the new version of model_server never became ready, so it was rolled back and the previous version runs again", "exits (code 1"} {
		if !strings.Contains(r.Stderr, want) {
			t.Errorf("deploy's error lacks %q:\n%s", want, r.Stderr)
		}
	}
	after := p.cluster.Kubectl(t, "get", "deployment", "e2e-kube-update-model-server", "-n", p.namespace, "-o", "jsonpath={.spec.template.spec.containers[0].image}")
	if after != image {
		t.Errorf("after the rollback the Deployment runs %s, want the previous %s", after, image)
	}
	if r, err := testenv.Request("GET", base+"/version", "", ""); err != nil || r.Status != 200 {
		t.Errorf("GET /version after the rollback: %v %d %s", err, r.Status, r.Body)
	}
	p.must(t, "down", p.dir)
}

// What deploy --dry-run prints is what the API server accepts, in a restricted namespace.
func TestE2EKubeDryRunAcceptedByServer(t *testing.T) {
	p := newKubeProject(t, "randomforest", "e2e-kube-dryrun")
	out := p.must(t, "deploy", p.dir, "--dry-run", "-o", "yaml").Stdout
	file := filepath.Join(t.TempDir(), "objects.yaml")
	if err := os.WriteFile(file, []byte(out), 0o644); err != nil {
		t.Fatal(err)
	}
	got := p.cluster.Kubectl(t, "apply", "--server-side", "--field-manager=rscale", "--dry-run=server", "-n", p.namespace, "-f", file)
	for _, want := range []string{"configmap/e2e-kube-dryrun-proxy", "service/e2e-kube-dryrun-model-server", "service/e2e-kube-dryrun-proxy",
		"poddisruptionbudget.policy/e2e-kube-dryrun-model-server", "deployment.apps/e2e-kube-dryrun-model-server", "deployment.apps/e2e-kube-dryrun-proxy"} {
		if !strings.Contains(got, want) {
			t.Errorf("server-side dry run: no %s in\n%s", want, got)
		}
	}
	if left := p.labelled(t); left != "" {
		t.Errorf("a dry run left objects: %s", left)
	}
}

// The error cases, each with its message.
func TestE2EKubeErrors(t *testing.T) {
	p := newKubeProject(t, "echo", "e2e-kube-errors")

	t.Run("image the nodes cannot pull", func(t *testing.T) {
		p.edit(t, "rscale.yml", `image: "e2e-kube-errors/model_server:latest"`, `image: "`+p.cluster.Registry+`/e2e-kube-errors/absent:1"`)
		start := time.Now()
		// --registry: the proxy's image is pushed, so only the API's cannot be pulled.
		r := p.rscale(t, "deploy", p.dir, "--no-build", "--timeout", "3m")
		if r.Code == 0 || !strings.Contains(r.Stderr, "cannot pull image "+p.cluster.Registry+"/e2e-kube-errors/absent:1") {
			t.Errorf("exit %d: %s", r.Code, r.Stderr)
		}
		if took := time.Since(start); took > time.Minute {
			t.Errorf("deploy waited %s: it should stop once the image cannot be pulled", took)
		}
		p.must(t, "down", p.dir)
	})
	t.Run("unknown namespace", func(t *testing.T) {
		r := testenv.Rscale(t, "ps", p.dir, "--namespace", "no-such-namespace")
		if r.Code != 1 || !strings.Contains(r.Stderr, `namespace "no-such-namespace" does not exist`) {
			t.Errorf("exit %d: %s", r.Code, r.Stderr)
		}
	})
	t.Run("unknown context", func(t *testing.T) {
		r := testenv.Rscale(t, "ps", p.dir, "--context", "no-such-context")
		if r.Code != 1 || !strings.Contains(r.Stderr, `context "no-such-context" is not in the kubeconfig`) {
			t.Errorf("exit %d: %s", r.Code, r.Stderr)
		}
	})
	t.Run("no kubeconfig", func(t *testing.T) {
		t.Setenv("KUBECONFIG", filepath.Join(t.TempDir(), "none"))
		t.Setenv("HOME", t.TempDir())
		r := testenv.Rscale(t, "down", p.dir)
		if r.Code != 1 || !strings.Contains(r.Stderr, "no Kubernetes cluster configured") {
			t.Errorf("exit %d: %s", r.Code, r.Stderr)
		}
	})
	t.Run("unreachable cluster", func(t *testing.T) {
		cfg := filepath.Join(t.TempDir(), "config")
		data := "apiVersion: v1\nkind: Config\ncurrent-context: gone\nclusters:\n- name: gone\n  cluster:\n    server: https://127.0.0.1:1\ncontexts:\n- name: gone\n  context:\n    cluster: gone\n    user: u\nusers:\n- name: u\n  user:\n    token: x\n"
		if err := os.WriteFile(cfg, []byte(data), 0o600); err != nil {
			t.Fatal(err)
		}
		r := testenv.Rscale(t, "ps", p.dir, "--kubeconfig", cfg)
		if r.Code != 1 || !strings.Contains(r.Stderr, `cannot reach the Kubernetes cluster of context "gone" at https://127.0.0.1:1`) {
			t.Errorf("exit %d: %s", r.Code, r.Stderr)
		}
	})
	t.Run("forbidden", func(t *testing.T) {
		// A service account with no rights, and a kubeconfig that uses its token.
		p.cluster.Kubectl(t, "create", "serviceaccount", "nobody", "-n", p.namespace)
		token := strings.TrimSpace(p.cluster.Kubectl(t, "create", "token", "nobody", "-n", p.namespace))
		server := strings.TrimSpace(p.cluster.Kubectl(t, "config", "view", "--minify", "-o", "jsonpath={.clusters[0].cluster.server}"))
		ca := strings.TrimSpace(p.cluster.Kubectl(t, "config", "view", "--minify", "--raw", "-o", "jsonpath={.clusters[0].cluster.certificate-authority-data}"))
		cfg := filepath.Join(t.TempDir(), "config")
		data := fmt.Sprintf("apiVersion: v1\nkind: Config\ncurrent-context: nobody\nclusters:\n- name: c\n  cluster:\n    server: %s\n    certificate-authority-data: %s\n    insecure-skip-tls-verify: %t\ncontexts:\n- name: nobody\n  context:\n    cluster: c\n    user: nobody\n    namespace: %s\nusers:\n- name: nobody\n  user:\n    token: %s\n",
			server, ca, ca == "", p.namespace, token)
		if ca == "" {
			data = strings.Replace(data, "    certificate-authority-data: \n", "", 1)
		}
		if err := os.WriteFile(cfg, []byte(data), 0o600); err != nil {
			t.Fatal(err)
		}
		r := testenv.Rscale(t, "ps", p.dir, "--kubeconfig", cfg)
		if r.Code != 1 || !strings.Contains(r.Stderr, `not allowed to list deployments in namespace "`+p.namespace+`"`) || !strings.Contains(r.Stderr, "kubectl auth can-i list deployments") {
			t.Errorf("exit %d: %s", r.Code, r.Stderr)
		}
		r = testenv.Rscale(t, "down", p.dir, "--kubeconfig", cfg)
		if r.Code != 1 || !strings.Contains(r.Stderr, "not allowed to list deployments") {
			t.Errorf("exit %d: %s", r.Code, r.Stderr)
		}
	})
}
