package serve

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// sleepAPI has a slow endpoint and a fast one.
var sleepAPI = filepath.Join("..", "..", "testdata", "projects", "sleep")

// needR skips a test that runs real R when R is missing, and fails it under CI.
func needR(t testing.TB) {
	t.Helper()
	if _, err := exec.LookPath("Rscript"); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("Rscript is needed: apt-get install r-base-core r-cran-plumber")
		}
		t.Skip("no Rscript")
	}
}

// syncBuffer collects the server's log while it runs.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

type running struct {
	url  string
	log  *syncBuffer
	stop func() error // what SIGTERM does: drain, stop the workers, return Run's error
}

// start serves the sleep API and waits until every worker is ready.
func start(t testing.TB, change func(*Options)) running {
	t.Helper()
	needR(t)
	o := DefaultOptions()
	o.Dir, o.Port, o.Workers = sleepAPI, 0, 4
	log := &syncBuffer{}
	o.Log = log
	if change != nil {
		change(&o)
	}
	ctx, cancel := context.WithCancel(context.Background())
	addr := make(chan string, 1)
	result := make(chan error, 1)
	go func() { result <- Run(ctx, o, func(a string) { addr <- a }) }()
	var r running
	select {
	case a := <-addr:
		r = running{url: "http://" + a, log: log}
	case err := <-result:
		cancel()
		t.Fatalf("serve stopped: %v\n%s", err, log.String())
	case <-time.After(time.Minute):
		cancel()
		t.Fatalf("serve did not start within a minute:\n%s", log.String())
	}
	var once sync.Once
	var err error
	r.stop = func() error {
		once.Do(func() {
			cancel()
			err = <-result
		})
		return err
	}
	t.Cleanup(func() {
		_ = r.stop()
		if t.Failed() {
			t.Logf("serve's log:\n%s", log.String())
		}
	})
	waitStatus(t, r, func(s Status) bool { return countState(s, stateIdle) == o.Workers })
	return r
}

func countState(s Status, state workerState) int {
	n := 0
	for _, w := range s.Workers {
		if w.State == string(state) {
			n++
		}
	}
	return n
}

func status(t testing.TB, r running) Status {
	t.Helper()
	resp, err := http.Get(r.url + "/__rscale/status")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var s Status
	if err := json.NewDecoder(resp.Body).Decode(&s); err != nil {
		t.Fatal(err)
	}
	return s
}

