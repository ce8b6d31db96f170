package testenv

import (
	"bytes"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/rscale/rscale/cmd"
)

// Result is what one run of rscale printed, and its exit code.
type Result struct {
	Stdout, Stderr string
	Code           int
}

// Rscale runs the CLI in-process, as a user would run it.
func Rscale(t testing.TB, args ...string) Result {
	t.Helper()
	var out, errOut bytes.Buffer
	code := cmd.Run(cmd.Streams{In: strings.NewReader(""), Out: &out, ErrOut: &errOut}, args)
	t.Logf("rscale %s: exit %d\n%s%s", strings.Join(args, " "), code, out.String(), errOut.String())
	return Result{out.String(), errOut.String(), code}
}

// MustRscale is Rscale, failing the test when rscale exits non-zero.
func MustRscale(t testing.TB, args ...string) Result {
	t.Helper()
	r := Rscale(t, args...)
	if r.Code != 0 {
		t.Fatalf("rscale %s failed (exit %d):\n%s", strings.Join(args, " "), r.Code, r.Stderr)
	}
	return r
}

// Project is an example API copied into a temporary folder and initialised for the test
// images, with the HAProxy proxy on a free port.
type Project struct {
	Dir, Stack string
	Port       int
}

// NewProject copies testdata/projects/fixture and initialises it as stack, with quicker
// health checks.
func NewProject(t testing.TB, fixture, stack string, initArgs ...string) Project {
	t.Helper()
	return SetupProject(t, fixture, stack, true, initArgs...)
}

// SetupProject is NewProject, with the generated health checks kept as they are unless quick.
func SetupProject(t testing.TB, fixture, stack string, quick bool, initArgs ...string) Project {
	t.Helper()
	p := Project{Dir: filepath.Join(t.TempDir(), fixture), Stack: stack, Port: FreePort(t)}
	if err := os.CopyFS(p.Dir, os.DirFS(Testdata(t, "projects", fixture))); err != nil {
		t.Fatal(err)
	}
	args := append([]string{"init", p.Dir, "--name", stack,
		"--base-image", RImage, "--proxy-image", HAProxyImage, "--proxy-port", strconv.Itoa(p.Port)}, initArgs...)
	MustRscale(t, args...)
	if slices.Contains(initArgs, "--dashboard") {
		password, err := os.ReadFile(filepath.Join(p.Dir, ".rscale", "secrets", "dashboard-password"))
		if err != nil {
			t.Fatal(err)
		}
		dashboardPassword.Lock()
		dashboardPassword.value = strings.TrimSpace(string(password))
		dashboardPassword.Unlock()
	}
	if quick {
		QuickerHealthChecks(t, filepath.Join(p.Dir, "rscale.yml"))
	}
	Rscale(t, "down", p.Dir) // what an interrupted earlier run left
	t.Cleanup(func() { Rscale(t, "down", p.Dir) })
	return p
}

// QuickerHealthChecks shortens the generated health checks and update monitoring, which
// suit production, so a test waits seconds rather than minutes for each rollout.
func QuickerHealthChecks(t testing.TB, file string) {
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

// FreePort is a TCP port free on 127.0.0.1 a moment ago.
func FreePort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// URL is path on the project's proxy, published on this machine.
func (p Project) URL(path string) string {
	return fmt.Sprintf("http://127.0.0.1:%d%s", p.Port, path)
}

// Edit replaces the first old in the project's file with replacement, and fails the test if
// the file has no old.
func (p Project) Edit(t testing.TB, file, old, replacement string) {
	t.Helper()
	path := filepath.Join(p.Dir, file)
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

// dashboardPassword is the password init generated for the last project initialised with
// --dashboard: its HAProxy statistics are on the node's port 8404, which one stack at a time
// can publish.
var dashboardPassword struct {
	sync.Mutex
	value string
}
