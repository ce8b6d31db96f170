// Package kubernetes gives end-to-end tests a real one-node Kubernetes cluster on this machine:
// Kubernetes v1.37.2 built from source (testdata/harness/kubernetes), etcd, containerd, CoreDNS
// and kube-proxy in the network namespace rscale-k8s, and an image registry that Docker pushes
// to as 127.0.0.1:5050 and the node pulls from under the same name.
//
// A test package uses it from TestMain, so that the cluster starts at most once per test binary
// and stops when the binary ends:
//
//	func TestMain(m *testing.M) { os.Exit(kubernetes.Run(m)) }
//
// (or, where TestMain already hands m to testscript: testscript.Main(kubernetes.Wrap(m), ...))
//
//	func TestDeploy(t *testing.T) {
//		c := kubernetes.Start(t) // skips under -short, or when not root (fails when CI is set)
//		os.Setenv("KUBECONFIG", c.Kubeconfig) ...
//	}
//
// A cluster that is already up (`testdata/harness/kubernetes/cluster.sh up`, by hand or by CI)
// is used as it is and left running. Test binaries running at the same time share one cluster;
// the last one to finish stops it, if tests started it.
package kubernetes

import (
	"archive/tar"
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// Cluster is a running cluster, as the tests reach it from the host.
type Cluster struct {
	// Kubeconfig is the path of a kubeconfig with cluster-admin rights; its current context
	// is named "rscale-k8s".
	Kubeconfig string
	// KubectlPath runs kubectl (the harness's multi-call binary; pass "kubectl" first).
	KubectlPath string
	// Registry is where Docker pushes images ("127.0.0.1:5050"); pods name them the same way.
	Registry string
	// NodeIP is the node's address, routed from the host: NodePort Services answer on it, and
	// so do pod IPs behind it.
	NodeIP string
	// DNS is the cluster's DNS server (CoreDNS, zone cluster.local), as host:port.
	DNS string
	// BinDir holds the harness's binaries, among them hello, the test workload of HelloImage.
	BinDir string
}

// users is held shared by every test binary that uses the cluster, and exclusively by the one
// that stops it, so that no binary stops a cluster that another one is still using.
const usersLock = "/run/rscale-k8s.users"

// startedMarker, in the cluster's state folder, says tests started the cluster (and so may
// stop it); a cluster started by hand has none.
const startedMarker = "started-by-tests"

var state struct {
	sync.Mutex
	underRun bool
	once     sync.Once
	cluster  *Cluster
	err      error
	skip     string
	users    *os.File
	script   string
}

// TestingM is what Run needs of a *testing.M; testscript.Main takes the same.
type TestingM interface{ Run() int }

// Wrap returns m with Run in place of its Run, for a TestMain that hands m on, as
// testscript.Main(kubernetes.Wrap(m), commands) does.
func Wrap(m TestingM) TestingM { return wrapped{m} }

type wrapped struct{ m TestingM }

func (w wrapped) Run() int { return Run(w.m) }

// Run runs the tests of m and then, if they started the cluster and no other test binary still
// uses it, stops it. A failure to stop it cleanly (anything left behind) fails the binary.
func Run(m TestingM) int {
	state.Lock()
	state.underRun = true
	state.Unlock()
	code := m.Run()
	if err := release(); err != nil {
		fmt.Fprintf(os.Stderr, "kubernetes harness: %v\n", err)
		if code == 0 {
			code = 1
		}
	}
	return code
}

// Start returns the cluster, starting it on first use in this test binary (about 10 s when the
// binaries are built; a first build takes several minutes). It skips the test under -short, or
// when the machine cannot run the cluster (not root, no bash); with CI set it fails instead.
func Start(t testing.TB) *Cluster {
	t.Helper()
	if testing.Short() {
		t.Skip("-short: no end-to-end tests on Kubernetes")
	}
	state.Lock()
	underRun := state.underRun
	state.Unlock()
	if !underRun {
		t.Fatal("kubernetes.Start needs the test binary's TestMain to call kubernetes.Run(m), which stops the cluster at the end")
	}
	state.once.Do(func() {
		begin := time.Now()
		state.cluster, state.skip, state.err = start()
		if state.err == nil && state.skip == "" {
			t.Logf("Kubernetes test cluster ready in %s", time.Since(begin).Round(100*time.Millisecond))
		}
	})
	if state.skip != "" {
		if os.Getenv("CI") != "" {
			t.Fatalf("the Kubernetes end-to-end tests cannot run here: %s", state.skip)
		}
		t.Skipf("no Kubernetes test cluster: %s", state.skip)
	}
	if state.err != nil {
		t.Fatalf("starting the Kubernetes test cluster: %v", state.err)
	}
	return state.cluster
}

func start() (*Cluster, string, error) {
	if os.Geteuid() != 0 {
		return nil, "it runs as root (network namespace, cgroups, mounts)", nil
	}
	if _, err := exec.LookPath("bash"); err != nil {
		return nil, "no bash", nil
	}
	script, err := findScript()
	if err != nil {
		return nil, "", err
	}
	state.script = script
	// Shared for as long as this binary runs; it waits while another binary is stopping it.
	users, err := os.OpenFile(usersLock, os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return nil, "", err
	}
	if err := syscall.Flock(int(users.Fd()), syscall.LOCK_SH); err != nil {
		users.Close()
		return nil, "", fmt.Errorf("locking %s: %w", usersLock, err)
	}
	state.users = users

	// The binaries of these sources, even when the cluster found up was started from another
	// work tree's: the test workload is taken from them.
	bin, err := run(script, "build")
	if err != nil {
		return nil, "", err
	}
	out, err := run(script, "up")
	if err != nil {
		return nil, "", err
	}
	c, err := parseEnv(out)
	if err != nil {
		return nil, "", err
	}
	c.BinDir = strings.TrimSpace(bin)
	// "# started" when this call started it, rather than finding it up.
	if strings.Contains(out, "# started\n") {
		if err := os.WriteFile(filepath.Join(filepath.Dir(c.Kubeconfig), startedMarker), nil, 0o644); err != nil {
			return nil, "", err
		}
	}
	return c, "", nil
}

// release lets go of the cluster; the last user stops it if tests started it.
func release() error {
	state.Lock()
	defer state.Unlock()
	if state.users == nil {
		return nil
	}
	fd := int(state.users.Fd())
	defer func() {
		state.users.Close()
		state.users = nil
	}()
	if err := syscall.Flock(fd, syscall.LOCK_UN); err != nil {
		return err
	}
	if err := syscall.Flock(fd, syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		return nil // another test binary still uses it; the last one stops it
	}
	if state.cluster == nil {
		return nil
	}
	if _, err := os.Stat(filepath.Join(filepath.Dir(state.cluster.Kubeconfig), startedMarker)); err != nil {
		return nil // started by hand or by CI: left running
	}
	_, err := run(state.script, "down")
	return err
}

// findScript looks for the harness's cluster.sh from the working directory up, as go test
// runs each package in its own folder.
func findScript() (string, error) {
	if s := os.Getenv("RSCALE_K8S_HARNESS"); s != "" {
		return s, nil
	}
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		s := filepath.Join(dir, "testdata", "harness", "kubernetes", "cluster.sh")
		if _, err := os.Stat(s); err == nil {
			return s, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("testdata/harness/kubernetes/cluster.sh not found above the working directory (set RSCALE_K8S_HARNESS)")
		}
		dir = parent
	}
}

