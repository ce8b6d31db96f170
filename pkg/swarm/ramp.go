package swarm

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"strings"

	"github.com/docker/docker/api/types/swarm"

	"github.com/rscale/rscale/pkg/docker"
	"github.com/rscale/rscale/pkg/engine"
)

// Ramp is rscale's one policy for adding replicas: how many to ask Swarm for while a service
// grows towards its target, by deploy or scale.
//
// Swarm starts every replica it is asked for at once. A hundred R processes starting together
// on two cores share them so thinly that each takes minutes to load, fails its health checks
// and is restarted, over and over. A ramp keeps at most Window replicas starting (asked for,
// not yet healthy) and lets the next one start as soon as one becomes healthy, which with the
// generated health check is the moment its R process answers. So the node's CPUs stay busy
// starting replicas, and no replica waits for CPU long enough to fail its checks.
//
// When the swarm is one node and rscale runs on it, it also watches that node's CPU: while
// part of it sits idle, starting is held up by latency rather than CPU (Swarm's scheduling,
// Docker creating containers), and twice Window replicas may start at once.
type Ramp struct {
	Window int // most replicas starting at once
	cpu    func() (idle float64, known bool)
}

var _ engine.Pacing = (*Ramp)(nil)

// Pacing is the Ramp for a deploy or scale: batch replicas starting at a time (0: eight per
// CPU of the swarm's nodes). With no Docker engine to ask, it is the default for two CPUs;
// the call that needs the engine says why it cannot be reached.
func (e *Engine) Pacing(ctx context.Context, batch int) engine.Pacing {
	api, err := e.api(ctx)
	if err != nil {
		if batch <= 0 {
			batch = DefaultWindow(0)
		}
		return &Ramp{Window: batch}
	}
	return NewRamp(ctx, api, batch)
}

// DefaultWindow is the default of Ramp.Window for a node of ncpu CPUs: enough that starting
// replicas keep every CPU busy (an R process loads in about 1 s of CPU, Docker adds its own),
// few enough that each still starts within seconds, well inside the health check's 60 s
// start period.
func DefaultWindow(ncpu int) int {
	if ncpu < 1 {
		ncpu = 2
	}
	return 8 * ncpu
}

// NewRamp makes the ramp for the engine api: window replicas starting at a time (0: eight per
// CPU of the swarm's nodes), and the CPU watched when the swarm is this machine alone.
func NewRamp(ctx context.Context, api docker.API, window int) *Ramp {
	cpus, nodes := swarmCPUs(ctx, api)
	if window <= 0 {
		window = DefaultWindow(cpus)
	}
	r := &Ramp{Window: window}
	if nodes <= 1 && engineIsLocal() {
		r.cpu = procStatIdle()
	}
	return r
}

// swarmCPUs counts the CPUs of the swarm's nodes that can take replicas (ready and active),
// over which Swarm spreads them, and those nodes; with no node list, the CPUs of the node
// rscale talks to.
func swarmCPUs(ctx context.Context, api docker.API) (cpus, nodes int) {
	var nanoCPUs int64
	if list, err := api.NodeList(ctx, swarm.NodeListOptions{}); err == nil {
		for _, n := range list {
			if n.Status.State == swarm.NodeStateReady && n.Spec.Availability == swarm.NodeAvailabilityActive {
				nanoCPUs += n.Description.Resources.NanoCPUs
				nodes++
			}
		}
	}
	if cpus := int(nanoCPUs / 1e9); cpus >= 1 {
		return cpus, nodes
	}
	if info, err := api.Info(ctx); err == nil {
		return info.NCPU, 1
	}
	return 0, 1
}

// First is how many replicas to ask for now, on the way from current to target.
func (r *Ramp) First(current, target uint64) uint64 {
	if r == nil || target <= current+uint64(r.Window) {
		return target
	}
	return current + uint64(r.Window)
}

// Next is how many replicas to ask for, given the service's status, on the way to target;
// false when the count should stay as it is for now.
func (r *Ramp) Next(s engine.Status, target uint64) (uint64, bool) {
	if r == nil || uint64(s.Desired) >= target || s.Updating {
		return 0, false
	}
	starting := s.Desired - s.Ready
	limit := r.Window
	if r.cpu != nil {
		if idle, known := r.cpu(); known && idle >= cpuRoom {
			limit = 2 * r.Window
		}
	}
	if starting >= limit {
		return 0, false
	}
	return min(target, uint64(s.Desired+limit-starting)), true
}

// cpuRoom is the idle share of the node's CPU from which it has room for more starts.
const cpuRoom = 0.15

// String says how the ramp adds replicas, for progress lines.
func (r *Ramp) String() string {
	if r.cpu != nil {
		return fmt.Sprintf("%d starting at a time, %d while the CPU has room", r.Window, 2*r.Window)
	}
	return fmt.Sprintf("at most %d starting at a time", r.Window)
}

// engineIsLocal reports whether the Docker engine rscale talks to runs on this machine.
func engineIsLocal() bool {
	host := os.Getenv("DOCKER_HOST")
	return host == "" || strings.HasPrefix(host, "unix://")
}

// procStatIdle returns a function giving the idle share of this machine's CPUs since its last
// call, from /proc/stat; the first call, or a machine without /proc, gives false.
func procStatIdle() func() (float64, bool) {
	var lastIdle, lastTotal uint64
	return func() (float64, bool) {
		idle, total, ok := readProcStat()
		if !ok {
			return 0, false
		}
		dIdle, dTotal := idle-lastIdle, total-lastTotal
		first := lastTotal == 0
		lastIdle, lastTotal = idle, total
		if first || dTotal == 0 {
			return 0, false
		}
		return float64(dIdle) / float64(dTotal), true
	}
}

// readProcStat sums the CPU time of all CPUs in /proc/stat, idle (and waiting for I/O) and in all.
func readProcStat() (idle, total uint64, ok bool) {
	data, err := os.ReadFile("/proc/stat")
	if err != nil {
		return 0, 0, false
	}
	line, _, _ := strings.Cut(string(data), "\n")
	fields := strings.Fields(line)
	if len(fields) < 5 || fields[0] != "cpu" {
		return 0, 0, false
	}
	for i, f := range fields[1:] {
		v, err := strconv.ParseUint(f, 10, 64)
		if err != nil {
			return 0, 0, false
		}
		if i < 8 { // user nice system idle iowait irq softirq steal; guest time is in user already
			total += v
		}
		if i == 3 || i == 4 {
			idle += v
		}
	}
	return idle, total, true
}
