package bench

// The proxy scenarios of make bench: S2 (fast and slow requests mixed, at 50 % and 80 % of
// the replicas' capacity) and S7 (long requests on 2 replicas), on rscale's HAProxy and,
// where the engine has the images, on the stack `rscale init --proxy traefik` writes.

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"math"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/docker/docker/client"

	"github.com/rscale/rscale/cmd"
	"github.com/rscale/rscale/internal/testenv"
	"github.com/rscale/rscale/pkg/loadgen"
	"github.com/rscale/rscale/pkg/stack"
)

// s2Utilisations are S2's loads, as shares of what the replicas can serve.
var s2Utilisations = []float64{0.5, 0.8}

// benchRequiredRows are lines each scenario's section must hold, beyond a table and a target.
var benchRequiredRows = map[string][]string{
	"S2": {"| unloaded |", "| 50 % |", "| 80 % |", "Target: at 80 %", "Traefik"},
	"S7": {"| HAProxy", "Traefik"},
	// Issue 13: the direct-R floor, what idle replicas' health checks cost, where a
	// scale-up's CPU goes and what Docker alone needs for it.
	"S1": {"| req/s direct R |", "via proxy ÷ direct"},
	"S4": {"| health checks ended |", "| rscale scale (R, health checks) |", "| Docker alone (sleeping containers) |", "needs\nat least"},
}

// mixedLoad is S2's load: 10 % slow (1 s), 90 % fast, open loop at util of the capacity
// of n R processes.
func mixedLoad(url string, n int, util float64, p benchParams) loadgen.Options {
	const meanService = 0.1*1.0 + 0.9*0.005 // seconds per request, on average
	rate := int(math.Round(util * float64(n) / meanService))
	return loadgen.Options{
		URL: url, Rate: rate, Per: time.Second, Duration: p.s2Run, Warmup: p.warmup,
		Mix: []loadgen.Request{{Method: "GET", Path: "/fast", Weight: 9}, {Method: "GET", Path: "/sleep?seconds=1", Weight: 1}},
	}
}

type mixedRow struct {
	name    string
	util    float64
	fastP50 float64
	fastP99 float64
	slowP99 float64
	success float64
}

func mixedResult(name string, util float64, r *loadgen.Report) mixedRow {
	row := mixedRow{name: name, util: util, success: r.Total.SuccessRatio}
	for _, e := range r.Endpoints {
		switch e.Name {
		case "GET /fast":
			row.fastP50, row.fastP99 = e.P50, e.P99
		case "GET /sleep?seconds=1":
			row.slowP99 = e.P99
		}
	}
	return row
}

