package bench

import (
	"context"
	"fmt"
	"runtime"
	"testing"
	"time"

	"github.com/docker/docker/api/types/swarm"
	"github.com/docker/docker/client"

	"github.com/rscale/rscale/internal/testenv"
)

// idleWindow is how long S4 watches idle replicas: longer than the 51 s between two health
// checks of a healthy replica, so that each is seen checked about once.
func idleWindow(p benchParams) time.Duration {
	if p.quick {
		return 3 * time.Second
	}
	return time.Minute
}

// S4: deploy with the image built, to N healthy replicas; scaling up; what idle replicas cost;
// memory per replica.
func benchDeployAndScale(t *testing.T, c *client.Client, p benchParams, api testenv.Project) string {
	testenv.MustRscale(t, "build", api.Dir)
	service, proxy := api.Stack+"_model_server", api.Stack+"_proxy"
	start := time.Now()
	testenv.MustRscale(t, "deploy", api.Dir, "--timeout", "15m")
	deployed := time.Since(start)
	testenv.WaitProxyServers(t, p.s4Replicas)
	time.Sleep(idleWindow(p) / 4) // the deploy's own work done
	small := idle(t, c, p, service, proxy)

	w := watchScaleCPU(t, c, service)
	start = time.Now()
	testenv.MustRscale(t, "scale", fmt.Sprintf("model_server=%d", p.s4ScaleTo), "--dir", api.Dir, "--timeout", "30m")
	scaled := time.Since(start)
	scaleUse := w.stop(t)
	restarted := replacedReplicas(t, c, service)
	testenv.WaitProxyServers(t, p.s4ScaleTo)
	time.Sleep(idleWindow(p) / 4)
	large := idle(t, c, p, service, proxy)

	svc, _, err := c.ServiceInspectWithRaw(context.Background(), service, swarm.ServiceInspectOptions{})
	if err != nil {
		t.Fatal(err)
	}
	started := p.s4ScaleTo - p.s4Replicas
	floorTook, floorUse := dockerFloor(t, c, svc.Spec.TaskTemplate.ContainerSpec.Image, p.s4Replicas, p.s4ScaleTo)
	// The engine's work and R's, overlapped perfectly on every CPU; and no sooner than the
	// engine alone.
	bound := max(floorTook.Seconds(), (floorUse.machine+scaleUse.containers)/float64(runtime.NumCPU()))

	load(t, closedLoop(api.URL(""), "/sleep?seconds=0.2", p.s4ScaleTo, p))
	peak, mean := replicaMemory(t, c, service)
	record("S4 deploy to healthy replicas (s)", deployed.Seconds())
	record("S4 scale up until all healthy (s)", scaled.Seconds())
	record("S4 replicas restarted on the way", float64(restarted))
	record(fmt.Sprintf("S4 CPU of %d idle replicas, all of it (%% of a core)", p.s4ScaleTo), 100*(large.setup()))
	record(fmt.Sprintf("S4 CPU of %d idle replicas, health checks' processes (%% of a core)", p.s4ScaleTo), 100*large.reaped)
	record("S4 memory per replica, mean (MiB)", mean)
	record("S4 scale up, CPU per replica started (s)", scaleUse.machine/float64(started))
	record("S4 Docker alone, scale up until all run (s)", floorTook.Seconds())

	met := deployed <= 8*time.Second && scaled <= 45*time.Second && restarted == 0
	return fmt.Sprintf(`## S4 deploy and scale

Health checks as rscale init writes them: a new replica is healthy once R answers its health
endpoint (Docker's health status, which Swarm waits for); a healthy one is checked every 51 s.
Replicas start a window at a time (eight per CPU, twice that while the CPU has room). Memory:
of each replica's container, after a closed-loop load.

| step | measured |
|---|---|
| rscale deploy to %d healthy replicas (image already built) | %.1f s |
| rscale scale %d → %d replicas, until all are healthy | %.1f s |
| replicas restarted or replaced on the way (Swarm's task history) | %d |
| memory per replica, largest | %.0f MiB |
| memory per replica, mean | %.0f MiB |

What idle replicas cost, over %s with no request, in %% of one CPU core: the processes each
health check starts (runc, then the check's shell, curl and sleep), reaped by the
containers' shims; the shims themselves (one per container: they also run the checks'
execs); dockerd and containerd, which serve everything on this engine, other stacks
included; the R processes (answering checks, HAProxy's included, and idling); HAProxy; the
whole machine, other work included.

| replicas | health checks ended | checks' processes | shims | dockerd + containerd | R processes | HAProxy | whole machine |
|---|---|---|---|---|---|---|---|
%s
%s

Where a scale-up's time goes: rscale's, then the same image scaled on the same kind of
network with no R in it (each container sleeps, with no health check), timed until every task
runs: what this engine alone needs to start the containers. CPU in seconds per replica
started: the whole machine; the Docker engine (dockerd and containerd, with the processes
they reaped, such as the network set-up); the containers (R, and its health checks). The rest
of the machine's share is the containers' shims with the runc they run, storage (%s), and
other work.

| scale %d → %d | took | machine CPU | engine | containers | CPUs busy |
|---|---|---|---|---|---|
%s
%s

Even with the engine's work and R's overlapped perfectly on all %d CPUs, this scale-up needs
at least %.0f s here: the engine's CPU alone plus that of the containers in rscale's run, and
never less than the engine alone took.

Target: deploy to %d ≤ 8 s, scale %d → %d ≤ 45 s, no replica restarted: %s.
`, p.s4Replicas, deployed.Seconds(), p.s4Replicas, p.s4ScaleTo, scaled.Seconds(), restarted, peak, mean,
		idleWindow(p), idleRow(p.s4Replicas, small), idleRow(p.s4ScaleTo, large),
		storageDriver(t, c), p.s4Replicas, p.s4ScaleTo,
		cpuRow("rscale scale (R, health checks)", scaled, started, scaleUse),
		cpuRow("Docker alone (sleeping containers)", floorTook, started, floorUse),
		runtime.NumCPU(), bound,
		p.s4Replicas, p.s4Replicas, p.s4ScaleTo, verdict(met))
}

func idle(t *testing.T, c *client.Client, p benchParams, services ...string) cpuUse {
	w := watchCPU(t, c, 0, services...)
	time.Sleep(idleWindow(p))
	u := w.stop(t)
	t.Logf("idle: %+v", u)
	return u
}

func idleRow(replicas int, u cpuUse) string {
	return fmt.Sprintf("| %d | %d | %s | %s | %s | %s | %s | %s |", replicas, u.checks, pct(u.reaped), pct(u.shims), pct(u.engine), pct(u.r), pct(u.proxy), pct(u.busy))
}

// replacedReplicas counts the service's tasks that are not among its current ones: each is a
// replica that failed, was restarted or replaced.
func replacedReplicas(t *testing.T, c *client.Client, service string) int {
	t.Helper()
	n := 0
	for _, task := range testenv.ServiceTasks(t, c, service) {
		if task.DesiredState != swarm.TaskStateRunning {
			n++
		}
	}
	return n
}
