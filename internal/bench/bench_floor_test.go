package bench

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/docker/docker/client"

	"github.com/rscale/rscale/internal/testenv"
	"github.com/rscale/rscale/pkg/loadgen"
	"github.com/rscale/rscale/pkg/serve"
)

// s1Result is one closed-loop run of S1: its successful requests per second, latencies, the
// CPU the setup used (R, load generator; with the proxy: HAProxy and Docker too) and the CPU
// busy on the whole machine, in cores.
type s1Result struct {
	perSecond, p50, p99, success, cpu, busy float64
}

// directR is S1's floor: n clients in a closed loop, each straight to its own R process (the
// workers of rscale serve, asked on their own ports: no proxy, no container), a new connection
// per request as HAProxy opens towards R.
func directR(t *testing.T, workers []serve.WorkerStatus, n int, p benchParams) s1Result {
	t.Helper()
	reports := make([]*loadgen.Report, n)
	var wg sync.WaitGroup
	var pids []int
	for _, worker := range workers[:n] {
		pids = append(pids, worker.PID)
	}
	w := watchProcesses(pids)
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			o := closedLoop("http://"+workers[i].Address, "/sleep?seconds=0.2", 1, p)
			o.NewConnections = true
			r, err := loadgen.Run(context.Background(), o)
			if err != nil {
				t.Error(err)
				return
			}
			reports[i] = r
		}()
	}
	wg.Wait()
	u := w.stop(t)
	var res s1Result
	var p50s, p99s []float64
	var requests, succeeded float64
	for _, r := range reports {
		if r == nil {
			t.FailNow()
		}
		res.perSecond += r.Total.PerSecond * r.Total.SuccessRatio
		requests += float64(r.Total.Requests)
		succeeded += float64(r.Total.Requests) * r.Total.SuccessRatio
		p50s, p99s = append(p50s, r.Total.P50), append(p99s, r.Total.P99)
	}
	slices.Sort(p50s)
	res.p50, res.p99, res.cpu, res.busy = p50s[len(p50s)/2], slices.Max(p99s), u.setup(), u.busy
	res.success = succeeded / math.Max(requests, 1)
	t.Logf("direct R, %d clients: %.1f/s, p50 %.1fms, CPU %+v", n, res.perSecond, res.p50, u)
	return res
}

// serveWorkers starts rscale serve with n R processes and returns them.
func serveWorkers(t *testing.T, dir string, n int) ([]serve.WorkerStatus, func()) {
	t.Helper()
	addr, stop := startServe(t, dir, n)
	r, err := testenv.Request("GET", "http://"+addr+"/__rscale/status", "", "")
	if err != nil {
		stop()
		t.Fatal(err)
	}
	var st serve.Status
	if err := json.Unmarshal(r.Body, &st); err != nil {
		stop()
		t.Fatal(err)
	}
	workers := st.Workers
	if len(workers) != n {
		stop()
		t.Fatalf("rscale serve has %d workers, want %d", len(workers), n)
	}
	return workers, stop
}

// S1: an endpoint sleeping 200 ms, N clients on N replicas through HAProxy: how close to the
// ideal N / 0.2 s, and to the same load sent straight to N R processes?
func benchScaling(t *testing.T, c *client.Client, p benchParams, api testenv.Project) string {
	largest := slices.Max(p.s1Replicas)
	workers, stop := serveWorkers(t, api.Dir, largest)
	direct := map[int]s1Result{}
	for _, n := range p.s1Replicas {
		direct[n] = directR(t, workers, n, p)
	}
	stop()

	var rows []string
	lowest, lowestVsDirect, cpuLimit := math.Inf(1), math.Inf(1), 0
	cpus := float64(runtime.NumCPU())
	for _, n := range p.s1Replicas {
		scaleTo(t, api, n)
		w := watchCPU(t, c, api.Port, api.Stack+"_model_server", api.Stack+"_proxy")
		r := load(t, closedLoop(api.URL(""), "/sleep?seconds=0.2", n, p))
		u := w.stop(t)
		proxied := r.Total.PerSecond * r.Total.SuccessRatio
		ideal := float64(n) / 0.2
		d := direct[n]
		efficiency, vsDirect := proxied/ideal, proxied/d.perSecond
		lowest = math.Min(lowest, efficiency)
		// Up to the CPU limit: while R alone keeps up with the ideal, and leaves CPU to spare.
		if d.perSecond/ideal >= 0.9 && d.cpu < 0.9*cpus {
			lowestVsDirect = math.Min(lowestVsDirect, vsDirect)
		} else if cpuLimit == 0 {
			cpuLimit = n
		}
		record(fmt.Sprintf("S1 efficiency N=%d", n), efficiency)
		record(fmt.Sprintf("S1 through the proxy ÷ direct R, N=%d", n), vsDirect)
		rows = append(rows, fmt.Sprintf("| %d | %.1f | %.1f | %.0f | %.3f | %.3f | %.3f | %.0f ms | %.0f ms | %.0f ms | %.4f | %s | %s | %s | %s |",
			n, proxied, d.perSecond, ideal, efficiency, d.perSecond/ideal, vsDirect, r.Total.P50, d.p50, r.Total.P99, r.Total.SuccessRatio,
			pct(u.setup()), pct(d.cpu), pct(u.busy), pct(d.busy)))
	}
	limit := fmt.Sprintf("R alone keeps up at every N here, with CPU to spare on the %d CPUs", runtime.NumCPU())
	if cpuLimit > 0 {
		limit = fmt.Sprintf("the CPU runs out at N = %d, where R alone falls below 0.9 of the ideal or uses 90 %% of the %d CPUs", cpuLimit, runtime.NumCPU())
	}
	if math.IsInf(lowestVsDirect, 1) {
		lowestVsDirect = 0
	}
	return fmt.Sprintf(`## S1 scaling

GET /sleep?seconds=0.2, closed loop with as many clients as replicas, %s each after %s of
warm-up: through HAProxy to N replicas, and, as the floor R itself sets, straight to N R
processes (rscale serve's workers on their own ports, one client each, a new connection per
request as HAProxy opens towards R; no proxy, no container). Requests/s count successes.
Efficiency = requests/s ÷ ideal (N ÷ 0.2 s). CPU, in %% of one core: what the setup used
(R and the load generator; via the proxy also HAProxy, docker-proxy, Docker and the health
checks), then the whole machine's busy CPU, other work included; %s.

| N | req/s via proxy | req/s direct R | ideal | via proxy ÷ ideal | direct ÷ ideal | via proxy ÷ direct | p50 via proxy | p50 direct | p99 via proxy | success via proxy | CPU via proxy | CPU direct | machine via proxy | machine direct |
|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|
%s

Target: efficiency ≥ 0.98 at every N: %s (lowest %.3f). Through the proxy ≥ 0.98 of direct R up
to the CPU limit: %s (lowest %.3f).
`, p.run, p.warmup, limit, strings.Join(rows, "\n"), verdict(lowest >= 0.98), lowest, verdict(lowestVsDirect >= 0.98), lowestVsDirect)
}
