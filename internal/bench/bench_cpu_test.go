package bench

// Where the CPU goes during a benchmark, read from /proc on this machine (the swarm's only
// node): the Docker engine, the containers' shims with what they start (runc and the health
// checks' processes), the R processes, HAProxy, Docker's userland proxy and storage, this
// test process (the load generator), and the rest of the machine.

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/filters"
	"github.com/docker/docker/client"
)

// clockTicks is USER_HZ, the unit of /proc/<pid>/stat's times: 100 on every Linux rscale runs on.
const clockTicks = 100

// cpuParts is CPU time in seconds, by part of the machine.
type cpuParts struct {
	engine  float64 // dockerd and containerd, with the processes they reaped
	shims   float64 // the containers' shims themselves
	reaped  float64 // what the shims started and reaped: runc, the health checks' processes
	r       float64 // the R processes of the containers
	proxy   float64 // the proxy's processes
	portFwd float64 // docker-proxy, which carries connections to a published port from this machine
	storage float64 // fuse-overlayfs, when Docker's storage driver is that: the containers' file I/O
	loadgen float64 // this test process
	busy    float64 // the whole machine, not idle
}

// cpuWatch follows the containers of some services on this machine.
type cpuWatch struct {
	c          *client.Client
	containers []watchedContainer
	portFwd    []int // docker-proxy processes of the published port
	storage    []int // fuse-overlayfs processes
	pids       []int // more processes, counted with R (rscale serve's workers)
	began      time.Time
	start      map[string]float64
}

type watchedContainer struct {
	id    string
	pid   int // the container's first process
	shim  int
	proxy bool
}

// watchCPU starts measuring the CPU of the services' containers, and of the rest; port is the
// one the stack publishes (0: none).
func watchCPU(t *testing.T, c *client.Client, port int, services ...string) *cpuWatch {
	t.Helper()
	w := &cpuWatch{c: c}
	shims := map[string]int{}
	for pid, args := range processes() {
		switch {
		case strings.Contains(args[0], "containerd-shim"):
			if i := slices.Index(args, "-id"); i >= 0 && i+1 < len(args) {
				shims[args[i+1]] = pid
			}
		case strings.HasSuffix(args[0], "docker-proxy"):
			if i := slices.Index(args, "-host-port"); port > 0 && i >= 0 && i+1 < len(args) && args[i+1] == strconv.Itoa(port) {
				w.portFwd = append(w.portFwd, pid)
			}
		case strings.HasSuffix(args[0], "fuse-overlayfs"):
			w.storage = append(w.storage, pid)
		}
	}
	for _, service := range services {
		list, err := c.ContainerList(context.Background(), container.ListOptions{Filters: filters.NewArgs(filters.Arg("label", "com.docker.swarm.service.name="+service))})
		if err != nil {
			t.Fatal(err)
		}
		for _, ct := range list {
			info, err := c.ContainerInspect(context.Background(), ct.ID)
			if cerrdefs.IsNotFound(err) {
				continue // a replica of a scale-down, removed since the list
			}
			if err != nil {
				t.Fatal(err)
			}
			w.containers = append(w.containers, watchedContainer{id: ct.ID, pid: info.State.Pid, shim: shims[ct.ID], proxy: strings.HasSuffix(service, "_proxy")})
		}
	}
	w.began, w.start = time.Now(), w.read()
	return w
}

// watchProcesses starts measuring the CPU of processes, counted as R, and of the rest.
func watchProcesses(pids []int) *cpuWatch {
	w := &cpuWatch{pids: pids}
	w.began, w.start = time.Now(), w.read()
	return w
}

// cpuUse is the CPU a watch saw, in cores (1 = one CPU all the time), over a period.
type cpuUse struct {
	cpuParts
	period time.Duration
	checks int // health checks that ended in the period
}

// setup is the CPU the measured setup used: everything but other work on the machine.
func (u cpuUse) setup() float64 {
	return u.busy - u.other()
}

func (u cpuUse) other() float64 {
	return u.busy - u.engine - u.shims - u.reaped - u.r - u.proxy - u.portFwd - u.storage - u.loadgen
}