// run runs cluster.sh; its result (the env lines, or the binaries' folder) comes on stdout.
// Its progress is shown as it goes (a first build takes minutes) and kept for the error.
func run(script string, args ...string) (string, error) {
	var stdout, stderr bytes.Buffer
	cmd := exec.Command("bash", append([]string{script}, args...)...)
	cmd.Stdout = &stdout
	cmd.Stderr = io.MultiWriter(&stderr, os.Stderr)
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("cluster.sh %s: %v\n%s", strings.Join(args, " "), err, tail(stderr.String(), 60))
	}
	return stdout.String(), nil
}

func tail(s string, lines int) string {
	l := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(l) > lines {
		l = l[len(l)-lines:]
	}
	return strings.Join(l, "\n")
}

// parseEnv reads the `export NAME=value` lines cluster.sh prints once the cluster is up.
func parseEnv(out string) (*Cluster, error) {
	env := map[string]string{}
	sc := bufio.NewScanner(strings.NewReader(out))
	for sc.Scan() {
		line, ok := strings.CutPrefix(strings.TrimSpace(sc.Text()), "export ")
		if !ok {
			continue
		}
		if k, v, ok := strings.Cut(line, "="); ok {
			env[k] = v
		}
	}
	c := &Cluster{
		Kubeconfig:  env["KUBECONFIG"],
		KubectlPath: env["RSCALE_K8S_KUBECTL"],
		Registry:    env["RSCALE_K8S_REGISTRY"],
		NodeIP:      env["RSCALE_K8S_NODE_IP"],
		DNS:         env["RSCALE_K8S_DNS"],
	}
	for name, v := range map[string]string{"KUBECONFIG": c.Kubeconfig, "RSCALE_K8S_KUBECTL": c.KubectlPath,
		"RSCALE_K8S_REGISTRY": c.Registry, "RSCALE_K8S_NODE_IP": c.NodeIP, "RSCALE_K8S_DNS": c.DNS} {
		if v == "" {
			return nil, fmt.Errorf("cluster.sh up printed no %s in:\n%s", name, out)
		}
	}
	return c, nil
}

