package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/docker/docker/api/types/swarm"

	"github.com/rscale/rscale/cmd"
	"github.com/rscale/rscale/internal/testenv"
	"github.com/rscale/rscale/pkg/engine"
)

// Ctrl-C while deploy adds replicas one at a time leaves fewer than the file asks; the
// interrupted deploy says so, and a plain rerun adds the rest instead of calling the stack
// unchanged.
func TestE2EInterruptedDeployResumes(t *testing.T) {
	c := testenv.NeedEngine(t)
	p := testenv.NewProject(t, "echo", "rscale-e2e-resume", "--replicas", "3")
	service := p.Stack + "_model_server"

	ctx, interrupt := context.WithCancel(context.Background())
	defer interrupt()
	var out, errOut bytes.Buffer
	exited := make(chan int, 1)
	go func() {
		exited <- cmd.RunContext(ctx, cmd.Env{Streams: cmd.Streams{In: strings.NewReader(""), Out: &out, ErrOut: &errOut}},
			[]string{"deploy", p.Dir, "--batch", "1"})
	}()
	// Interrupted once the first replica runs, with the second not yet asked for or starting.
	waitLong(t, "the first replica to run", 5*time.Minute, func() bool {
		if _, _, err := c.ServiceInspectWithRaw(context.Background(), service, swarm.ServiceInspectOptions{}); err != nil {
			return false // not created yet: the image is still building
		}
		running := 0
		for _, task := range testenv.ServiceTasks(t, c, service) {
			if task.Status.State == swarm.TaskStateRunning {
				running++
			}
		}
		return running >= 1
	})
	interrupt()
	var code int
	select {
	case code = <-exited:
	case <-time.After(time.Minute):
		t.Fatal("deploy went on for a minute after it was interrupted")
	}
	t.Logf("interrupted deploy: exit %d\n%s%s", code, out.String(), errOut.String())
	if code != 130 || !strings.Contains(errOut.String(), "replicas ready") {
		t.Fatalf("interrupted deploy: exit %d, %q; want 130 saying how many replicas were ready", code, errOut.String())
	}
	svc, _, err := c.ServiceInspectWithRaw(context.Background(), service, swarm.ServiceInspectOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if n := *svc.Spec.Mode.Replicated.Replicas; n >= 3 {
		t.Fatalf("the interrupted deploy already asked for %d replicas: nothing left to resume", n)
	}

	r := testenv.MustRscale(t, "deploy", p.Dir, "--batch", "1")
	if !strings.Contains(r.Stdout+r.Stderr, "adding the rest") {
		t.Errorf("the rerun did not say it adds the replicas the interrupted deploy left out")
	}
	var infos []engine.ServiceInfo
	if err := json.Unmarshal([]byte(testenv.MustRscale(t, "ps", p.Dir, "-o", "json").Stdout), &infos); err != nil {
		t.Fatal(err)
	}
	found := false
	for _, info := range infos {
		if info.Name == service {
			found = true
			if info.Desired != 3 || info.Running != 3 {
				t.Errorf("after the rerun, %s has %d of %d replicas running; want 3 of 3", service, info.Running, info.Desired)
			}
		}
	}
	if !found {
		t.Errorf("ps does not list %s: %+v", service, infos)
	}
}
