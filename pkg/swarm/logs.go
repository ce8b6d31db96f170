package swarm

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"strconv"
	"strings"
	"sync"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/filters"
	"github.com/docker/docker/api/types/swarm"
	"github.com/docker/docker/pkg/stdcopy"

	"github.com/rscale/rscale/pkg/docker"
	"github.com/rscale/rscale/pkg/engine"
	"github.com/rscale/rscale/pkg/stackname"
)

// Logs writes the logs of the named services (all of the stack's when none), each line
// prefixed with its replica, such as "model_server.3 | ".
func (e *Engine) Logs(ctx context.Context, namespace string, only []string, o engine.LogOptions, out io.Writer) error {
	api, err := e.api(ctx)
	if err != nil {
		return err
	}
	services, err := servicesOf(ctx, api, namespace)
	if err != nil {
		return err
	}
	if len(services) == 0 {
		return notDeployed(namespace)
	}
	var chosen []swarm.Service
	for _, name := range only {
		svc, err := findService(services, namespace, name)
		if err != nil {
			return err
		}
		chosen = append(chosen, svc)
	}
	if len(only) == 0 {
		for _, name := range sorted(keys(services)) {
			chosen = append(chosen, services[name])
		}
	}
	w := &lockedWriter{w: out}
	errs := make(chan error, len(chosen))
	var wg sync.WaitGroup
	for _, svc := range chosen {
		wg.Add(1)
		go func(svc swarm.Service) {
			defer wg.Done()
			errs <- serviceLogs(ctx, api, namespace, svc, o, w)
		}(svc)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

func serviceLogs(ctx context.Context, api docker.API, namespace string, svc swarm.Service, o engine.LogOptions, out *lockedWriter) error {
	slots := map[string]string{}
	if tasks, err := api.TaskList(ctx, swarm.TaskListOptions{Filters: filters.NewArgs(filters.Arg("service", svc.ID))}); err == nil {
		for _, t := range tasks {
			slots[t.ID] = strconv.Itoa(t.Slot)
		}
	}
	tail := o.Tail
	if tail == "" {
		tail = "all"
	}
	rc, err := api.ServiceLogs(ctx, svc.ID, container.LogsOptions{
		ShowStdout: true, ShowStderr: true, Follow: o.Follow, Tail: tail, Since: o.Since, Details: true,
	})
	if err != nil {
		return fmt.Errorf("reading the logs of %s: %w", svc.Spec.Name, err)
	}
	defer rc.Close()
	pr, pw := io.Pipe()
	go func() {
		_, err := stdcopy.StdCopy(pw, pw, rc)
		pw.CloseWithError(err)
	}()
	short := stackname.Unscoped(namespace, svc.Spec.Name)
	scanner := bufio.NewScanner(pr)
	scanner.Buffer(make([]byte, 64*1024), 1024*1024)
	for scanner.Scan() {
		replica, message := splitDetails(scanner.Text(), slots)
		out.line(short + "." + replica + " | " + message)
	}
	if err := scanner.Err(); err != nil && ctx.Err() == nil {
		return fmt.Errorf("reading the logs of %s: %w", svc.Spec.Name, err)
	}
	return nil
}

// splitDetails takes apart a line the engine sent with Details: "k=v,k=v message".
func splitDetails(line string, slots map[string]string) (replica, message string) {
	details, message, ok := strings.Cut(line, " ")
	if !ok || !strings.Contains(details, "com.docker.swarm.") {
		return "?", line
	}
	replica = "?"
	for _, kv := range strings.Split(details, ",") {
		if k, v, _ := strings.Cut(kv, "="); k == "com.docker.swarm.task.id" {
			if slot, ok := slots[v]; ok {
				replica = slot
			} else if len(v) >= 6 {
				replica = v[:6]
			}
		}
	}
	return replica, message
}

type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) line(s string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	fmt.Fprintln(l.w, s)
}

func keys(m map[string]swarm.Service) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	return out
}