func waitStatus(t testing.TB, r running, ok func(Status) bool) Status {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for {
		s := status(t, r)
		if ok(s) {
			return s
		}
		if time.Now().After(deadline) {
			t.Fatalf("status never got there: %+v", s)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

type answer struct {
	status     int
	retryAfter string
	pid        int
	took       time.Duration
	err        error
}

func get(ctx context.Context, url string) answer {
	began := time.Now()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return answer{err: err, took: time.Since(began)}
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	a := answer{status: resp.StatusCode, retryAfter: resp.Header.Get("Retry-After"), took: time.Since(began)}
	var fields struct{ PID []int }
	if json.Unmarshal(body, &fields) == nil && len(fields.PID) == 1 {
		a.pid = fields.PID[0]
	}
	return a
}

// together sends the requests at once and returns their answers and how long the last took.
func together(urls ...string) ([]answer, time.Duration) {
	answers := make([]answer, len(urls))
	var wg sync.WaitGroup
	began := time.Now()
	for i, u := range urls {
		wg.Add(1)
		go func() {
			defer wg.Done()
			answers[i] = get(context.Background(), u)
		}()
	}
	wg.Wait()
	return answers, time.Since(began)
}

func repeat(url string, n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = url
	}
	return out
}

const sleep = 1500 * time.Millisecond

func sleepURL(r running, d time.Duration) string {
	return fmt.Sprintf("%s/sleep?seconds=%g", r.url, d.Seconds())
}

// warm sends each of n workers one request: R's first answer is slow while it loads code,
// and that is not what the timing tests measure. n requests at once each take a worker.
func warm(r running, n int) {
	together(repeat(sleepURL(r, 300*time.Millisecond), n)...)
}

func TestRequestsSpreadOverWorkersAndQueue(t *testing.T) {
	r := start(t, nil)
	warm(r, 4)
	answers, took := together(repeat(sleepURL(r, sleep), 4)...)
	pids := map[int]bool{}
	for _, a := range answers {
		if a.status != 200 {
			t.Fatalf("answer %+v", a)
		}
		pids[a.pid] = true
	}
	t.Logf("4 requests of %s on 4 workers: %s", sleep, took)
	if took > sleep*3/2 || len(pids) != 4 {
		t.Errorf("4 requests on 4 workers took %s on %d R processes; want at most %s, one each", took, len(pids), sleep*3/2)
	}
	_, took = together(repeat(sleepURL(r, sleep), 8)...)
	t.Logf("8 requests of %s on 4 workers: %s", sleep, took)
	if took > sleep*5/2 || took < sleep*2*9/10 {
		t.Errorf("8 requests on 4 workers took %s; want two rounds, between %s and %s", took, sleep*2*9/10, sleep*5/2)
	}
}

func TestFastRequestsDoNotWaitBehindSlowOnes(t *testing.T) {
	r := start(t, nil)
	warm(r, 4)
	slow := make(chan []answer)
	go func() {
		answers, _ := together(repeat(sleepURL(r, 3*time.Second), 3)...)
		slow <- answers
	}()
	waitStatus(t, r, func(s Status) bool { return s.InFlight == 3 })
	for i := 0; i < 10; i++ {
		a := get(context.Background(), r.url+"/fast")
		if a.status != 200 || a.took > 3*time.Second/20 {
			t.Errorf("fast request %d while 3 of 4 workers were busy: %d in %s; want 200 well under the slow requests' 3s", i, a.status, a.took)
		}
	}
	for _, a := range <-slow {
		if a.status != 200 {
			t.Errorf("slow request: %+v", a)
		}
	}
}

// A client that keeps its connection alive must not meet R's 40 ms delayed-ACK stall on
// serve's side (see workerTransport).
func TestKeptAliveRequestsAreFast(t *testing.T) {
	r := start(t, func(o *Options) { o.Workers = 1 })
	c := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 1}}
	var took []time.Duration
	for i := 0; i < 21; i++ {
		began := time.Now()
		resp, err := c.Get(r.url + "/fast")
		if err != nil {
			t.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		took = append(took, time.Since(began))
	}
	slices.Sort(took)
	if took[10] > 30*time.Millisecond {
		t.Errorf("median %s on a kept-alive connection; R answers /fast in a few ms", took[10])
	}
}

func TestKilledWorkerIsReplacedAndOnlyItsRequestFails(t *testing.T) {
	r := start(t, func(o *Options) { o.Workers = 2 })
	done := make(chan []answer)
	go func() {
		answers, _ := together(repeat(sleepURL(r, 2*time.Second), 2)...)
		done <- answers
	}()
	s := waitStatus(t, r, func(s Status) bool { return countState(s, stateBusy) == 2 })
	victim := s.Workers[0]
	if err := syscall.Kill(victim.PID, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	answers := <-done
	codes := map[int]int{}
	for _, a := range answers {
		codes[a.status]++
	}
	if codes[200] != 1 || codes[502] != 1 {
		t.Errorf("answers %+v; want one 200 and one 502 for the killed worker's request", answers)
	}
	s = waitStatus(t, r, func(s Status) bool { return countState(s, stateIdle) == 2 })
	if s.Restarts != 1 || s.Workers[0].Restarts != 1 || s.Workers[0].PID == victim.PID {
		t.Errorf("status after the kill: %+v; want worker %d restarted once with a new process", s, victim.ID)
	}
	for i := 0; i < 4; i++ {
		if a := get(context.Background(), r.url+"/fast"); a.status != 200 {
			t.Errorf("request after the restart: %+v", a)
		}
	}
}

// A worker that is alive but fails its health check is replaced.
func TestUnhealthyWorkerIsReplaced(t *testing.T) {
	dir := t.TempDir()
	api := "#* @get /healthz\nfunction(res) { if (file.exists('sick')) res$status <- 500; 'ok' }\n\n#* @get /fast\nfunction() 1\n"
	if err := os.WriteFile(filepath.Join(dir, "plumber.R"), []byte(api), 0o644); err != nil {
		t.Fatal(err)
	}
	r := start(t, func(o *Options) { o.Dir, o.Workers, o.HealthInterval = dir, 1, 200*time.Millisecond })
	pid := status(t, r).Workers[0].PID
	if err := os.WriteFile(filepath.Join(dir, "sick"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	waitStatus(t, r, func(s Status) bool { return s.Restarts >= 1 })
	if err := os.Remove(filepath.Join(dir, "sick")); err != nil {
		t.Fatal(err)
	}
	s := waitStatus(t, r, func(s Status) bool { return countState(s, stateIdle) == 1 })
	if s.Workers[0].PID == pid {
		t.Errorf("the unhealthy R process %d still serves", pid)
	}
	if err := syscall.Kill(pid, 0); err != syscall.ESRCH {
		t.Errorf("the unhealthy R process %d is still there: %v", pid, err)
	}
	if a := get(context.Background(), r.url+"/fast"); a.status != 200 {
		t.Errorf("after the replacement: %+v", a)
	}
}

func TestQueueLimitsAnswer503(t *testing.T) {
	r := start(t, func(o *Options) { o.Workers, o.MaxQueue, o.QueueTimeout = 1, 1, time.Second })
	busy := make(chan answer)
	go func() { busy <- get(context.Background(), sleepURL(r, 3*time.Second)) }()
	waitStatus(t, r, func(s Status) bool { return s.InFlight == 1 })

	queued := make(chan answer)
	go func() { queued <- get(context.Background(), r.url+"/fast") }()
	waitStatus(t, r, func(s Status) bool { return s.QueueLength == 1 })
	if full := get(context.Background(), r.url+"/fast"); full.status != 503 || full.retryAfter == "" || full.took > time.Second/2 {
		t.Errorf("a request beyond --max-queue: %+v; want 503 with Retry-After, at once", full)
	}
	if timedOut := <-queued; timedOut.status != 503 || timedOut.retryAfter == "" || timedOut.took < 900*time.Millisecond {
		t.Errorf("a request queued past --queue-timeout: %+v; want 503 with Retry-After after about 1s", timedOut)
	}
	if a := <-busy; a.status != 200 {
		t.Errorf("the request in flight: %+v", a)
	}
}

func TestClientLeavingTheQueueTakesNoWorker(t *testing.T) {
	r := start(t, func(o *Options) { o.Workers = 1 })
	busy := make(chan answer)
	go func() { busy <- get(context.Background(), sleepURL(r, sleep)) }()
	waitStatus(t, r, func(s Status) bool { return s.InFlight == 1 })

	ctx, cancel := context.WithCancel(context.Background())
	left := make(chan answer)
	go func() { left <- get(ctx, r.url+"/fast") }()
	waitStatus(t, r, func(s Status) bool { return s.QueueLength == 1 })
	cancel()
	<-left
	waitStatus(t, r, func(s Status) bool { return s.QueueLength == 0 })
	if a := <-busy; a.status != 200 {
		t.Fatalf("the request in flight: %+v", a)
	}
	s := waitStatus(t, r, func(s Status) bool { return countState(s, stateIdle) == 1 })
	if s.Workers[0].Served != 1 {
		t.Errorf("the worker served %d requests; the one whose client left must not reach R", s.Workers[0].Served)
	}
	if !strings.Contains(r.log.String(), "GET /fast 499 worker=-") {
		t.Errorf("the log lacks the abandoned request:\n%s", r.log.String())
	}
}

func TestStuckWorkerIsKilledAtTheRequestTimeout(t *testing.T) {
	r := start(t, func(o *Options) { o.Workers, o.RequestTimeout = 1, time.Second })
	pid := status(t, r).Workers[0].PID
	if a := get(context.Background(), sleepURL(r, 30*time.Second)); a.status != 504 || a.took > 5*time.Second {
		t.Errorf("a request past --request-timeout: %+v; want 504 after about 1s", a)
	}
	s := waitStatus(t, r, func(s Status) bool { return countState(s, stateIdle) == 1 })
	if s.Restarts != 1 || s.Workers[0].PID == pid {
		t.Errorf("status %+v; want the stuck worker replaced", s)
	}
	if err := syscall.Kill(pid, 0); err != syscall.ESRCH {
		t.Errorf("the stuck R process %d is still there: %v", pid, err)
	}
}

func TestStopFinishesRequestsInFlightAndQueued(t *testing.T) {
	r := start(t, func(o *Options) { o.Workers = 1 })
	pid := status(t, r).Workers[0].PID
	answers := make(chan []answer)
	go func() {
		a, _ := together(sleepURL(r, time.Second), sleepURL(r, time.Second))
		answers <- a
	}()
	waitStatus(t, r, func(s Status) bool { return s.InFlight == 1 && s.QueueLength == 1 })
	if err := r.stop(); err != nil {
		t.Errorf("Run returned %v", err)
	}
	for _, a := range <-answers {
		if a.status != 200 {
			t.Errorf("a request in flight or queued when serve stopped: %+v", a)
		}
	}
	if err := syscall.Kill(pid, 0); err != syscall.ESRCH {
		t.Errorf("R process %d outlived serve: %v", pid, err)
	}
}

func TestMetricsParseAsPrometheusText(t *testing.T) {
	r := start(t, func(o *Options) { o.Workers = 1 })
	for i := 0; i < 3; i++ {
		get(context.Background(), r.url+"/fast")
	}
	resp, err := http.Get(r.url + "/__rscale/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	parser := expfmt.NewTextParser(model.UTF8Validation)
	families, err := parser.TextToMetricFamilies(resp.Body)
	if err != nil {
		t.Fatalf("the metrics do not parse: %v", err)
	}
	for _, name := range []string{"rscale_requests_total", "rscale_request_duration_seconds", "rscale_queue_wait_seconds", "rscale_queue_length", "rscale_workers_busy", "rscale_worker_restarts_total"} {
		if families[name] == nil {
			t.Errorf("no %s", name)
		}
	}
	var ok float64
	for _, m := range families["rscale_requests_total"].GetMetric() {
		if m.GetLabel()[0].GetValue() == "200" {
			ok = m.GetCounter().GetValue()
		}
	}
	if ok != 3 {
		t.Errorf("rscale_requests_total{code=\"200\"} = %g, want 3", ok)
	}
	if n := families["rscale_request_duration_seconds"].GetMetric()[0].GetHistogram().GetSampleCount(); n != 3 {
		t.Errorf("latency samples %d, want 3", n)
	}
}

func TestGrowsWhileRequestsWaitAndShrinksWhenIdle(t *testing.T) {
	r := start(t, func(o *Options) {
		o.Workers, o.MinWorkers, o.MaxWorkers, o.IdleTimeout = 1, 1, 3, 2*time.Second
	})
	answers, _ := together(repeat(sleepURL(r, 3*time.Second), 3)...)
	for _, a := range answers {
		if a.status != 200 {
			t.Errorf("answer %+v", a)
		}
	}
	if grown := len(status(t, r).Workers); grown < 2 {
		t.Errorf("%d workers after requests waited; want more than the 1 it started with", grown)
	}
	waitStatus(t, r, func(s Status) bool { return len(s.Workers) == 1 })
}

func TestErrorsSayWhatToDo(t *testing.T) {
	needR(t)
	o := DefaultOptions()
	o.Log = io.Discard
	o.Dir = t.TempDir()
	if err := Run(context.Background(), o, nil); err == nil || !strings.Contains(err.Error(), "expected plumber.R or entrypoint.R") {
		t.Errorf("no API: %v", err)
	}
	o.Dir, o.Rscript = sleepAPI, "/nonexistent/Rscript"
	if err := Run(context.Background(), o, nil); err == nil || !strings.Contains(err.Error(), "--rscript") {
		t.Errorf("missing Rscript: %v", err)
	}
	o.Rscript = ""
	t.Setenv("PATH", t.TempDir())
	if err := Run(context.Background(), o, nil); err == nil || !strings.Contains(err.Error(), "Rscript not found: install R (for example apt-get install r-base-core r-cran-plumber)") {
		t.Errorf("no R: %v", err)
	}
}

func TestMissingPackageIsNamed(t *testing.T) {
	needR(t)
	dir := t.TempDir()
	if err := os.WriteFile(dir+"/plumber.R", []byte("library(notarealpackage)\n#* @get /x\nfunction() 1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	o := DefaultOptions()
	o.Dir, o.Log = dir, io.Discard
	err := Run(context.Background(), o, nil)
	if err == nil || !strings.Contains(err.Error(), "R package(s) not installed: notarealpackage") || !strings.Contains(err.Error(), `install.packages(c("notarealpackage"))`) {
		t.Errorf("err = %v", err)
	}
}

func TestPortInUse(t *testing.T) {
	r := start(t, func(o *Options) { o.Workers = 1 })
	o := DefaultOptions()
	o.Dir, o.Log = sleepAPI, io.Discard
	fmt.Sscanf(r.url[strings.LastIndex(r.url, ":")+1:], "%d", &o.Port)
	if err := Run(context.Background(), o, nil); err == nil || !strings.Contains(err.Error(), fmt.Sprintf("port %d on 127.0.0.1 is in use", o.Port)) {
		t.Errorf("err = %v", err)
	}
}

func TestAPIThatDoesNotStartStopsServeWithItsError(t *testing.T) {
	needR(t)
	dir := t.TempDir()
	if err := os.WriteFile(dir+"/plumber.R", []byte("#* @get /x\nfunction() 1\nstop(\"the model file is missing\")\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	o := DefaultOptions()
	o.Dir, o.Workers, o.Port, o.Log = dir, 1, 0, io.Discard
	err := Run(context.Background(), o, nil)
	if err == nil || !strings.Contains(err.Error(), "the API does not start") || !strings.Contains(err.Error(), "the model file is missing") {
		t.Errorf("err = %v", err)
	}
}

func TestJSONLogs(t *testing.T) {
	r := start(t, func(o *Options) { o.Workers, o.LogFormat = 1, "json" })
	if a := get(context.Background(), r.url+"/fast"); a.status != 200 {
		t.Fatalf("answer %+v", a)
	}
	var access, output bool
	for _, line := range strings.Split(strings.TrimSpace(r.log.String()), "\n") {
		var entry map[string]any
		if err := json.Unmarshal([]byte(line), &entry); err != nil {
			t.Fatalf("a log line is not JSON: %q", line)
		}
		switch {
		case entry["msg"] == "request":
			access = entry["method"] == "GET" && entry["path"] == "/fast" && entry["status"] == 200.0 && entry["worker"] == 1.0 &&
				entry["queue_wait_ms"] != nil && entry["duration_ms"] != nil
		case entry["worker"] == 1.0 && entry["stream"] != nil:
			output = true
		}
	}
	if !access || !output {
		t.Errorf("access line %v, worker output %v, in:\n%s", access, output, r.log.String())
	}
}
