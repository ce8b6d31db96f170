package e2e

import (
	"context"
	"strings"
	"testing"

	"github.com/docker/docker/api/types/swarm"

	"github.com/rscale/rscale/internal/testenv"
)

// Scaling 2 → 20 with the health checks as init writes them: the replicas are added a few at
// a time, none is restarted on the way (Swarm's task history holds no task but the current
// ones, one per slot), and every one is healthy at the end. How fast is for make bench (S4).
func TestE2EScaleUpRestartsNothing(t *testing.T) {
	c := testenv.NeedEngine(t)
	p := testenv.SetupProject(t, "sleep", "rscale-e2e-scale", false, "--replicas", "2")
	testenv.MustRscale(t, "deploy", p.Dir)
	service := p.Stack + "_model_server"

	r := testenv.MustRscale(t, "scale", "model_server=20", "--dir", p.Dir)
	if !strings.Contains(r.Stderr, "on the way to 20") {
		t.Errorf("scale did not add the replicas a few at a time:\n%s", r.Stderr)
	}
	tasks := testenv.ServiceTasks(t, c, service)
	slots := map[int]int{}
	for _, task := range tasks {
		slots[task.Slot]++
		if task.DesiredState != swarm.TaskStateRunning || task.Status.State != swarm.TaskStateRunning {
			t.Errorf("task %s of slot %d is %s (wanted %s): %s", task.ID, task.Slot, task.Status.State, task.DesiredState, task.Status.Err)
		}
	}
	if len(slots) != 20 {
		t.Errorf("%d slots have tasks, want 20", len(slots))
	}
	for slot, n := range slots {
		if n > 1 {
			t.Errorf("slot %d had %d tasks: its replica was replaced on the way", slot, n)
		}
	}
	for _, task := range tasks {
		id := task.Status.ContainerStatus
		if id == nil {
			t.Errorf("task %s has no container", task.ID)
			continue
		}
		ct, err := c.ContainerInspect(context.Background(), id.ContainerID)
		if err != nil {
			t.Error(err)
			continue
		}
		if ct.State.Health == nil || ct.State.Health.Status != "healthy" {
			t.Errorf("the container of slot %d is not healthy: %+v", task.Slot, ct.State.Health)
		}
	}
}
