package e2e

// End-to-end: a replica Swarm stops (scale-down, rolling update) first leaves the proxy's
// rotation, then finishes the request it serves (.rscale/entry.sh); and a request R has begun
// is never sent again, even when its R process dies (haproxy.cfg: retry-on conn-failure).

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rscale/rscale/internal/testenv"
)

// drained is one long request of the test, and what came of it.
type drained struct {
	id     string
	status int
	took   time.Duration
	host   string
	err    error
}

// longRequests sends one request of length each to method path, with the ids given, all at
// once: with two replicas, one on each. wait returns what came of them.
func longRequests(p testenv.Project, method, path string, length time.Duration, ids ...string) (wait func() []drained) {
	var wg sync.WaitGroup
	results := make([]drained, len(ids))
	for i, id := range ids {
		wg.Add(1)
		go func() {
			defer wg.Done()
			began := time.Now()
			r, err := testenv.Request(method, p.URL(fmt.Sprintf("%s?seconds=%g&id=%s", path, length.Seconds(), id)), "", "")
			results[i] = drained{id: id, status: r.Status, took: time.Since(began), err: err}
			var body struct{ Host []string }
			if err == nil && json.Unmarshal(r.Body, &body) == nil && len(body.Host) == 1 {
				results[i].host = body.Host[0]
			}
		}()
	}
	return func() []drained {
		wg.Wait()
		return results
	}
}

// starts counts, in the API's log since since, how often R started the request with id.
func starts(t *testing.T, p testenv.Project, since time.Time, id string) int {
	t.Helper()
	logs := testenv.MustRscale(t, "logs", "model_server", "--dir", p.Dir, "--since", sinceFlag(since)).Stdout
	return strings.Count(logs, "rscale-test: started "+id+" on ")
}

func sinceFlag(since time.Time) string {
	return fmt.Sprintf("%ds", int(time.Since(since).Seconds())+2)
}

// checkServedOnce wants each request answered 200, within 10 % of its own length, by R
// started on it once; what was measured goes to the test's log.
func checkServedOnce(t *testing.T, p testenv.Project, since time.Time, length time.Duration, results []drained) {
	t.Helper()
	hosts := map[string]bool{}
	for _, r := range results {
		n := starts(t, p, since, r.id)
		t.Logf("%s: status %d after %.2fs (%.0f %% of %s), by %s, started %d time(s) in the log, %v",
			r.id, r.status, r.took.Seconds(), 100*r.took.Seconds()/length.Seconds(), length, r.host, n, r.err)
		if r.err != nil || r.status != 200 {
			t.Errorf("%s: %v, status %d; want 200: the replica stopped before it answered", r.id, r.err, r.status)
		}
		if r.took > length*110/100 {
			t.Errorf("%s took %s; want at most 110 %% of its own %s", r.id, r.took, length)
		}
		if n != 1 {
			t.Errorf("%s started %d times in the API's log; want once", r.id, n)
		}
		hosts[r.host] = true
	}
	if len(hosts) != len(results) {
		t.Errorf("the requests were served by %v; want one replica each", hosts)
	}
}

// stoppingLines counts the replicas that said, in the API's log, that they drained.
func stoppingLines(t *testing.T, p testenv.Project, since time.Time) int {
	t.Helper()
	logs := testenv.MustRscale(t, "logs", "model_server", "--dir", p.Dir, "--since", sinceFlag(since)).Stdout
	return strings.Count(logs, "rscale: stopping: this replica takes no new requests")
}

// proxySlots is which address each of HAProxy's server slots has, from its log ("replicaN
// changed its IP from A to B"; a slot that loses its name goes to maintenance without one).
// Two slots on one address would send one R process two requests at once.
func proxySlots(t *testing.T, p testenv.Project) (slots map[string]string, duplicated bool) {
	t.Helper()
	logs := testenv.MustRscale(t, "logs", "proxy", "--dir", p.Dir).Stdout
	slots = map[string]string{}
	for _, line := range strings.Split(logs, "\n") {
		if strings.Contains(line, "WARNING") {
			continue // HAProxy writes each such line twice, once with this prefix
		}
		if _, after, ok := strings.Cut(line, "model_server/"); ok {
			f := strings.Fields(after)
			switch {
			case len(f) >= 8 && f[1] == "changed" && f[3] == "IP":
				slots[f[0]] = f[7]
			case strings.Contains(after, "is going DOWN for maintenance (No IP"):
				delete(slots, f[0])
			}
		}
	}
	seen := map[string]bool{}
	for _, ip := range slots {
		duplicated = duplicated || seen[ip]
		seen[ip] = true
	}
	return slots, duplicated
}

