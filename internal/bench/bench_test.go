package bench

// The benchmark suite behind make bench: seven scenarios on the real engine and rscale serve,
// each printed against its target in a Markdown report. BENCH_QUICK=1 (make e2e, make test) runs every
// scenario small, to check that the suite works and the report is complete; its figures
// mean little. BENCH_REPORT=path (make bench) runs it in full and writes the report there.

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/filters"
	"github.com/docker/docker/client"

	"github.com/rscale/rscale/cmd"
	"github.com/rscale/rscale/internal/testenv"
	"github.com/rscale/rscale/pkg/loadgen"
	"github.com/rscale/rscale/pkg/serve"
)

type benchParams struct {
	quick      bool
	warmup     time.Duration
	run        time.Duration // each measured load
	s1Replicas []int
	s2Replicas int
	s2Run      time.Duration
	s4Replicas int
	s4ScaleTo  int
	s5Replicas int
}

func benchParamsFromEnv(t *testing.T) (benchParams, string) {
	switch {
	case os.Getenv("BENCH_REPORT") != "":
		return benchParams{
			warmup: 3 * time.Second, run: 20 * time.Second,
			s1Replicas: []int{1, 4, 16, 64}, s2Replicas: 4, s2Run: 60 * time.Second,
			s4Replicas: 10, s4ScaleTo: 100, s5Replicas: 4,
		}, os.Getenv("BENCH_REPORT")
	case os.Getenv("BENCH_QUICK") != "":
		return benchParams{
			quick:  true,
			warmup: 500 * time.Millisecond, run: 2 * time.Second,
			s1Replicas: []int{1, 2}, s2Replicas: 2, s2Run: 4 * time.Second,
			s4Replicas: 2, s4ScaleTo: 3, s5Replicas: 2,
		}, filepath.Join(t.TempDir(), "REPORT.md")
	}
	t.Skip("the benchmark suite runs with BENCH_QUICK=1 (make e2e, make test) or BENCH_REPORT=file (make bench)")
	return benchParams{}, ""
}

// verdict is a scenario's result against its target.
func verdict(met bool) string {
	if met {
		return "**met**"
	}
	return "**missed**"
}

