package bench

import (
	"context"
	"fmt"
	"runtime"
	"testing"
	"time"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/filters"
	"github.com/docker/docker/api/types/network"
	"github.com/docker/docker/api/types/swarm"
	"github.com/docker/docker/client"

	"github.com/rscale/rscale/internal/testenv"
)

// scaleCPU is what a scale-up cost the machine, in CPU seconds: all of it, the Docker engine
// (dockerd and containerd, with the processes they reaped), and the service's containers
// (R, and what runs beside it: the health checks' processes).
type scaleCPU struct {
	machine, engine, containers float64
}

// scaleCPUWatch follows a scale-up of a service on this machine, the swarm's only node.
type scaleCPUWatch struct {
	c       *client.Client
	service string
	start   scaleCPU
}

func watchScaleCPU(t *testing.T, c *client.Client, service string) *scaleCPUWatch {
	t.Helper()
	w := &scaleCPUWatch{c: c, service: service}
	w.start = w.read(t)
	return w
}

func (w *scaleCPUWatch) stop(t *testing.T) scaleCPU {
	t.Helper()
	end := w.read(t)
	return scaleCPU{machine: end.machine - w.start.machine, engine: end.engine - w.start.engine, containers: end.containers - w.start.containers}
}

// read sums each part's CPU time so far; containers that started meanwhile count from zero.
func (w *scaleCPUWatch) read(t *testing.T) scaleCPU {
	t.Helper()
	var u scaleCPU
	if idle, total, ok := procStat(); ok {
		u.machine = float64(total-idle) / clockTicks
	}
	for _, pid := range enginePIDs() {
		u.engine += procCPU(pid, true)
	}
	list, err := w.c.ContainerList(context.Background(), container.ListOptions{Filters: filters.NewArgs(filters.Arg("label", "com.docker.swarm.service.name="+w.service))})
	if err != nil {
		t.Fatal(err)
	}
	for _, ct := range list {
		if info, err := w.c.ContainerInspect(context.Background(), ct.ID); err == nil {
			u.containers += processTree(info.State.Pid, 0)
		}
	}
	return u
}

// cpuRow is one row of S4's scale-up table: the time, and the CPU it took per replica started.
func cpuRow(what string, took time.Duration, started int, u scaleCPU) string {
	n := float64(started)
	return fmt.Sprintf("| %s | %.1f s | %.2f | %.2f | %.2f | %.0f %% |", what, took.Seconds(),
		u.machine/n, u.engine/n, u.containers/n, 100*u.machine/(took.Seconds()*float64(runtime.NumCPU())))
}

// dockerFloor scales a service of the same image with no R in it (the containers sleep, with
// no health check) from `from` to `to` replicas, on the same kind of network as rscale's
// (overlay, DNS round robin), and times it until every task runs: what the engine alone
// needs to start that many containers, the floor under rscale's own scale-up.
func dockerFloor(t *testing.T, c *client.Client, image string, from, to int) (time.Duration, scaleCPU) {
	t.Helper()
	ctx := context.Background()
	name := "rscale-bench-floor"
	// The network goes once the service's containers are gone; before, and after, in case
	// an interrupted run left them.
	remove := func() {
		_ = c.ServiceRemove(ctx, name)
		waitNoTasks(c, name)
		_ = c.NetworkRemove(ctx, name)
	}
	remove()
	if _, err := c.NetworkCreate(ctx, name, network.CreateOptions{Driver: "overlay", Attachable: true}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(remove)
	replicas := uint64(from)
	init := true
	spec := swarm.ServiceSpec{
		Annotations: swarm.Annotations{Name: name},
		TaskTemplate: swarm.TaskSpec{
			ContainerSpec: &swarm.ContainerSpec{Image: image, Command: []string{"sleep", "infinity"}, Init: &init,
				Healthcheck: &container.HealthConfig{Test: []string{"NONE"}}},
			Networks: []swarm.NetworkAttachmentConfig{{Target: name}},
		},
		Mode:         swarm.ServiceMode{Replicated: &swarm.ReplicatedService{Replicas: &replicas}},
		EndpointSpec: &swarm.EndpointSpec{Mode: swarm.ResolutionModeDNSRR},
	}
	created, err := c.ServiceCreate(ctx, spec, swarm.ServiceCreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	waitRunning(t, c, name, from)
	time.Sleep(5 * time.Second) // the engine done with the first ones
	svc, _, err := c.ServiceInspectWithRaw(ctx, created.ID, swarm.ServiceInspectOptions{})
	if err != nil {
		t.Fatal(err)
	}
	replicas = uint64(to)
	svc.Spec.Mode.Replicated.Replicas = &replicas
	w := watchScaleCPU(t, c, name)
	start := time.Now()
	if _, err := c.ServiceUpdate(ctx, svc.ID, svc.Version, svc.Spec, swarm.ServiceUpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	waitRunning(t, c, name, to)
	return time.Since(start), w.stop(t)
}

// waitRunning waits until n tasks of the service run.
func waitRunning(t *testing.T, c *client.Client, service string, n int) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Minute)
	for time.Now().Before(deadline) {
		running := 0
		for _, task := range testenv.ServiceTasks(t, c, service) {
			if task.DesiredState == swarm.TaskStateRunning && task.Status.State == swarm.TaskStateRunning {
				running++
			}
		}
		if running >= n {
			return
		}
		time.Sleep(200 * time.Millisecond)
	}
	t.Fatalf("%s: fewer than %d tasks running after 10 minutes", service, n)
}

// waitNoTasks waits until a removed service's containers are gone, so its network can go too.
func waitNoTasks(c *client.Client, service string) {
	for range 300 {
		list, err := c.ContainerList(context.Background(), container.ListOptions{All: true, Filters: filters.NewArgs(filters.Arg("label", "com.docker.swarm.service.name="+service))})
		if err != nil || len(list) == 0 {
			return
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// storageDriver names the engine's storage driver, through which every container's files are read.
func storageDriver(t *testing.T, c *client.Client) string {
	t.Helper()
	info, err := c.Info(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return info.Driver
}