// S2: slow and fast requests mixed; how long do the fast ones wait, per balancer and load?
func benchMixedLoad(t *testing.T, c *client.Client, p benchParams, api testenv.Project) string {
	n := p.s2Replicas
	scaleServing(t, api, n)
	unloaded := load(t, closedLoop(api.URL(""), "/fast", 1, p))
	const def = "HAProxy, leastconn + maxconn 1 and a queue (rscale's default)"
	var rows []mixedRow
	for _, util := range s2Utilisations {
		rows = append(rows, mixedResult(def, util, load(t, mixedLoad(api.URL(""), n, util, p))))
	}

	cfg := readFile(t, filepath.Join(api.Dir, "haproxy.cfg"))
	api.Edit(t, "haproxy.cfg", "balance leastconn", "balance roundrobin")
	api.Edit(t, "haproxy.cfg", " maxconn 1\n", "\n")
	testenv.MustRscale(t, "deploy", api.Dir, "--timeout", "15m")
	waitReplicasServing(t, api, n)
	roundRobin := mixedResult("HAProxy, roundrobin, no per-replica limit", 0.5, load(t, mixedLoad(api.URL(""), n, 0.5, p)))
	rows = append(rows, roundRobin)
	if err := os.WriteFile(filepath.Join(api.Dir, "haproxy.cfg"), []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	testenv.MustRscale(t, "deploy", api.Dir, "--timeout", "15m") // the scenarios after this one run the default
	waitReplicasServing(t, api, n)

	addr, stop := startServe(t, api.Dir, n)
	for _, util := range s2Utilisations {
		rows = append(rows, mixedResult(fmt.Sprintf("rscale serve, %d workers", n), util, load(t, mixedLoad("http://"+addr, n, util, p))))
	}
	stop()

	traefik := ""
	for _, v := range traefikVariants() {
		tp, skip := traefikProject(t, c, "sleep", "rscale-bench-traefik", append([]string{"--replicas", strconv.Itoa(n)}, v.args...)...)
		if skip != "" {
			traefik = "Traefik: " + skip + "."
			break
		}
		testenv.MustRscale(t, "deploy", tp.Dir, "--timeout", "15m")
		waitReplicasServing(t, tp, n)
		for _, util := range s2Utilisations {
			rows = append(rows, mixedResult(v.name, util, load(t, mixedLoad(tp.URL(""), n, util, p))))
		}
		testenv.MustRscale(t, "down", tp.Dir)
	}

	lines := []string{fmt.Sprintf("| %s | unloaded | %.1f ms | %.1f ms | | %.4f |", def, unloaded.Total.P50, unloaded.Total.P99, unloaded.Total.SuccessRatio)}
	for _, r := range rows {
		lines = append(lines, fmt.Sprintf("| %s | %.0f %% | %.1f ms | %.1f ms | %.0f ms | %.4f |", r.name, 100*r.util, r.fastP50, r.fastP99, r.slowP99, r.success))
	}
	ratio := rows[0].fastP99 / roundRobin.fastP99
	record("S2 fast p99 at 50 %, rscale's default (ms)", rows[0].fastP99)
	loaded := rows[1].fastP99 / unloaded.Total.P99
	return fmt.Sprintf(`## S2 mixed load

%d R processes; open loop for %s at 50 %% (%d requests/s) and 80 %% (%d requests/s) of their
capacity: 90 %% GET /fast, 10 %% GET /sleep?seconds=1. Unloaded: GET /fast from one client,
one request after the other, for %s.

| balancer | load | fast p50 | fast p99 | slow p99 | success |
|---|---|---|---|---|---|
%s

%s

Target: at 50 %%, rscale's default fast p99 ≤ ⅕ of round robin's: %s (ratio %.3f).
Target: at 80 %%, rscale's default fast p99 ≤ 2 × its unloaded p99: %s (%.2f ×).
`, n, p.s2Run, mixedLoad("", n, 0.5, p).Rate, mixedLoad("", n, 0.8, p).Rate, p.run,
		strings.Join(lines, "\n"), traefik, verdict(ratio <= 0.2), ratio, verdict(loaded <= 2), loaded)
}

// traefikVariant is one Traefik stack to compare: a name for the report and init's flags.
type traefikVariant struct {
	name string
	args []string
}

// traefikVariants are the stacks rscale init --proxy traefik can write: one per
// load-balancing strategy where init has --strategy, else the one design it has. Where
// init has --queue-image (the HAProxy behind Traefik), the queue uses the test image.
func traefikVariants() []traefikVariant {
	root := cmd.NewRootCmd(cmd.Env{Streams: cmd.Streams{In: strings.NewReader(""), Out: io.Discard, ErrOut: io.Discard}})
	initCmd, _, err := root.Find([]string{"init"})
	if err != nil {
		panic(err)
	}
	var common []string
	if initCmd.Flags().Lookup("queue-image") != nil {
		common = []string{"--queue-image", testenv.HAProxyImage}
	}
	if initCmd.Flags().Lookup("strategy") == nil {
		return []traefikVariant{{"Traefik v3 (rscale init --proxy traefik)", common}}
	}
	var variants []traefikVariant
	for _, s := range []string{"wrr", "p2c", "leasttime"} {
		variants = append(variants, traefikVariant{"Traefik v3, " + s, append([]string{"--strategy", s}, common...)})
	}
	return variants
}

// traefikProject initialises a fixture with --proxy traefik and the proxy images init
// chooses, and deploys it as init wrote it: no file is changed. skip says why it cannot
// run: an image of the stack, other than the API's, that the engine does not have (no
// registry to pull it from).
func traefikProject(t *testing.T, c *client.Client, fixture, stackName string, initArgs ...string) (testenv.Project, string) {
	t.Helper()
	p := testenv.Project{Dir: filepath.Join(t.TempDir(), fixture), Stack: stackName, Port: testenv.FreePort(t)}
	if err := os.CopyFS(p.Dir, os.DirFS(testenv.Testdata(t, "projects", fixture))); err != nil {
		t.Fatal(err)
	}
	testenv.MustRscale(t, append([]string{"init", p.Dir, "--name", stackName, "--proxy", "traefik",
		"--base-image", testenv.RImage, "--proxy-port", strconv.Itoa(p.Port)}, initArgs...)...)
	s, err := stack.Load(context.Background(), filepath.Join(p.Dir, "rscale.yml"), stackName)
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range slices.Sorted(maps.Keys(s.Services)) {
		svc := s.Services[name]
		if svc.Build != nil {
			continue
		}
		if _, _, err := c.ImageInspectWithRaw(context.Background(), svc.Image); err != nil {
			return p, fmt.Sprintf("skipped (no image %s on this engine, and no registry to pull it from)", svc.Image)
		}
	}
	testenv.Rscale(t, "down", p.Dir) // what an interrupted earlier run left
	t.Cleanup(func() { testenv.Rscale(t, "down", p.Dir) })
	return p, ""
}

// scaleServing scales the API to n replicas and waits until the proxy sends requests to
// each: unlike scaleTo, it needs no dashboard.
func scaleServing(t *testing.T, api testenv.Project, n int) {
	t.Helper()
	testenv.MustRscale(t, "scale", fmt.Sprintf("model_server=%d", n), "--dir", api.Dir, "--timeout", "15m")
	waitReplicasServing(t, api, n)
}

// waitReplicasServing waits until n requests sent at once are served by n replicas: the
// proxy then sends requests to every replica.
func waitReplicasServing(t *testing.T, p testenv.Project, n int) {
	t.Helper()
	testenv.Served(t, p, "/fast")
	deadline := time.Now().Add(2 * time.Minute)
	for {
		hosts := map[string]bool{}
		var mu sync.Mutex
		var wg sync.WaitGroup
		for i := 0; i < n; i++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if a, err := ask(p.URL("/sleep?seconds=1")); err == nil && a.status == 200 {
					mu.Lock()
					hosts[a.host] = true
					mu.Unlock()
				}
			}()
		}
		wg.Wait()
		if len(hosts) == n {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d requests at once were served by %d replicas, want %d", n, len(hosts), n)
		}
		time.Sleep(time.Second)
	}
}

