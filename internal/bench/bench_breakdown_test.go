package bench

import (
	"fmt"
	"runtime"
	"strings"
	"testing"

	"github.com/docker/docker/client"

	"github.com/rscale/rscale/internal/testenv"
)

// S3: the random forest's /prediction, CPU-bound, on 1 then 2 replicas of this 2-core
// machine, and where the CPU goes meanwhile.
func benchCPUBound(t *testing.T, c *client.Client, p benchParams) string {
	rf := testenv.NewProject(t, "randomforest", "rscale-bench-rf", "--replicas", "1", "--dashboard")
	testenv.MustRscale(t, "deploy", rf.Dir, "--timeout", "15m")
	const path = "/prediction?mpg=21&disp=160&hp=110&wt=2.62"
	var rows, parts []string
	var perSecond []float64
	for _, n := range []int{1, 2} {
		if n > 1 {
			testenv.MustRscale(t, "scale", fmt.Sprintf("model_server=%d", n), "--dir", rf.Dir)
		}
		testenv.WaitProxyServers(t, n)
		w := watchCPU(t, c, rf.Port, rf.Stack+"_model_server", rf.Stack+"_proxy")
		r := load(t, closedLoop(rf.URL(""), path, n, p))
		u := w.stop(t)
		rps := r.Total.PerSecond * r.Total.SuccessRatio
		perSecond = append(perSecond, rps)
		rows = append(rows, fmt.Sprintf("| %d | %d | %.1f | %.1f ms | %.1f ms | %.4f |", n, n, rps, r.Total.P50, r.Total.P99, r.Total.SuccessRatio))
		parts = append(parts, fmt.Sprintf("| %d | %s | %s | %s | %s | %s | %s | %s | %s | %s | %.1f ms |", n, pct(u.r), pct(u.proxy), pct(u.portFwd),
			pct(u.loadgen), pct(u.engine), pct(u.storage), pct(u.shims+u.reaped), pct(u.other()), pct(float64(runtime.NumCPU())-u.busy), 1000*u.r/rps))
		record(fmt.Sprintf("S3 req/s, %d replica(s)", n), rps)
		record(fmt.Sprintf("S3 CPU of R, %d replica(s) (%% of a core)", n), 100*u.r)
	}
	testenv.MustRscale(t, "down", rf.Dir)
	speedup := perSecond[1] / perSecond[0]
	record("S3 speed-up, 2 replicas ÷ 1", speedup)
	return fmt.Sprintf(`## S3 CPU-bound

GET %s (a random forest of 200 trees predicts, in R), closed loop with as
many clients as replicas, %s each; %d CPU cores, shared with HAProxy and the load generator.

| replicas | clients | req/s | p50 | p99 | success |
|---|---|---|---|---|---|
%s

Where the CPU went during each load, in %% of one core (the machine has %d00 %%): the R
processes; HAProxy; docker-proxy, which carries the load generator's connections to the
published port on 127.0.0.1 (a client on another machine reaches HAProxy through the
kernel's NAT instead); this test process, the load generator; dockerd and containerd;
fuse-overlayfs, Docker's storage here; the replicas' health checks (their shims, runc and
the checks' processes); the rest of the machine (other work, the kernel's share outside these
processes); idle. Last column: R's CPU per request.

| replicas | R | HAProxy | docker-proxy | load generator | dockerd + containerd | fuse-overlayfs | health checks | other | idle | R per request |
|---|---|---|---|---|---|---|---|---|---|---|
%s

Target: 2 replicas ≥ 1.85 × 1 replica: %s (%.2f ×).
`, path, p.run, runtime.NumCPU(), strings.Join(rows, "\n"), runtime.NumCPU(), strings.Join(parts, "\n"), verdict(speedup >= 1.85), speedup)
}
