package kubernetes

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	_ "github.com/rscale/rscale/internal/golden" // accepts -update, as every test package does
)

func TestMain(m *testing.M) { os.Exit(Run(m)) }

func TestImageRef(t *testing.T) {
	c := &Cluster{Registry: "127.0.0.1:5050"}
	for image, want := range map[string]string{
		"rscale-test/r-base:bookworm":         "127.0.0.1:5050/rscale-test/r-base:bookworm",
		"plumber":                             "127.0.0.1:5050/plumber:latest",
		"localhost/app:v2":                    "127.0.0.1:5050/app:v2",
		"127.0.0.1:5000/team/app":             "127.0.0.1:5050/team/app:latest",
		"registry.example.org/team/app:1.2.3": "127.0.0.1:5050/team/app:1.2.3",
	} {
		if got := c.ImageRef(image); got != want {
			t.Errorf("ImageRef(%q) = %q, want %q", image, got, want)
		}
	}
}

func TestParseEnv(t *testing.T) {
	c, err := parseEnv("rscale-k8s: already up\nexport KUBECONFIG=/tmp/rscale-k8s/admin.kubeconfig\n" +
		"export RSCALE_K8S_KUBECTL=/var/cache/rscale-k8s/bin/abc/k8s\nexport RSCALE_K8S_REGISTRY=127.0.0.1:5050\n" +
		"export RSCALE_K8S_NODE_IP=10.250.0.2\nexport RSCALE_K8S_DNS=10.250.0.2:53\n")
	if err != nil {
		t.Fatal(err)
	}
	want := Cluster{Kubeconfig: "/tmp/rscale-k8s/admin.kubeconfig", KubectlPath: "/var/cache/rscale-k8s/bin/abc/k8s",
		Registry: "127.0.0.1:5050", NodeIP: "10.250.0.2", DNS: "10.250.0.2:53"}
	if *c != want {
		t.Errorf("parseEnv = %+v, want %+v", *c, want)
	}
	if _, err := parseEnv("export KUBECONFIG=/x\n"); err == nil || !strings.Contains(err.Error(), "RSCALE_K8S_") {
		t.Errorf("parseEnv of incomplete output: error %v, want one naming the missing variable", err)
	}
}

