// Package testenv is what the end-to-end tests (internal/e2e) and the benchmark suite
// (internal/bench) share: the repository's testdata, the test images on the Docker engine,
// rscale run in-process, example projects initialised for those images, and requests to
// what they deploy. Go runs each package's tests in the package's folder, so paths to
// testdata go through Root.
package testenv

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/docker/docker/api/types/filters"
	"github.com/docker/docker/api/types/swarm"
	"github.com/docker/docker/client"

	"github.com/rscale/rscale/pkg/docker"
)

// The images the tests deploy, built from Debian's packages by testdata/images/build.sh,
// since no image can be pulled here.
const (
	RImage       = "rscale-test/r-base:bookworm"
	HAProxyImage = "rscale-test/haproxy:bookworm"
)

const module = "github.com/rscale/rscale"

// root finds the repository once: the first folder up from the working directory whose
// go.mod is rscale's (testdata holds other modules' go.mod files).
var root = sync.OnceValues(func() (string, error) {
	start, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for dir := start; ; dir = filepath.Dir(dir) {
		if data, err := os.ReadFile(filepath.Join(dir, "go.mod")); err == nil && modulePath(data) == module {
			return dir, nil
		}
		if filepath.Dir(dir) == dir {
			return "", fmt.Errorf("no go.mod of %s in %s or above it: run the tests from inside the rscale repository", module, start)
		}
	}
})

// modulePath is the path a go.mod's module directive names.
func modulePath(gomod []byte) string {
	sc := bufio.NewScanner(bytes.NewReader(gomod))
	for sc.Scan() {
		if fields := strings.Fields(sc.Text()); len(fields) == 2 && fields[0] == "module" {
			return strings.Trim(fields[1], `"`)
		}
	}
	return ""
}

// Root is the repository's root folder.
func Root(t testing.TB) string {
	t.Helper()
	dir, err := root()
	if err != nil {
		t.Fatal(err)
	}
	return dir
}

// Testdata is the path of elem under the repository's testdata folder.
func Testdata(t testing.TB, elem ...string) string {
	t.Helper()
	return filepath.Join(append([]string{Root(t), "testdata"}, elem...)...)
}

var testImages struct {
	once sync.Once
	err  error
	log  []byte
}

// NeedEngine connects to the engine and makes sure the test images exist. It skips under
// -short or when no engine answers, and fails instead when CI is set.
func NeedEngine(t testing.TB) *client.Client {
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
	script := Testdata(t, "images", "build.sh")
	testImages.once.Do(func() {
		testImages.log, testImages.err = exec.Command("bash", script, "r-base", "haproxy").CombinedOutput()
	})
	if testImages.err != nil {
		t.Fatalf("building the test images: %v\n%s", testImages.err, testImages.log)
	}
	return c
}

// ServiceTasks lists every task Swarm keeps for the service, the finished ones included.
func ServiceTasks(t testing.TB, c *client.Client, service string) []swarm.Task {
	t.Helper()
	tasks, err := c.TaskList(context.Background(), swarm.TaskListOptions{Filters: filters.NewArgs(filters.Arg("service", service))})
	if err != nil {
		t.Fatal(err)
	}
	return tasks
}