// Kubectl runs kubectl on the cluster and returns its standard output; a failure fails t.
func (c *Cluster) Kubectl(t testing.TB, args ...string) string {
	t.Helper()
	out, err := c.KubectlErr(args...)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// Apply applies manifests (YAML, several documents allowed) with kubectl; a failure fails t.
func (c *Cluster) Apply(t testing.TB, manifests string) {
	t.Helper()
	if _, err := c.kubectl(strings.NewReader(manifests), "apply", "-f", "-"); err != nil {
		t.Fatal(err)
	}
}

// KubectlErr runs kubectl on the cluster and returns its standard output, or an error that
// holds its standard error.
func (c *Cluster) KubectlErr(args ...string) (string, error) {
	return c.kubectl(nil, args...)
}

func (c *Cluster) kubectl(stdin io.Reader, args ...string) (string, error) {
	var stdout, stderr bytes.Buffer
	cmd := exec.Command(c.KubectlPath, append([]string{"kubectl", "--kubeconfig", c.Kubeconfig}, args...)...)
	cmd.Stdin = stdin
	cmd.Stdout = &stdout
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		return stdout.String(), fmt.Errorf("kubectl %s: %v\n%s", strings.Join(args, " "), err, stderr.String())
	}
	return stdout.String(), nil
}

