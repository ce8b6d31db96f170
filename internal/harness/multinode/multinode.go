// Package multinode gives end-to-end tests the three-node swarm they run on:
// testdata/harness/multinode starts three dockerds (each in its own network namespace, with
// its own containerd and data) and an image registry on this machine, and removes all of it
// afterwards.
package multinode

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/docker/docker/client"
	"golang.org/x/sys/unix"

	"github.com/rscale/rscale/internal/testenv"
)

const (
	// The harness's names: namespaces rsmn (the bridge and the registry) and rsmn1..3 (the
	// nodes, whose host names are the same), and the cgroup parents /rsmn1..3.
	harnessNS = "rsmn"
	// Registry is the harness's image registry, which every node pulls from.
	Registry = "10.213.0.1:5000"
)

// Swarm is a running three-node swarm.
type Swarm struct {
	base string
	// Manager is the manager's engine; Nodes[i] is node i+1's (Nodes[0] is the manager).
	Manager *client.Client
	Nodes   [3]*client.Client
	HTTP    *http.Client // reaches the nodes' addresses, from the bridge's namespace
}

// Host is the DOCKER_HOST of node n (1 to 3).
func (m *Swarm) Host(n int) string {
	return "unix://" + filepath.Join(m.base, fmt.Sprintf("n%d", n), "docker.sock")
}

// Addr is node n's address on the bridge.
func (m *Swarm) Addr(n int) string { return fmt.Sprintf("10.213.0.1%d", n) }

// DockerdPID is the pid of node n's dockerd, as up.sh recorded it.
func (m *Swarm) DockerdPID(t testing.TB, n int) int {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(m.base, fmt.Sprintf("n%d", n), "dockerd.pid"))
	if err != nil {
		t.Fatal(err)
	}
	var pid int
	if _, err := fmt.Sscan(string(data), &pid); err != nil {
		t.Fatalf("dockerd.pid of node %d: %v", n, err)
	}
	return pid
}

// KillContainers kills every process of node n's containers (they run in its cgroup,
// /rsmnN), as losing the machine would, and returns how many there were.
func (m *Swarm) KillContainers(t testing.TB, n int) int {
	t.Helper()
	killed := 0
	_ = filepath.WalkDir(fmt.Sprintf("/sys/fs/cgroup/memory/%s%d", harnessNS, n), func(path string, d os.DirEntry, err error) error {
		if err != nil || d.Name() != "cgroup.procs" {
			return nil
		}
		data, _ := os.ReadFile(path)
		for _, field := range strings.Fields(string(data)) {
			var pid int
			if _, err := fmt.Sscan(field, &pid); err == nil && unix.Kill(pid, unix.SIGKILL) == nil {
				killed++
			}
		}
		return nil
	})
	return killed
}

// Start brings the harness up, with the main engine's images copied to the manager (for
// builds there), and removes it when t ends, then checks that it left nothing behind. It
// skips when the machine cannot run it (not root, no iproute2 or util-linux), and fails
// instead when CI is set.
func Start(t testing.TB, images ...string) *Swarm {
	t.Helper()
	var missing []string
	for _, tool := range []string{"ip", "unshare", "dockerd", "docker", "apt-get", "dpkg"} {
		if _, err := exec.LookPath(tool); err != nil {
			missing = append(missing, tool)
		}
	}
	if os.Geteuid() != 0 {
		missing = append(missing, "root")
	}
	if len(missing) > 0 {
		if os.Getenv("CI") != "" {
			t.Fatalf("the multi-node swarm needs %s (apt-get install iproute2 util-linux)", strings.Join(missing, ", "))
		}
		t.Skipf("the multi-node swarm needs %s", strings.Join(missing, ", "))
	}
	m := &Swarm{base: filepath.Join(os.TempDir(), "rscale-mn")}
	dir := testenv.Testdata(t, "harness", "multinode")
	script := func(name string, args ...string) ([]byte, error) {
		cmd := exec.Command("bash", append([]string{filepath.Join(dir, name)}, args...)...)
		cmd.Env = append(os.Environ(), "BASE="+m.base)
		return cmd.CombinedOutput()
	}
	t.Cleanup(func() {
		began := time.Now()
		out, err := script("down.sh")
		t.Logf("down.sh took %s:\n%s", time.Since(began).Round(time.Millisecond), out)
		if err != nil {
			t.Errorf("down.sh: %v", err)
		}
		if left := harnessLeftovers(m.base); len(left) > 0 {
			t.Errorf("the harness left behind:\n  %s", strings.Join(left, "\n  "))
		}
	})
	began := time.Now()
	out, err := script("up.sh", images...)
	t.Logf("up.sh took %s:\n%s", time.Since(began).Round(time.Millisecond), out)
	if err != nil {
		t.Fatalf("up.sh: %v", err)
	}
	for i := range m.Nodes {
		c, err := client.NewClientWithOpts(client.WithHost(m.Host(i+1)), client.WithAPIVersionNegotiation())
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		m.Nodes[i] = c
	}
	m.Manager = m.Nodes[0]
	m.HTTP = &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{DialContext: dialInNetns(harnessNS)}}
	return m
}

// dialInNetns dials from inside the network namespace ns, where the nodes' addresses are:
// the socket is made on a thread moved into ns, and works from any thread afterwards.
func dialInNetns(ns string) func(ctx context.Context, network, addr string) (net.Conn, error) {
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		type dialed struct {
			conn net.Conn
			err  error
		}
		done := make(chan dialed, 1)
		go func() {
			// Never unlocked: the thread, now in ns, ends with this goroutine.
			runtime.LockOSThread()
			f, err := os.Open("/run/netns/" + ns)
			if err != nil {
				done <- dialed{nil, err}
				return
			}
			defer f.Close()
			if err := unix.Setns(int(f.Fd()), unix.CLONE_NEWNET); err != nil {
				done <- dialed{nil, fmt.Errorf("entering network namespace %s: %w", ns, err)}
				return
			}
			var d net.Dialer
			c, err := d.DialContext(ctx, network, addr)
			done <- dialed{c, err}
		}()
		r := <-done
		return r.conn, r.err
	}
}

// harnessLeftovers lists what of the harness still exists: network namespaces, processes
// (daemons, containerd, shims, containers), mounts and cgroups.
func harnessLeftovers(base string) []string {
	var left []string
	for _, ns := range []string{harnessNS, harnessNS + "1", harnessNS + "2", harnessNS + "3"} {
		if _, err := os.Stat("/run/netns/" + ns); err == nil {
			left = append(left, "network namespace "+ns)
		}
	}
	procs, _ := filepath.Glob("/proc/[0-9]*/cmdline")
	for _, p := range procs {
		data, err := os.ReadFile(p)
		if err != nil {
			continue
		}
		cmdline := strings.ReplaceAll(string(data), "\x00", " ")
		if strings.Contains(cmdline, base+"/n") || strings.Contains(cmdline, base+"/registry") {
			left = append(left, "process "+filepath.Base(filepath.Dir(p))+": "+cmdline)
		}
	}
	if mounts, err := os.ReadFile("/proc/self/mountinfo"); err == nil {
		for _, line := range strings.Split(string(mounts), "\n") {
			if strings.Contains(line, base+"/") || strings.Contains(line, "/run/netns/"+harnessNS) {
				left = append(left, "mount "+line)
			}
		}
	}
	cgroups, _ := filepath.Glob("/sys/fs/cgroup/*/" + harnessNS + "[123]")
	for _, c := range cgroups {
		left = append(left, "cgroup "+c)
	}
	return left
}
