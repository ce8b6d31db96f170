package kube

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
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
