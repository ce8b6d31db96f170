package e2e

// End-to-end: long requests on the stack `rscale init` makes by default. R serves one request
// at a time, so no request may wait behind a busy R process while another is idle, a request
// sent while every R process is busy waits its turn and is then served, and no health check
// may take a busy replica out.

import (
	"encoding/json"
	"fmt"
	"net/http"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/docker/docker/client"

	"github.com/rscale/rscale/internal/testenv"
)

func TestE2ELongRequests(t *testing.T) {
	c := testenv.NeedEngine(t)
	// The two stacks mostly wait on R's Sys.sleep, so they share the CPUs well: run together.
	t.Run("health checks shortened", func(t *testing.T) {
		t.Parallel()
		p := testenv.SetupProject(t, "sleep", "rscale-e2e-long-quick", true, "--replicas", "2")
		// A replica's own check runs every 2 s here: 15 of them see R busy during one request.
		longRequestScenario(t, c, p, 30*time.Second)
	})
	t.Run("health checks as generated", func(t *testing.T) {
		t.Parallel()
		p := testenv.SetupProject(t, "sleep", "rscale-e2e-long-generated", false, "--replicas", "2")
		// Longer than a healthy replica's check period (51 s), so that its check sees R busy,
		// and than three of HAProxy's (2 s); shorter than request's one-minute client timeout.
		longRequestScenario(t, c, p, 55*time.Second)
	})
	t.Run("queue timeout", func(t *testing.T) {
		t.Parallel()
		p := testenv.SetupProject(t, "sleep", "rscale-e2e-queue-timeout", true, "--replicas", "1", "--queue-timeout", "3s")
		testenv.MustRscale(t, "deploy", p.Dir)
		testenv.Served(t, p, "/fast")
		long := make(chan testenv.Response, 1)
		go func() {
			r, _ := testenv.Request("GET", p.URL("/sleep?seconds=8"), "", "")
			long <- r
		}()
		time.Sleep(time.Second)
		began := time.Now()
		req, err := http.NewRequest("GET", p.URL("/fast"), nil)
		if err != nil {
			t.Fatal(err)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		waited := time.Since(began)
		if resp.StatusCode != http.StatusServiceUnavailable || resp.Header.Get("Retry-After") == "" || waited < 3*time.Second || waited > 5*time.Second {
			t.Errorf("a request queued behind a busy R, queue timeout 3 s: %d, Retry-After %q, after %s; want 503 with Retry-After after 3 s",
				resp.StatusCode, resp.Header.Get("Retry-After"), waited)
		}
		if r := <-long; r.Status != 200 {
			t.Errorf("the long request: %d %s", r.Status, r.Body)
		}
		// The proxy's log says why, once its line is out.
		waitFor(t, "the proxy's log to explain the 503", func() bool {
			logs := testenv.Rscale(t, "logs", "proxy", "--dir", p.Dir, "--tail", "20").Stdout
			return strings.Contains(logs, "503") && strings.Contains(logs, "rscale: queue timeout: no R process was free for 3s")
		})
	})
}

// timed is one request of the scenario: when it was sent and answered, from the start.
type timed struct {
	name       string
	long       bool
	sent, done time.Duration
	status     int
	host       string
	err        error
}

// longRequestScenario deploys p (2 replicas) and sends two long requests, three fast ones 2 s
// later and two more 25 s later (while both R processes are still busy).
func longRequestScenario(t *testing.T, engine *client.Client, p testenv.Project, long time.Duration) {
	t.Helper()
	testenv.MustRscale(t, "deploy", p.Dir)
	waitBothReplicas(t, p)
	service := p.Stack + "_model_server"
	before := runningTaskIDs(t, engine, service)

	var (
		wg      sync.WaitGroup
		mu      sync.Mutex
		results []timed
		start   = time.Now()
	)
	send := func(name, path string, long bool) {
		defer wg.Done()
		r := timed{name: name, long: long, sent: time.Since(start)}
		resp, err := testenv.Request("GET", p.URL(path), "", "")
		r.done, r.status, r.err = time.Since(start), resp.Status, err
		var body struct{ Host []string }
		if err == nil && json.Unmarshal(resp.Body, &body) == nil && len(body.Host) == 1 {
			r.host = body.Host[0]
		}
		mu.Lock()
		results = append(results, r)
		mu.Unlock()
	}
	at := func(offset time.Duration, n int, name, path string, long bool) {
		time.Sleep(time.Until(start.Add(offset)))
		for i := 1; i <= n; i++ {
			wg.Add(1)
			go send(fmt.Sprintf("%s %d", name, i), path, long)
		}
	}
	at(0, 2, "long", fmt.Sprintf("/sleep?seconds=%g", long.Seconds()), true)
	at(2*time.Second, 3, "fast at +2s", "/fast", false)
	at(25*time.Second, 2, "fast at +25s", "/fast", false)
	wg.Wait()

	sort.Slice(results, func(i, j int) bool { return results[i].done < results[j].done })
	var log strings.Builder
	for _, r := range results {
		fmt.Fprintf(&log, "%-14s sent %6.2fs answered %6.2fs status %d by %s %v\n", r.name, r.sent.Seconds(), r.done.Seconds(), r.status, r.host, r.err)
	}
	t.Logf("%s, long requests of %s:\n%s", p.Stack, long, log.String())

	firstFree := time.Duration(1 << 62)
	longHosts := map[string]bool{}
	for _, r := range results {
		if r.err != nil || r.status != 200 {
			t.Errorf("%s: %v, status %d; want 200", r.name, r.err, r.status)
		}
		if r.long {
			took := r.done - r.sent
			if took < long || took > long*115/100 {
				t.Errorf("%s took %s; want its own duration, %s, within 15 %%", r.name, took, long)
			}
			longHosts[r.host] = true
			firstFree = min(firstFree, r.done)
		}
	}
	if len(longHosts) != 2 {
		t.Errorf("the two long requests were served by %v; want one replica each", longHosts)
	}
	for _, r := range results {
		if r.long {
			continue
		}
		// Both R processes are busy until the first long request ends: then the fast
		// requests, queued at the proxy, are served by the replica that is free.
		if r.done < firstFree-time.Second || r.done > firstFree+2*time.Second {
			t.Errorf("%s answered at %s; want right after a replica freed, at %s", r.name, r.done, firstFree)
		}
	}
	if after := runningTaskIDs(t, engine, service); strings.Join(before, ",") != strings.Join(after, ",") {
		t.Errorf("a replica was replaced during the long requests: %v, then %v", before, after)
	}
	// HAProxy logs each server it takes out: none may be, busy as they were.
	since := fmt.Sprintf("%ds", int(time.Since(start).Seconds())+1)
	logs := testenv.MustRscale(t, "logs", "--dir", p.Dir, "--since", since).Stdout
	for _, line := range strings.Split(logs, "\n") {
		if strings.Contains(line, " is DOWN") {
			t.Errorf("HAProxy took a busy replica out: %s", line)
		}
	}
}

// waitBothReplicas waits until the proxy sends requests to both replicas: each answers /fast
// with its host name.
func waitBothReplicas(t *testing.T, p testenv.Project) {
	t.Helper()
	hosts := map[string]bool{}
	deadline := time.Now().Add(time.Minute)
	for len(hosts) < 2 {
		if time.Now().After(deadline) {
			t.Fatalf("the proxy sent /fast to %v within a minute; want both replicas", hosts)
		}
		var body struct{ Host []string }
		if r, err := testenv.Request("GET", p.URL("/fast"), "", ""); err == nil && r.Status == 200 && json.Unmarshal(r.Body, &body) == nil && len(body.Host) == 1 {
			hosts[body.Host[0]] = true
		}
		time.Sleep(100 * time.Millisecond)
	}
}