func TestBenchScenarios(t *testing.T) {
	p, reportPath := benchParamsFromEnv(t)
	c := testenv.NeedEngine(t)
	began, loadBefore := time.Now(), loadAverage()
	benchFigures = map[string]float64{}
	var sections []string
	add := func(name string, f func(*testing.T) string) {
		t.Run(name, func(t *testing.T) {
			start := time.Now()
			sections = append(sections, f(t))
			t.Logf("%s took %s", name, time.Since(start).Round(time.Second))
		})
	}

	api := testenv.SetupProject(t, "sleep", "rscale-bench", p.quick, "--replicas", strconv.Itoa(p.s4Replicas), "--dashboard", "--max-replicas", "100")
	add("S4", func(t *testing.T) string { return benchDeployAndScale(t, c, p, api) })
	add("S1", func(t *testing.T) string { return benchScaling(t, c, p, api) })
	add("S5", func(t *testing.T) string { return benchRollingUpdate(t, p, api) })
	add("S2", func(t *testing.T) string { return benchMixedLoad(t, c, p, api) })
	add("S7", func(t *testing.T) string { return benchLongRequests(t, c, p, api) })
	testenv.MustRscale(t, "down", api.Dir)
	add("S3", func(t *testing.T) string { return benchCPUBound(t, c, p) })
	add("S6", func(t *testing.T) string { return benchServeOverhead(t, p) })

	report := benchHeader(t, p, began, loadBefore) + strings.Join(sections, "\n")
	report += "\n" + benchHistory(t, p, filepath.Join(filepath.Dir(reportPath), "history.jsonl"),
		benchRun{Date: began.UTC(), Version: cmd.Version(), Load: loadBefore, Figures: benchFigures})
	if err := os.MkdirAll(filepath.Dir(reportPath), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(reportPath, []byte(report), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("report written to %s:\n%s", reportPath, report)
	checkReport(t, report)
}

// checkReport asserts the report is complete: every scenario, with its figures and a verdict.
func checkReport(t *testing.T, report string) {
	t.Helper()
	for _, s := range []string{"S1", "S2", "S3", "S4", "S5", "S6", "S7"} {
		i := strings.Index(report, "## "+s+" ")
		if i < 0 {
			t.Errorf("the report has no section %s", s)
			continue
		}
		section := report[i:]
		if j := strings.Index(section[3:], "\n## "); j >= 0 {
			section = section[:j+3]
		}
		if !regexp.MustCompile(`\n\|.*\d`).MatchString(section) {
			t.Errorf("section %s has no table of figures:\n%s", s, section)
		}
		if !regexp.MustCompile(`Target: .*(\*\*met\*\*|\*\*missed\*\*|no target)`).MatchString(section) {
			t.Errorf("section %s says nothing of its target:\n%s", s, section)
		}
		for _, row := range benchRequiredRows[s] {
			if !strings.Contains(section, row) {
				t.Errorf("section %s has no %q:\n%s", s, row, section)
			}
		}
	}
	for _, bad := range []string{"NaN", "+Inf", "%!"} {
		if strings.Contains(report, bad) {
			t.Errorf("the report holds %q", bad)
		}
	}
	for _, want := range []string{"Machine", "Reproduce with", "## Change since the last run\n"} {
		if !strings.Contains(report, want) {
			t.Errorf("the report lacks %q", want)
		}
	}
}

func benchHeader(t *testing.T, p benchParams, began time.Time, load string) string {
	cpu := "unknown"
	if data, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		if m := regexp.MustCompile(`(?m)^model name\s*:\s*(.*)$`).FindStringSubmatch(string(data)); m != nil {
			cpu = m[1]
		}
	}
	mem := "unknown"
	if data, err := os.ReadFile("/proc/meminfo"); err == nil {
		if m := regexp.MustCompile(`MemTotal:\s*(\d+) kB`).FindStringSubmatch(string(data)); m != nil {
			kb, _ := strconv.Atoi(m[1])
			mem = fmt.Sprintf("%.0f GiB", float64(kb)/(1<<20))
		}
	}
	output := func(name string, args ...string) string {
		out, err := exec.Command(name, args...).Output()
		if err != nil {
			return "unknown"
		}
		return strings.TrimSpace(strings.SplitN(string(out), "\n", 2)[0])
	}
	kind := "full run"
	command := "make bench"
	if p.quick {
		kind = "quick smoke run (BENCH_QUICK=1): small loads, figures not meaningful"
		command = "BENCH_QUICK=1 go test -run TestBenchScenarios -v ./internal/bench"
	}
	return fmt.Sprintf(`# rscale benchmark report

%s, %s, %s. Reproduce with `+"`%s`"+`.

## Machine

| | |
|---|---|
| CPU | %s, %d cores |
| memory | %s |
| kernel | %s |
| Docker Engine | %s |
| R | %s |
| rscale | %s |
| load average when the run began (1, 5, 15 min; other work on the machine) | %s |
| proxy on Swarm | HAProxy (Debian bookworm), leastconn with maxconn 1 per replica unless said |

`, began.UTC().Format("2006-01-02 15:04 UTC"), kind, time.Since(began).Round(time.Second), command,
		cpu, runtime.NumCPU(), mem, output("uname", "-sr"),
		output("docker", "version", "--format", "{{.Server.Version}} (API {{.Server.APIVersion}})"),
		output("Rscript", "-e", "cat(R.version.string)"), cmd.Version(), load)
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

// load runs loadgen and fails the test on an error it returns.
func load(t *testing.T, o loadgen.Options) *loadgen.Report {
	t.Helper()
	r, err := loadgen.Run(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%s on %s: %d requests, %.1f/s, p50 %.1fms, p99 %.1fms, success %.3f", r.Mode, o.URL, r.Total.Requests, r.Total.PerSecond, r.Total.P50, r.Total.P99, r.Total.SuccessRatio)
	return r
}

func closedLoop(url, path string, clients int, p benchParams) loadgen.Options {
	return loadgen.Options{URL: url, Mix: []loadgen.Request{{Method: "GET", Path: path, Weight: 1}}, Concurrency: clients, Duration: p.run, Warmup: p.warmup}
}

func scaleTo(t *testing.T, api testenv.Project, n int) {
	t.Helper()
	testenv.MustRscale(t, "scale", fmt.Sprintf("model_server=%d", n), "--dir", api.Dir, "--timeout", "15m")
	testenv.WaitProxyServers(t, n)
}

// replicaMemory is the largest and the mean memory use of the service's containers, in MiB.
func replicaMemory(t *testing.T, c *client.Client, service string) (float64, float64) {
	t.Helper()
	ctx := context.Background()
	list, err := c.ContainerList(ctx, container.ListOptions{Filters: filters.NewArgs(filters.Arg("label", "com.docker.swarm.service.name="+service))})
	if err != nil {
		t.Fatal(err)
	}
	var peak, sum float64
	for _, ct := range list {
		resp, err := c.ContainerStatsOneShot(ctx, ct.ID)
		if err != nil {
			t.Fatal(err)
		}
		var stats container.StatsResponse
		err = json.NewDecoder(resp.Body).Decode(&stats)
		resp.Body.Close()
		if err != nil {
			t.Fatal(err)
		}
		used := float64(stats.MemoryStats.Usage) / (1 << 20)
		peak, sum = math.Max(peak, used), sum+used
	}
	if len(list) == 0 {
		t.Fatalf("no container of %s", service)
	}
	return peak, sum / float64(len(list))
}

// S5: a rolling update while S1's load runs: failed requests, and how long it took.
func benchRollingUpdate(t *testing.T, p benchParams, api testenv.Project) string {
	scaleTo(t, api, p.s5Replicas)
	api.Edit(t, "plumber.R", "# An API for load tests", "# An API for load tests (new version)")
	o := closedLoop(api.URL(""), "/sleep?seconds=0.2", p.s5Replicas, p)
	o.Duration, o.Warmup = 30*time.Minute, 0
	ctx, stop := context.WithCancel(context.Background())
	reports := make(chan *loadgen.Report)
	go func() {
		r, err := loadgen.Run(ctx, o)
		if err != nil {
			t.Error(err)
		}
		reports <- r
	}()
	time.Sleep(p.warmup)
	start := time.Now()
	testenv.MustRscale(t, "deploy", api.Dir, "--timeout", "15m")
	took := time.Since(start)
	time.Sleep(p.warmup) // the replicas the proxy learns of last
	stop()
	r := <-reports
	failed := r.Total.Requests - int(math.Round(r.Total.SuccessRatio*float64(r.Total.Requests)))
	record("S5 failed requests during the rolling update", float64(failed))
	record("S5 rolling update (s)", took.Seconds())
	errs := ""
	if len(r.Total.Errors) > 0 {
		errs = " Errors seen: " + strings.Join(r.Total.Errors, "; ") + "."
	}
	return fmt.Sprintf(`## S5 rolling update under load

%d replicas serving GET /sleep?seconds=0.2 to %d closed-loop clients; plumber.R edited, then
rscale deploy (image build included) rolls the replicas over one at a time, start-first.

| requests during the update | failed | codes | rscale deploy took |
|---|---|---|---|
| %d | %d | %s | %.1f s |

Target: 0 failed requests: %s.%s
`, p.s5Replicas, p.s5Replicas, r.Total.Requests, failed, r.Total.CodeSummary(), took.Seconds(), verdict(failed == 0), errs)
}

// startServe runs rscale serve in-process on the project and returns its address.
func startServe(t *testing.T, dir string, workers int) (string, func()) {
	t.Helper()
	o := serve.DefaultOptions()
	o.Dir, o.Workers, o.Port, o.Log = dir, workers, 0, &testenv.SyncWriter{}
	ctx, cancel := context.WithCancel(context.Background())
	ready := make(chan string, 1)
	done := make(chan error, 1)
	go func() { done <- serve.Run(ctx, o, func(addr string) { ready <- addr }) }()
	var addr string
	select {
	case addr = <-ready:
	case err := <-done:
		t.Fatalf("rscale serve: %v", err)
	}
	deadline := time.Now().Add(time.Minute + time.Duration(workers)*3*time.Second) // R starts on few cores
	for {
		var st serve.Status
		if r, err := testenv.Request("GET", "http://"+addr+"/__rscale/status", "", ""); err == nil && json.Unmarshal(r.Body, &st) == nil {
			idle := 0
			for _, w := range st.Workers {
				if w.State == "idle" {
					idle++
				}
			}
			if idle == workers {
				break
			}
		}
		if time.Now().After(deadline) {
			t.Fatal("rscale serve's workers did not all start")
		}
		time.Sleep(100 * time.Millisecond)
	}
	return addr, func() {
		cancel()
		if err := <-done; err != nil {
			t.Error(err)
		}
	}
}

// S6: one R process straight, and through rscale serve: what the balancer adds. The
// measure is BenchmarkAddedLatency's, which asks both the same way: kept-alive connections,
// with the quick ACKs serve itself uses towards R (a plain kept-alive client would wait
// 40 ms on R's answers, a new connection per request would cost R an accept).
func benchServeOverhead(t *testing.T, p benchParams) string {
	n := 3000
	if p.quick {
		n = 200
	}
	bench := exec.Command("go", "test", "-run", "^$", "-bench", "^BenchmarkAddedLatency$", "-benchtime", fmt.Sprintf("%dx", n), "./pkg/serve")
	bench.Dir = testenv.Root(t) // the command the report gives, run where it is given
	out, err := bench.CombinedOutput()
	if err != nil {
		t.Fatalf("BenchmarkAddedLatency: %v\n%s", err, out)
	}
	metric := func(name string) float64 {
		m := regexp.MustCompile(`([-0-9.]+) ` + name).FindSubmatch(out)
		if m == nil {
			t.Fatalf("no %s in:\n%s", name, out)
		}
		v, _ := strconv.ParseFloat(string(m[1]), 64)
		return v
	}
	added50 := metric("added-p50-ms")
	record("S6 added by serve, p50 (ms)", added50)
	return fmt.Sprintf(`## S6 serve overhead

GET /fast on one R process, %d times one after the other: straight to the R process, then
through rscale serve (one worker), alternately; kept-alive connections both ways. Command:
`+"`go test -run '^$' -bench AddedLatency -benchtime %dx ./pkg/serve`"+`.

| path | p50 | p99 |
|---|---|---|
| straight to R | %.2f ms | %.2f ms |
| through rscale serve | %.2f ms | %.2f ms |
| added by serve | %.2f ms | %.2f ms |

Target: ≤ 0.2 ms added at p50: %s.
`, n, n, metric("direct-p50-ms"), metric("direct-p99-ms"), metric("serve-p50-ms"), metric("serve-p99-ms"), added50, metric("added-p99-ms"), verdict(added50 <= 0.2))
}