// stop ends the measure. Each process counts for the CPU it used between the start and the
// end, so one that started or ended meanwhile counts for nothing.
func (w *cpuWatch) stop(t *testing.T) cpuUse {
	t.Helper()
	end, now := w.read(), time.Now()
	secs := now.Sub(w.began).Seconds()
	u := cpuUse{period: now.Sub(w.began)}
	parts := map[string]*float64{"engine": &u.engine, "shim": &u.shims, "reaped": &u.reaped, "r": &u.r, "proxy": &u.proxy,
		"portfwd": &u.portFwd, "storage": &u.storage, "loadgen": &u.loadgen, "busy": &u.busy}
	for key, after := range end {
		before, ok := w.start[key]
		if !ok || after < before {
			continue
		}
		part, _, _ := strings.Cut(key, "/")
		*parts[part] += (after - before) / secs
	}
	for _, ct := range w.containers {
		info, err := w.c.ContainerInspect(context.Background(), ct.id)
		if err != nil || info.State.Health == nil {
			continue
		}
		for _, h := range info.State.Health.Log {
			if h.End.After(w.began) && h.End.Before(now) {
				u.checks++
			}
		}
	}
	return u
}

// read is the CPU time, in seconds, of each process followed, keyed by part/process.
func (w *cpuWatch) read() map[string]float64 {
	m := map[string]float64{}
	add := func(key string, pid int, v float64) {
		if pid > 0 {
			m[fmt.Sprintf("%s/%d", key, pid)] = v
		}
	}
	for _, pid := range enginePIDs() {
		add("engine", pid, procCPU(pid, true))
	}
	for _, ct := range w.containers {
		own := procCPU(ct.shim, false)
		add("shim", ct.shim, own)
		add("reaped", ct.shim, procCPU(ct.shim, true)-own)
		if ct.proxy {
			add("proxy", ct.pid, processTree(ct.pid, 0))
		} else {
			add("r", ct.pid, processTree(ct.pid, 0))
		}
	}
	for _, pid := range w.pids {
		add("r", pid, processTree(pid, 0))
	}
	for _, pid := range w.portFwd {
		add("portfwd", pid, procCPU(pid, false))
	}
	for _, pid := range w.storage {
		add("storage", pid, procCPU(pid, false))
	}
	self := os.Getpid()
	add("loadgen", self, procCPU(self, false))
	if idle, total, ok := procStat(); ok {
		m["busy/all"] = float64(total-idle) / clockTicks
	}
	return m
}

// procStat is this machine's idle and total CPU time, in ticks, from /proc/stat.
func procStat() (idle, total uint64, ok bool) {
	data, err := os.ReadFile("/proc/stat")
	if err != nil {
		return 0, 0, false
	}
	line, _, _ := strings.Cut(string(data), "\n")
	fields := strings.Fields(line)
	if len(fields) < 9 {
		return 0, 0, false
	}
	for i, f := range fields[1:9] { // user nice system idle iowait irq softirq steal
		v, _ := strconv.ParseUint(f, 10, 64)
		total += v
		if i == 3 || i == 4 {
			idle += v
		}
	}
	return idle, total, true
}

// enginePIDs are dockerd's and containerd's processes on this machine (0 for one not found).
func enginePIDs() []int {
	return []int{pidFile("/var/run/docker.pid"), pidFile("/var/run/docker/containerd/containerd.pid")}
}

func pidFile(path string) int {
	data, err := os.ReadFile(path)
	if err != nil {
		return 0
	}
	pid, _ := strconv.Atoi(strings.TrimSpace(string(data)))
	return pid
}

// procCPU is a process's CPU time in seconds, with that of the children it reaped if asked.
func procCPU(pid int, reaped bool) float64 {
	if pid <= 0 {
		return 0
	}
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	s := string(data)
	fields := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
	if len(fields) < 15 {
		return 0
	}
	n := 2
	if reaped {
		n = 4
	}
	var ticks float64
	for _, f := range fields[11 : 11+n] { // utime stime cutime cstime
		v, _ := strconv.ParseFloat(f, 64)
		ticks += v
	}
	return ticks / clockTicks
}

// processTree is the CPU time of a process and its descendants alive now, each on its own.
func processTree(pid, depth int) float64 {
	if pid <= 0 || depth > 8 {
		return 0
	}
	total := procCPU(pid, false)
	data, _ := os.ReadFile(fmt.Sprintf("/proc/%d/task/%d/children", pid, pid))
	for _, f := range strings.Fields(string(data)) {
		child, _ := strconv.Atoi(f)
		total += processTree(child, depth+1)
	}
	return total
}

// processes lists this machine's processes with their command lines.
func processes() map[int][]string {
	out := map[int][]string{}
	dirs, _ := filepath.Glob("/proc/[0-9]*")
	for _, dir := range dirs {
		data, err := os.ReadFile(filepath.Join(dir, "cmdline"))
		if err != nil || len(data) == 0 {
			continue
		}
		pid, _ := strconv.Atoi(filepath.Base(dir))
		out[pid] = strings.Split(strings.TrimRight(string(data), "\x00"), "\x00")
	}
	return out
}

// pct writes cores as a percentage of one CPU.
func pct(cores float64) string {
	return fmt.Sprintf("%.1f %%", 100*cores)
}
