package scaffold

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/rscale/rscale/internal/golden"
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
	{name: "echo-haproxy", project: "echo", change: func(o *Options) {
		o.Proxy, o.Replicas, o.Dashboard = ProxyHAProxy, 3, true
	}},
	{name: "randomforest", project: "randomforest", change: func(o *Options) {
		o.Proxy, o.CPUs, o.Memory, o.ProxyPort = ProxyHAProxy, "1", "512M", 8080
	}},
	{name: "mounted", project: "mounted", change: func(o *Options) {
		o.Strategy, o.Service = "p2c", "users_api"
	}},
	{name: "renv", project: "renv"},
	{name: "description", project: "description", change: func(o *Options) {
		o.Dashboard, o.Replicas = true, 4
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
	return dir
}

// need finds a tool a test depends on. CI installs them all, so there a missing tool fails the test.
func need(t *testing.T, tool string) string {
	t.Helper()
	path, err := exec.LookPath(tool)
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("%s is not installed; .ci/run should have installed it", tool)
		}
		t.Skipf("%s is not installed", tool)
	}
	return path
}

// The docker CLI validates a stack file against its own schema, without a swarm.
func TestStackFileAcceptedByDockerStack(t *testing.T) {
	docker := need(t, "docker")
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
	haproxy := need(t, "haproxy")
	for _, c := range goldenCases {
		if c.options().Proxy != ProxyHAProxy {
			continue
		}
		t.Run(c.name, func(t *testing.T) {
			dir := writeCase(t, c)
			out, err := exec.Command(haproxy, "-c", "-f", filepath.Join(dir, "haproxy.cfg")).CombinedOutput()
			if err != nil {
				t.Errorf("haproxy -c refused haproxy.cfg: %v\n%s", err, out)
			}
		})
	}
}