// UserKubeconfig returns the path of a kubeconfig (in t's temporary folder) that acts as the
// ServiceAccount name of namespace default, created with no rights: a test grants it what it
// needs (or nothing, to see how a command reports a missing permission). Its context is named
// "rscale-k8s", as the admin kubeconfig's.
func (c *Cluster) UserKubeconfig(t testing.TB, name string) string {
	t.Helper()
	c.Apply(t, fmt.Sprintf("apiVersion: v1\nkind: ServiceAccount\nmetadata: {name: %s, namespace: default}\n", name))
	token := strings.TrimSpace(c.Kubectl(t, "create", "token", name, "--namespace", "default", "--duration", "2h"))
	ca := strings.TrimSpace(c.Kubectl(t, "config", "view", "--raw", "--minify", "-o", "jsonpath={.clusters[0].cluster.certificate-authority-data}"))
	server := strings.TrimSpace(c.Kubectl(t, "config", "view", "--minify", "-o", "jsonpath={.clusters[0].cluster.server}"))
	path := filepath.Join(t.TempDir(), name+".kubeconfig")
	config := fmt.Sprintf(`apiVersion: v1
kind: Config
clusters:
- name: rscale-k8s
  cluster: {server: %q, certificate-authority-data: %s}
users:
- name: %[3]s
  user: {token: %[4]s}
contexts:
- name: rscale-k8s
  context: {cluster: rscale-k8s, user: %[3]s}
current-context: rscale-k8s
`, server, ca, name, token)
	if err := os.WriteFile(path, []byte(config), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// ImageRef is the name under which an image pushed to the registry is pulled by the cluster:
// the image's repository path and tag behind the registry's address.
func (c *Cluster) ImageRef(image string) string {
	name := image
	// A leading component with a dot or a colon, or "localhost", is a registry host: replaced.
	if first, rest, ok := strings.Cut(image, "/"); ok && (strings.ContainsAny(first, ".:") || first == "localhost") {
		name = rest
	}
	if !strings.Contains(name[strings.LastIndex(name, "/")+1:], ":") && !strings.Contains(name, "@") {
		name += ":latest"
	}
	return c.Registry + "/" + name
}

// Push copies an image of the local Docker engine into the cluster's registry and returns the
// name pods pull it by.
func (c *Cluster) Push(t testing.TB, image string) string {
	t.Helper()
	ref := c.ImageRef(image)
	// The registry keeps the image; the engine's extra name is dropped once pushed.
	for _, args := range [][]string{{"tag", image, ref}, {"push", ref}, {"rmi", ref}} {
		if out, err := exec.Command("docker", args...).CombinedOutput(); err != nil {
			t.Fatalf("docker %s: %v\n%s", strings.Join(args, " "), err, out)
		}
	}
	return ref
}

var hello struct {
	once sync.Once
	ref  string
	err  error
}

// HelloImage returns the registry name of a tiny test workload, built once per test binary:
// an HTTP server on port 8080 answering GET / with its pod's name and GET /resolve?name=N
// with the addresses N resolves to through the pod's DNS, one per line, sorted. It logs
// "hello: listening on :8080" when it starts.
func (c *Cluster) HelloImage(t testing.TB) string {
	t.Helper()
	hello.once.Do(func() {
		hello.ref, hello.err = c.buildHello()
	})
	if hello.err != nil {
		t.Fatalf("building the hello test image: %v", hello.err)
	}
	return hello.ref
}

func (c *Cluster) buildHello() (string, error) {
	bin, err := os.ReadFile(filepath.Join(c.BinDir, "hello"))
	if err != nil {
		return "", err
	}
	var layer bytes.Buffer
	tw := tar.NewWriter(&layer)
	if err := tw.WriteHeader(&tar.Header{Name: "hello", Mode: 0o755, Size: int64(len(bin)), ModTime: time.Unix(0, 0)}); err != nil {
		return "", err
	}
	if _, err := tw.Write(bin); err != nil {
		return "", err
	}
	if err := tw.Close(); err != nil {
		return "", err
	}
	// A tag of its own, as test binaries running at once each push theirs.
	ref := fmt.Sprintf("%s/rscale-k8s-harness/hello:%d", c.Registry, os.Getpid())
	imp := exec.Command("docker", "import", "--change", `ENTRYPOINT ["/hello"]`, "-", ref)
	imp.Stdin = &layer
	if out, err := imp.CombinedOutput(); err != nil {
		return "", fmt.Errorf("docker import: %v\n%s", err, out)
	}
	for _, args := range [][]string{{"push", ref}, {"rmi", ref}} {
		if out, err := exec.Command("docker", args...).CombinedOutput(); err != nil {
			return "", fmt.Errorf("docker %s: %v\n%s", strings.Join(args, " "), err, out)
		}
	}
	return ref, nil
}

// Resolver resolves names through the cluster's DNS, as a pod would (but with no search path:
// use full names such as NAME.NAMESPACE.svc.cluster.local).
func (c *Cluster) Resolver() *net.Resolver {
	return &net.Resolver{
		PreferGo: true,
		Dial: func(ctx context.Context, network, _ string) (net.Conn, error) {
			var d net.Dialer
			return d.DialContext(ctx, network, c.DNS)
		},
	}
}