// answer is what the sleep fixture says of a request: the replica that served it, and
// when R started on it.
type answer struct {
	status  int
	host    string
	started time.Time
}

// ask sends GET url to the sleep fixture.
func ask(url string) (answer, error) {
	r, err := testenv.Request("GET", url, "", "")
	if err != nil {
		return answer{}, err
	}
	a := answer{status: r.Status}
	if r.Status != 200 {
		return a, nil
	}
	var body struct {
		Host    []string
		Started []float64
	}
	if err := json.Unmarshal(r.Body, &body); err != nil || len(body.Host) != 1 || len(body.Started) != 1 {
		return a, fmt.Errorf("answer %s: %v", r.Body, err)
	}
	a.host, a.started = body.Host[0], time.UnixMicro(int64(body.Started[0]*1e6))
	return a, nil
}

// longPlan is S7's schedule: two long requests at once, three fast ones a moment later,
// two more while the long ones still run.
type longPlan struct {
	long, fastAt, moreAt time.Duration
}

func longPlanFor(p benchParams) longPlan {
	if p.quick {
		return longPlan{long: 6 * time.Second, fastAt: time.Second, moreAt: 4 * time.Second}
	}
	return longPlan{long: 40 * time.Second, fastAt: 2 * time.Second, moreAt: 25 * time.Second}
}

