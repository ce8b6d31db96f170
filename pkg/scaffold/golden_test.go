package scaffold

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/rscale/rscale/internal/golden"
	"github.com/rscale/rscale/internal/testtool"
	"github.com/rscale/rscale/pkg/project"
)

// goldenCase is one `rscale init` run over a project in testdata/projects.
type goldenCase struct {
	name    string // golden files live in testdata/golden/<name>
	project string
	change  func(*Options)
}

var goldenCases = []goldenCase{
	{name: "echo", project: "echo"},
	{name: "echo-traefik", project: "echo", change: func(o *Options) {
		o.Proxy = ProxyTraefik
	}},
	{name: "echo-haproxy", project: "echo", change: func(o *Options) {
		o.Proxy, o.Replicas, o.Dashboard = ProxyHAProxy, 3, true
	}},
	{name: "randomforest", project: "randomforest", change: func(o *Options) {
		o.CPUs, o.Memory, o.ProxyPort = "1", "512M", 8080
		o.RequestTimeout, o.QueueTimeout = 10*time.Minute, 30*time.Second
	}},
	{name: "mounted", project: "mounted", change: func(o *Options) {
		o.Proxy, o.Service, o.QueueImage = ProxyTraefik, "users_api", "haproxy:3.2"
	}},
	{name: "renv", project: "renv"},
	{name: "description", project: "description", change: func(o *Options) {
		o.Proxy, o.Dashboard, o.Replicas = ProxyTraefik, true, 4
	}},
}

func (c goldenCase) options() Options {
	o := DefaultOptions()
	if c.change != nil {
		c.change(&o)
	}
	return o
}

func loadProject(t *testing.T, dir string) *project.Project {
	t.Helper()
	p, err := project.Load(dir, "")
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func renderCase(t *testing.T, c goldenCase) []File {
	t.Helper()
	p := loadProject(t, filepath.Join("..", "..", "testdata", "projects", c.project))
	files, err := Render(p, c.options(), "test")
	if err != nil {
		t.Fatal(err)
	}
	return files
}

func TestGolden(t *testing.T) {
	for _, c := range goldenCases {
		t.Run(c.name, func(t *testing.T) {
			for _, f := range renderCase(t, c) {
				golden.Assert(t, filepath.Join("..", "..", "testdata", "golden", c.name, f.Path), f.Data)
			}
		})
	}
}

// writeCase writes a case's files into a copy of its project, as init would.
func writeCase(t *testing.T, c goldenCase) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), c.project)
	if err := os.CopyFS(dir, os.DirFS(filepath.Join("..", "..", "testdata", "projects", c.project))); err != nil {
		t.Fatal(err)
	}
	if _, err := Write(dir, renderCase(t, c), WriteOptions{}); err != nil {
		t.Fatal(err)
	}
	if c.options().Dashboard {
		files, err := DashboardSecrets(dir, c.options().Proxy)
		if err != nil {
			t.Fatal(err)
		}
		secrets, err := PlanSecrets(dir, files)
		if err != nil {
			t.Fatal(err)
		}
		if err := WriteSecrets(dir, secrets); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// The docker CLI validates a stack file against its own schema, without a swarm.
func TestStackFileAcceptedByDockerStack(t *testing.T) {
	docker := testtool.Need(t, "docker")
	for _, c := range goldenCases {
		t.Run(c.name, func(t *testing.T) {
			dir := writeCase(t, c)
			cmd := exec.Command(docker, "stack", "config", "-c", c.options().StackFile)
			cmd.Dir = dir
			if out, err := cmd.CombinedOutput(); err != nil {
				t.Errorf("docker stack config refused the stack file: %v\n%s", err, out)
			}
		})
	}
}

func TestHAProxyConfigIsValid(t *testing.T) {
	haproxy := testtool.Need(t, "haproxy")
	for _, c := range goldenCases {
		t.Run(c.name, func(t *testing.T) {
			dir := writeCase(t, c)
			args := []string{"-c", "-f", filepath.Join(dir, "haproxy.cfg")}
			if o := c.options(); o.Dashboard && o.Proxy == ProxyHAProxy {
				// The stats page's user list comes from a Swarm secret, as the stack file says.
				args = append(args, "-f", filepath.Join(dir, DashboardUsersFile))
			}
			out, err := exec.Command(haproxy, args...).CombinedOutput()
			if err != nil {
				t.Errorf("haproxy -c refused haproxy.cfg: %v\n%s", err, out)
			}
		})
	}
}