// TestCluster checks what rscale's Kubernetes tests rely on: a Ready node; an image pushed by
// Docker to the local registry runs; pods' logs can be read; a NodePort answers from the
// host; a headless Service
// resolves to its pods' addresses through CoreDNS, from the host and from inside a pod.
func TestCluster(t *testing.T) {
	c := Start(t)
	status := c.Kubectl(t, "get", "nodes", "-o", `jsonpath={range .items[*]}{.metadata.name}={.status.conditions[?(@.type=="Ready")].status} {end}`)
	if strings.TrimSpace(status) != "rscale-node=True" {
		t.Fatalf("nodes: %q, want one Ready node rscale-node", status)
	}

	// A user with no rights is refused, by name of verb and resource.
	viewer := &Cluster{Kubeconfig: c.UserKubeconfig(t, "k8sharness-nobody"), KubectlPath: c.KubectlPath}
	if _, err := viewer.KubectlErr("get", "pods", "-n", "default"); err == nil ||
		!strings.Contains(err.Error(), `cannot list resource "pods"`) {
		t.Errorf("kubectl get pods as a user with no rights: %v, want a refusal to list pods", err)
	}

	image := c.HelloImage(t)
	ns := fmt.Sprintf("k8sharness-%d", time.Now().UnixNano())
	c.Kubectl(t, "create", "namespace", ns)
	t.Cleanup(func() { c.KubectlErr("delete", "namespace", ns, "--wait=false") })
	c.Apply(t, fmt.Sprintf(`
apiVersion: apps/v1
kind: Deployment
metadata: {name: hello, namespace: %[1]s}
spec:
  replicas: 2
  selector: {matchLabels: {app: hello}}
  template:
    metadata: {labels: {app: hello}}
    spec:
      terminationGracePeriodSeconds: 1
      containers:
      - name: hello
        image: %[2]s
        ports: [{containerPort: 8080}]
        readinessProbe: {httpGet: {path: /, port: 8080}, periodSeconds: 1}
        securityContext:
          runAsNonRoot: true
          runAsUser: 65534
          allowPrivilegeEscalation: false
          capabilities: {drop: [ALL]}
          seccompProfile: {type: RuntimeDefault}
---
apiVersion: v1
kind: Service
metadata: {name: hello, namespace: %[1]s}
spec:
  type: NodePort
  selector: {app: hello}
  ports: [{port: 80, targetPort: 8080}]
---
apiVersion: v1
kind: Service
metadata: {name: hello-headless, namespace: %[1]s}
spec:
  clusterIP: None
  selector: {app: hello}
  ports: [{port: 8080}]
`, ns, image))
	c.Kubectl(t, "-n", ns, "rollout", "status", "deployment/hello", "--timeout=120s")
	podIPs := strings.Fields(c.Kubectl(t, "-n", ns, "get", "pods", "-l", "app=hello", "-o", "jsonpath={.items[*].status.podIP}"))
	podNames := strings.Fields(c.Kubectl(t, "-n", ns, "get", "pods", "-l", "app=hello", "-o", "jsonpath={.items[*].metadata.name}"))
	slices.Sort(podIPs)
	if len(podIPs) != 2 {
		t.Fatalf("pod IPs %v, want 2", podIPs)
	}

	// Logs come from the kubelet through the API server, as rscale logs reads them.
	for _, pod := range podNames {
		if logs := c.Kubectl(t, "-n", ns, "logs", pod); !strings.Contains(logs, "hello: listening on :8080") {
			t.Errorf("logs of %s: %q, want the line hello writes when it starts", pod, logs)
		}
	}

	nodePort := c.Kubectl(t, "-n", ns, "get", "service", "hello", "-o", "jsonpath={.spec.ports[0].nodePort}")
	url := "http://" + c.NodeIP + ":" + nodePort
	if got := strings.TrimSpace(eventually(t, url+"/")); !slices.Contains(podNames, got) {
		t.Errorf("GET %s/ answered %q, want one of the pods %v", url, got, podNames)
	}

	headless := "hello-headless." + ns + ".svc.cluster.local"
	// Endpoints reach CoreDNS a moment after the pods are ready.
	var got []string
	for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(500 * time.Millisecond) {
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
		got, _ = c.Resolver().LookupHost(ctx, headless)
		cancel()
		slices.Sort(got)
		if slices.Equal(got, podIPs) || time.Now().After(deadline) {
			break
		}
	}
	if !slices.Equal(got, podIPs) {
		t.Errorf("from the host, %s resolves to %v, want the pods' %v", headless, got, podIPs)
	}

	// The short name, through the pod's own resolv.conf (search path and nameserver from the
	// kubelet's clusterDNS), as a proxy running in a pod resolves it.
	if got := strings.Fields(eventually(t, url+"/resolve?name=hello-headless")); !slices.Equal(got, podIPs) {
		t.Errorf("from a pod, hello-headless resolves to %v, want %v", got, podIPs)
	}
	if got := strings.TrimSpace(eventually(t, url+"/resolve?name=kubernetes.default")); got != "10.250.2.1" {
		t.Errorf("from a pod, kubernetes.default resolves to %q, want the API server's Service address 10.250.2.1", got)
	}
}

// eventually GETs url until it answers 200 (a NodePort's rules appear a moment after the
// Service) and returns the body.
func eventually(t *testing.T, url string) string {
	t.Helper()
	client := &http.Client{Timeout: 3 * time.Second}
	var last string
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(500 * time.Millisecond) {
		resp, err := client.Get(url)
		if err != nil {
			last = err.Error()
			continue
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode == http.StatusOK {
			return string(body)
		}
		last = fmt.Sprintf("%s: %s", resp.Status, body)
	}
	t.Fatalf("GET %s: %s", url, last)
	return ""
}