// longRequest is one request of S7 and what came of it; times are from the scenario's start.
type longRequest struct {
	long    bool
	sent    time.Duration
	started time.Duration // when R started on it
	took    time.Duration
	status  int
	host    string
	err     error
}

// runLongRequests sends S7's requests to p and returns them answered.
func runLongRequests(t *testing.T, p testenv.Project, plan longPlan) []*longRequest {
	t.Helper()
	reqs := []*longRequest{{long: true}, {long: true}}
	for i := 0; i < 3; i++ {
		reqs = append(reqs, &longRequest{sent: plan.fastAt})
	}
	for i := 0; i < 2; i++ {
		reqs = append(reqs, &longRequest{sent: plan.moreAt})
	}
	start := time.Now()
	var wg sync.WaitGroup
	for _, r := range reqs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			time.Sleep(time.Until(start.Add(r.sent)))
			path := "/fast"
			if r.long {
				path = fmt.Sprintf("/sleep?seconds=%g", plan.long.Seconds())
			}
			began := time.Now()
			var a answer
			a, r.err = ask(p.URL(path))
			r.took, r.sent = time.Since(began), began.Sub(start)
			r.status, r.host, r.started = a.status, a.host, a.started.Sub(start)
		}()
	}
	wg.Wait()
	for _, r := range reqs {
		t.Logf("long=%v sent at %.2fs, started at %.2fs: %d %q after %.2fs (%v)", r.long, r.sent.Seconds(), r.started.Seconds(), r.status, r.host, r.took.Seconds(), r.err)
	}
	return reqs
}

// waitedWhileIdle counts the requests that waited behind a busy replica while another of
// the n replicas was idle for at least a second of that wait. A request waited from when
// it was sent until R started on it (the fixture says when), and kept its replica busy
// from then until it was answered. A replica that served none of the requests was idle
// throughout.
func waitedWhileIdle(reqs []*longRequest, n int) int {
	const slack = time.Second
	type interval struct{ from, to time.Duration }
	busy := map[string][]interval{}
	for _, r := range reqs {
		if r.status == 200 {
			busy[r.host] = append(busy[r.host], interval{r.started, r.sent + r.took})
		}
	}
	count := 0
	for _, r := range reqs {
		if r.status != 200 {
			continue
		}
		wait := interval{r.sent, r.started}
		if wait.to-wait.from < slack {
			continue
		}
		idle := len(busy) < n // a replica that served nothing
		for host, spans := range busy {
			if host == r.host || idle {
				continue
			}
			// The replica's idle time within the wait: the wait less its busy spans.
			sort.Slice(spans, func(i, j int) bool { return spans[i].from < spans[j].from })
			free, at := time.Duration(0), wait.from
			for _, s := range spans {
				if s.from > at {
					free += min(s.from, wait.to) - at
				}
				at = max(at, s.to)
				if at >= wait.to {
					break
				}
			}
			if at < wait.to {
				free += wait.to - at
			}
			idle = free >= slack
		}
		if idle {
			count++
		}
	}
	return count
}

// longRow summarises one proxy's run of S7.
func longRow(name string, reqs []*longRequest, n int) (string, bool) {
	var ok, failed int
	var longest, fastest, slowestFast time.Duration
	fastest = time.Hour
	for _, r := range reqs {
		switch {
		case r.status == 200:
			ok++
		case r.err != nil || r.status >= 500:
			failed++
		}
		if r.long {
			longest = max(longest, r.took)
			fastest = min(fastest, r.took)
		} else {
			slowestFast = max(slowestFast, r.took)
		}
	}
	waited := waitedWhileIdle(reqs, n)
	row := fmt.Sprintf("| %s | %d | %d | %d | %d | %.1f–%.1f s | %.1f s |", name, len(reqs), ok, failed, waited,
		fastest.Seconds(), longest.Seconds(), slowestFast.Seconds())
	return row, ok == len(reqs) && waited == 0
}

