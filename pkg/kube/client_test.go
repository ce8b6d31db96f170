package kube

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rscale/rscale/internal/testtool"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// kubeconfig writes a kubeconfig with one context per server, the first current.
func kubeconfig(t *testing.T, servers map[string]string, current string) string {
	t.Helper()
	var b strings.Builder
	b.WriteString("apiVersion: v1\nkind: Config\ncurrent-context: " + current + "\nclusters:\n")
	for name, url := range servers {
		fmt.Fprintf(&b, "- name: %s\n  cluster:\n    server: %s\n", name, url)
	}
	b.WriteString("users:\n- name: me\n  user:\n    token: secret\ncontexts:\n")
	for name := range servers {
		fmt.Fprintf(&b, "- name: %s\n  context:\n    cluster: %s\n    user: me\n", name, name)
	}
	path := filepath.Join(t.TempDir(), "config")
	if err := os.WriteFile(path, []byte(b.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// apiServer answers /version and knows one namespace, "default".
func apiServer(t *testing.T) *httptest.Server {
	s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		switch r.URL.Path {
		case "/version":
			fmt.Fprint(w, `{"major":"1","minor":"37","gitVersion":"v1.37.2"}`)
		case "/api/v1/namespaces/default":
			fmt.Fprint(w, `{"kind":"Namespace","apiVersion":"v1","metadata":{"name":"default"}}`)
		default:
			w.WriteHeader(http.StatusNotFound)
			name := filepath.Base(r.URL.Path)
			fmt.Fprintf(w, `{"kind":"Status","apiVersion":"v1","status":"Failure","reason":"NotFound","code":404,"message":"namespaces \"%s\" not found","details":{"name":"%s","kind":"namespaces"}}`, name, name)
		}
	}))
	t.Cleanup(s.Close)
	return s
}

func TestConnectErrors(t *testing.T) {
	server := apiServer(t)
	// A port nothing listens on: reserve one, then free it.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := "http://" + l.Addr().String()
	l.Close()
	good := kubeconfig(t, map[string]string{"test": server.URL, "gone": closed}, "test")

	cases := []struct {
		name string
		env  string // KUBECONFIG
		o    ConnectOptions
		want []string
	}{
		{"no kubeconfig", filepath.Join(t.TempDir(), "none"), ConnectOptions{},
			[]string{"no Kubernetes cluster configured", "KUBECONFIG", "--target swarm"}},
		{"unknown context", good, ConnectOptions{Context: "prod"},
			[]string{`context "prod" is not in the kubeconfig`, "gone, test", "--context"}},
		{"unreachable cluster", good, ConnectOptions{Context: "gone"},
			[]string{`cannot reach the Kubernetes cluster of context "gone" at ` + closed, "is it running"}},
		{"unknown namespace", good, ConnectOptions{Namespace: "nope"},
			[]string{`namespace "nope" does not exist`, "kubectl create namespace nope", "--namespace"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Setenv("KUBECONFIG", c.env)
			t.Setenv("HOME", t.TempDir())
			_, err := Connect(context.Background(), c.o)
			if err == nil {
				t.Fatal("connected")
			}
			for _, w := range c.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("%q lacks %q", err, w)
				}
			}
		})
	}

	t.Run("found", func(t *testing.T) {
		t.Setenv("KUBECONFIG", good)
		c, err := Connect(context.Background(), ConnectOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if c.Namespace != "default" || c.Context != "test" || c.Host != server.URL {
			t.Errorf("%+v", c)
		}
	})
}

const testWait = 200 * time.Millisecond

// within fails the test unless f returns within a few times the wait.
func within(t *testing.T, f func()) {
	t.Helper()
	start := time.Now()
	f()
	if took := time.Since(start); took > 10*testWait {
		t.Errorf("took %s, want about %s", took, testWait)
	}
}

// A cluster whose API server accepts the connection and never answers is named, with what
// to do, once the wait is over.
func TestConnectToHungCluster(t *testing.T) {
	hung := "http://" + testtool.HungServer(t, "tcp", "127.0.0.1:0")
	t.Setenv("KUBECONFIG", kubeconfig(t, map[string]string{"hung": hung}, "hung"))
	t.Setenv("HOME", t.TempDir())
	want := `the Kubernetes API server of context "hung" at ` + hung + " did not answer within 200ms: is the cluster running and healthy? (kubectl cluster-info)"
	within(t, func() {
		_, err := Connect(context.Background(), ConnectOptions{Timeout: testWait})
		if err == nil || err.Error() != want+"; on a slow link, allow it longer with RSCALE_ENGINE_TIMEOUT=30s" {
			t.Errorf("a hung API server: %v, want %q", err, want)
		}
	})
}

// After connecting, a request the API server does not answer ends at the deadline, and a
// log stream that has started runs past it.
func TestRequestDeadlineNotStream(t *testing.T) {
	api := apiServer(t)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/api/v1/namespaces/default/pods":
			<-r.Context().Done()
		case "/api/v1/namespaces/default/pods/p/log":
			fmt.Fprintln(w, "one")
			w.(http.Flusher).Flush()
			time.Sleep(2 * testWait)
			fmt.Fprintln(w, "two")
		default:
			api.Config.Handler.ServeHTTP(w, r)
		}
	}))
	t.Cleanup(srv.Close)
	t.Setenv("KUBECONFIG", kubeconfig(t, map[string]string{"test": srv.URL}, "test"))
	t.Setenv("HOME", t.TempDir())
	c, err := Connect(context.Background(), ConnectOptions{Timeout: testWait})
	if err != nil {
		t.Fatal(err)
	}
	within(t, func() {
		_, err := c.Client.CoreV1().Pods("default").List(context.Background(), metav1.ListOptions{})
		err = c.explain(err, "list", "pods")
		want := `list pods in namespace "default": the Kubernetes API server of context "test" at ` + srv.URL + " did not answer within 200ms"
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("a request the API server does not answer: %v, want %q", err, want)
		}
	})
	rc, err := c.Client.CoreV1().Pods("default").GetLogs("p", &corev1.PodLogOptions{Follow: true}).Stream(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	got, err := io.ReadAll(rc)
	if err != nil || string(got) != "one\ntwo\n" {
		t.Errorf("the log stream: %q, %v; want both lines", got, err)
	}
}

func TestConnectTimeoutFromEnv(t *testing.T) {
	t.Setenv("KUBECONFIG", kubeconfig(t, map[string]string{"test": apiServer(t).URL}, "test"))
	t.Setenv("RSCALE_ENGINE_TIMEOUT", "soon")
	if _, err := Connect(context.Background(), ConnectOptions{}); err == nil || !strings.Contains(err.Error(), `RSCALE_ENGINE_TIMEOUT="soon" is not a duration`) {
		t.Errorf("a timeout that is no duration: %v", err)
	}
}
