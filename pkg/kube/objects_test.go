package kube

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/compose-spec/compose-go/v2/types"

	"github.com/rscale/rscale/internal/golden"
	"github.com/rscale/rscale/pkg/haproxy"
	"github.com/rscale/rscale/pkg/project"
	"github.com/rscale/rscale/pkg/scaffold"
	"github.com/rscale/rscale/pkg/stack"
)

// initProject copies an example project and writes what `rscale init --target kubernetes` writes.
func initProject(t *testing.T, name string, change func(*scaffold.Options)) (*types.Project, string) {
	t.Helper()
	dir := filepath.Join(t.TempDir(), name)
	if err := os.CopyFS(dir, os.DirFS(filepath.Join("..", "..", "testdata", "projects", name))); err != nil {
		t.Fatal(err)
	}
	p, err := project.Load(dir, "")
	if err != nil {
		t.Fatal(err)
	}
	o := scaffold.DefaultOptions()
	// What cmd/init passes from the Kubernetes engine's registration.
	o.Target, o.Proxy, o.Proxies, o.HAProxy = Registration.Name, scaffold.ProxyHAProxy, Registration.Proxies, Registration.HAProxy
	if change != nil {
		change(&o)
	}
	files, err := scaffold.Render(p, o, "test")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := scaffold.Write(dir, files, scaffold.WriteOptions{Version: "test"}); err != nil {
		t.Fatal(err)
	}
	proj, err := stack.Load(context.Background(), filepath.Join(dir, "rscale.yml"), "rscale")
	if err != nil {
		t.Fatal(err)
	}
	ext, err := stack.ReadExtension(proj)
	if err != nil {
		t.Fatal(err)
	}
	if ext.Target != o.Target {
		t.Errorf("x-rscale target %q, want kubernetes", ext.Target)
	}
	return proj, ext.Stack
}

// exampleProjects are the projects in testdata/projects, each with init's options for it.
var exampleProjects = map[string]func(*scaffold.Options){
	"description": nil,
	"echo":        nil, // its --dashboard case is Swarm's only: TestBuildRefusesTheDashboard
	"mounted":     func(o *scaffold.Options) { o.Service = "users_api" },
	"randomforest": func(o *scaffold.Options) {
		o.CPUs, o.Memory, o.ProxyPort, o.Replicas = "1", "512M", 8080, 3
	},
	"renv":  nil,
	"sleep": nil,
}

func TestGoldenObjects(t *testing.T) {
	entries, err := os.ReadDir(filepath.Join("..", "..", "testdata", "projects"))
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		change, ok := exampleProjects[e.Name()]
		if !ok {
			t.Errorf("testdata/projects/%s has no case here: add it to exampleProjects", e.Name())
			continue
		}
		t.Run(e.Name(), func(t *testing.T) {
			p, name := initProject(t, e.Name(), change)
			objs, err := Build(p, name, Options{})
			if err != nil {
				t.Fatal(err)
			}
			out, err := YAML(objs.All())
			if err != nil {
				t.Fatal(err)
			}
			golden.Assert(t, filepath.Join("..", "..", "testdata", "golden", "kubernetes", e.Name()+".yaml"), out)
		})
	}
}

// A haproxy.cfg rendered for Swarm's network would find no replica on Kubernetes.
func TestBuildRefusesAConfigForAnotherNetwork(t *testing.T) {
	p, name := initProject(t, "echo", func(o *scaffold.Options) { o.HAProxy = haproxy.Swarm })
	_, err := Build(p, name, Options{})
	for _, want := range []string{"parse-resolv-conf", "rscale init --force --target kubernetes"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("got %v, want an error containing %q", err, want)
		}
	}
}

// A count a Deployment's int32 cannot hold is refused, not wrapped to a negative one.
func TestBuildRefusesReplicasAnInt32CannotHold(t *testing.T) {
	for _, service := range []string{"model_server", ProxyService} {
		p, name := initProject(t, "echo", nil)
		svc := p.Services[service]
		n := 3000000000
		svc.Deploy = &types.DeployConfig{Replicas: &n}
		p.Services[service] = svc
		_, err := Build(p, name, Options{})
		for _, want := range []string{"service " + service + ": ", "deploy.replicas 3000000000: a Kubernetes Deployment holds 0 to 2147483647 replicas"} {
			if err == nil || !strings.Contains(err.Error(), want) {
				t.Errorf("%s: got %v, want an error containing %q", service, err, want)
			}
		}
	}
}

// The dashboard's users file is a secret that rscale does not deliver on Kubernetes: a stack
// file written for Swarm with one is refused, not deployed with a proxy that cannot start.
func TestBuildRefusesTheDashboard(t *testing.T) {
	p, name := initProject(t, "echo", func(o *scaffold.Options) { o.Dashboard = true })
	_, err := Build(p, name, Options{})
	if err == nil || !strings.Contains(err.Error(), "the proxy has secrets (dashboard_users)") || !strings.Contains(err.Error(), "without --dashboard") {
		t.Errorf("got %v", err)
	}
}