// S7: long requests on 2 replicas: does any request wait behind a busy R process while
// another is idle, and is any answered 5xx?
func benchLongRequests(t *testing.T, c *client.Client, p benchParams, api testenv.Project) string {
	const n = 2
	plan := longPlanFor(p)
	scaleServing(t, api, n)
	// After a scale-down, Swarm's count is reached while the replicas it stops still serve:
	// start once the proxy has only n, or those would count as idle replicas passed by.
	testenv.WaitProxyServers(t, n)
	row, met := longRow("HAProxy (rscale init --proxy haproxy)", runLongRequests(t, api, plan), n)
	rows := []string{row}

	traefik := ""
	for _, v := range traefikVariants() {
		tp, skip := traefikProject(t, c, "sleep", "rscale-bench-long-traefik", append([]string{"--replicas", strconv.Itoa(n)}, v.args...)...)
		if skip != "" {
			traefik = "Traefik: " + skip + "."
			break
		}
		testenv.MustRscale(t, "deploy", tp.Dir, "--timeout", "15m")
		waitReplicasServing(t, tp, n)
		row, _ := longRow(v.name, runLongRequests(t, tp, plan), n)
		rows = append(rows, row)
		testenv.MustRscale(t, "down", tp.Dir)
	}

	checks := "Health checks as rscale init writes them."
	if p.quick {
		checks = "Health checks as rscale init writes them, but for Docker's on the HAProxy stack, every 2 s in this quick run."
	}
	return fmt.Sprintf(`## S7 long requests

%d replicas; at 0 s two GET /sleep?seconds=%g, at %g s three GET /fast, at %g s two more
GET /fast. %s "Waited while idle": requests that waited behind a busy
replica while the other was idle for a second or more (from each answer's time and
replica, and the known time in R).

| proxy | requests | 200 | 5xx or no answer | waited while idle | long requests took | slowest fast request |
|---|---|---|---|---|---|---|
%s

%s

Target: with HAProxy, every request 200 and none waited while a replica was idle: %s.
`, n, plan.long.Seconds(), plan.fastAt.Seconds(), plan.moreAt.Seconds(), checks,
		strings.Join(rows, "\n"), traefik, verdict(met))
}

func TestWaitedWhileIdle(t *testing.T) {
	s := func(f float64) time.Duration { return time.Duration(f * float64(time.Second)) }
	// req: sent at, R started at, answered at.
	req := func(host string, sent, started, answered float64) *longRequest {
		return &longRequest{host: host, status: 200, sent: s(sent), started: s(started), took: s(answered - sent)}
	}
	tests := []struct {
		name string
		reqs []*longRequest
		want int
	}{
		{"queued while both replicas were busy", []*longRequest{
			req("a", 0, 0.9, 41), req("b", 0, 1.2, 41.1),
			req("a", 2, 41, 41.01), req("b", 2, 41.1, 41.12), req("a", 2, 41.01, 41.02),
			req("b", 25, 41.12, 41.13), req("a", 25, 41.02, 41.03)}, 0},
		{"everything behind one replica, the other never used", []*longRequest{
			req("a", 0, 0, 40), req("a", 0, 40, 80),
			req("a", 2, 80, 80.1), req("a", 2, 80.1, 80.2), req("a", 2, 80.2, 80.3),
			req("a", 25, 80.3, 80.4), req("a", 25, 80.4, 80.5)}, 6},
		{"a fast request behind a long one while the other replica had finished", []*longRequest{
			req("a", 0, 0, 40), req("b", 2, 2, 2.01), req("a", 2, 40, 40.01)}, 1},
		{"a 503 is no wait", []*longRequest{
			req("a", 0, 0, 40), req("b", 0, 0, 40), {status: 503, sent: s(25), took: s(0.01)}}, 0},
	}
	for _, tt := range tests {
		if got := waitedWhileIdle(tt.reqs, 2); got != tt.want {
			t.Errorf("%s: %d, want %d", tt.name, got, tt.want)
		}
	}
}