// checkSlots fails the test, before it sends requests, if HAProxy has two slots on one address.
func checkSlots(t *testing.T, p testenv.Project) {
	t.Helper()
	slots, duplicated := proxySlots(t, p)
	t.Logf("HAProxy's slots, from its log: %v", slots)
	if duplicated {
		t.Fatalf("HAProxy has two server slots on one replica's address (%v): it would send that R process two requests at once", slots)
	}
}

func TestE2EDrainNoReplay(t *testing.T) {
	c := testenv.NeedEngine(t)
	p := testenv.NewProject(t, "sleep", "rscale-e2e-drain", "--replicas", "2", "--request-timeout", "60s")
	testenv.MustRscale(t, "deploy", p.Dir)
	waitBothReplicas(t, p)
	const length = 20 * time.Second

	t.Run("scale down", func(t *testing.T) {
		checkSlots(t, p)
		since := time.Now()
		wait := longRequests(p, "GET", "/sleep", length, "scale-1", "scale-2")
		time.Sleep(3 * time.Second)
		testenv.MustRscale(t, "scale", "model_server=1", "--dir", p.Dir)
		t.Logf("scale returned %.2fs after the requests were sent", time.Since(since).Seconds())
		checkServedOnce(t, p, since, length, wait())
		testenv.Rscale(t, "logs", "proxy", "--dir", p.Dir, "--since", sinceFlag(since))
		if n := stoppingLines(t, p, since); n != 1 {
			t.Errorf("%d replicas drained; want the one scaled away", n)
		}
	})

	testenv.MustRscale(t, "scale", "model_server=2", "--dir", p.Dir)
	waitBothReplicas(t, p)
	t.Run("rolling update", func(t *testing.T) {
		p.Edit(t, "plumber.R", "#* Answer at once", "#* Answer at once, as changed code")
		// The image first, so that the update starts while both requests are young.
		testenv.MustRscale(t, "build", p.Dir)
		checkSlots(t, p)
		since := time.Now()
		wait := longRequests(p, "GET", "/sleep", length, "update-1", "update-2")
		time.Sleep(2 * time.Second)
		testenv.MustRscale(t, "deploy", p.Dir)
		deployed := time.Since(since)
		t.Logf("deploy returned %.2fs after the requests were sent", deployed.Seconds())
		results := wait()
		checkServedOnce(t, p, since, length, results)
		testenv.Rscale(t, "logs", "proxy", "--dir", p.Dir, "--since", sinceFlag(since))
		if n := stoppingLines(t, p, since); n != 2 {
			t.Errorf("%d replicas drained; want both old ones", n)
		}
	})

	t.Run("killed replica", func(t *testing.T) {
		waitBothReplicas(t, p)
		checkSlots(t, p)
		since := time.Now()
		wait := longRequests(p, "POST", "/work", length, "kill-1")
		// The replica serving it: its host name, which the API logs, is its container's ID.
		var host string
		waitFor(t, "R to start the POST", func() bool {
			logs := testenv.MustRscale(t, "logs", "model_server", "--dir", p.Dir, "--since", sinceFlag(since)).Stdout
			if _, after, ok := strings.Cut(logs, "rscale-test: started kill-1 on "); ok {
				host = strings.TrimSpace(strings.SplitN(after, "\n", 2)[0])
				return true
			}
			return false
		})
		time.Sleep(time.Second)
		if err := c.ContainerKill(context.Background(), host, "KILL"); err != nil {
			t.Fatalf("docker kill %s: %v", host, err)
		}
		r := wait()[0]
		// A replay would start at once on the other replica: give its line time to show.
		time.Sleep(3 * time.Second)
		n := starts(t, p, since, "kill-1")
		t.Logf("kill-1: status %d after %.2fs, started %d time(s) in the log, %v", r.status, r.took.Seconds(), n, r.err)
		if r.err != nil || r.status != 502 {
			t.Errorf("the POST whose R was killed: %v, status %d; want 502", r.err, r.status)
		}
		if n != 1 {
			t.Errorf("the POST started %d times in the API's log; want once: HAProxy must not send it again", n)
		}
		logs := testenv.MustRscale(t, "logs", "proxy", "--dir", p.Dir, "--since", sinceFlag(since)).Stdout
		explained := false
		for _, line := range strings.Split(logs, "\n") {
			explained = explained || strings.Contains(line, " 502 ") && strings.Contains(line, " SH-- ") && strings.Contains(line, "/work?")
		}
		if !explained {
			t.Errorf("the proxy's log has no line for the POST with 502 and termination state SH--")
		}
	})
}
