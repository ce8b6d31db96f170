package loadgen

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"
)

// scripted answers by path and counts what it answered.
type scripted struct {
	mu     sync.Mutex
	counts map[string]map[int]int // path → status → requests
	began  time.Time
	arrive []time.Duration
	stall  func(since time.Duration) time.Duration
}

func (s *scripted) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	since := time.Since(s.began)
	status := 200
	switch r.URL.Path {
	case "/slow":
		time.Sleep(100 * time.Millisecond)
	case "/fail":
		status = 500
	case "/ok":
		time.Sleep(10 * time.Millisecond)
	}
	if s.stall != nil {
		time.Sleep(s.stall(since))
	}
	s.mu.Lock()
	if s.counts[r.URL.Path] == nil {
		s.counts[r.URL.Path] = map[int]int{}
	}
	s.counts[r.URL.Path][status]++
	s.arrive = append(s.arrive, since)
	s.mu.Unlock()
	w.WriteHeader(status)
}

func serve(t *testing.T, s *scripted) string {
	t.Helper()
	s.counts, s.began = map[string]map[int]int{}, time.Now()
	srv := httptest.NewServer(s)
	t.Cleanup(srv.Close)
	return srv.URL
}

func endpoint(t *testing.T, r *Report, name string) Stats {
	t.Helper()
	for _, e := range r.Endpoints {
		if e.Name == name {
			return e
		}
	}
	t.Fatalf("no endpoint %s in %+v", name, r.Endpoints)
	return Stats{}
}

func TestClosedLoopCountsCodesAndLatencies(t *testing.T) {
	s := &scripted{}
	base := serve(t, s)
	r, err := Run(context.Background(), Options{
		URL:         base,
		Mix:         []Request{{Method: "GET", Path: "/ok", Weight: 2}, {Method: "GET", Path: "/fail", Weight: 1}, {Method: "GET", Path: "/slow", Weight: 1}},
		Concurrency: 4, Duration: time.Second,
	})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(r.Mode, "closed loop: 4 concurrent clients") {
		t.Errorf("mode %q", r.Mode)
	}
	total := 0
	for path, codes := range s.counts {
		e := endpoint(t, r, "GET "+path)
		for status, n := range codes {
			if e.Codes[strconv.Itoa(status)] != n {
				t.Errorf("%s: the report counts %d answers %d, the server sent %d", path, e.Codes[strconv.Itoa(status)], status, n)
			}
			total += n
		}
	}
	if r.Total.Requests != total || r.Total.Codes["500"] != s.counts["/fail"][500] {
		t.Errorf("total %+v, the server answered %d", r.Total, total)
	}
	if got, want := r.Total.CodeSummary(), fmt.Sprintf("200:%d 500:%d", total-s.counts["/fail"][500], s.counts["/fail"][500]); got != want {
		t.Errorf("code summary %q, want %q", got, want)
	}
	if fail := endpoint(t, r, "GET /fail"); fail.SuccessRatio != 0 {
		t.Errorf("/fail success ratio %g", fail.SuccessRatio)
	}
	if ok := endpoint(t, r, "GET /ok"); ok.SuccessRatio != 1 || ok.P50 < 10 || ok.P50 > 40 {
		t.Errorf("/ok: %+v; want all successes and a median of 10 ms or a little more", ok)
	}
	if slow := endpoint(t, r, "GET /slow"); slow.P50 < 100 || slow.P50 > 150 || slow.Max < 100 {
		t.Errorf("/slow: %+v; want a median of 100 ms or a little more", slow)
	}
	// Closed loop: each client waits for its answer, so the slow endpoint bounds the rate.
	if r.Total.PerSecond < 20 || r.Total.PerSecond > 4/0.01 {
		t.Errorf("%g requests/s", r.Total.PerSecond)
	}
}

func TestPercentilesOfKnownLatencies(t *testing.T) {
	a := newAggregate(map[string]string{"GET http://x/a": "GET /a"})
	began := time.Now()
	for ms := 1; ms <= 1000; ms++ {
		a.add(&vegeta.Result{Method: "GET", URL: "http://x/a", Code: 200, Timestamp: began, Latency: time.Duration(ms) * time.Millisecond})
	}
	st := a.report("test", 0).Endpoints[0]
	// HDR histograms keep 3 significant digits: a value is known to within 0.1 %.
	for _, c := range []struct {
		name      string
		got, want float64
	}{{"p50", st.P50, 500}, {"p90", st.P90, 900}, {"p99", st.P99, 990}, {"p99.9", st.P999, 999}, {"max", st.Max, 1000}} {
		if c.got < c.want || c.got > c.want*1.001 {
			t.Errorf("%s = %g ms, want %g", c.name, c.got, c.want)
		}
	}
	if st.Requests != 1000 || st.Codes["200"] != 1000 || st.SuccessRatio != 1 {
		t.Errorf("%+v", st)
	}
}

// Open loop: while the server stalls, requests keep leaving on time; their latencies grow.
func TestOpenLoopKeepsItsRateWhenTheServerStalls(t *testing.T) {
	s := &scripted{stall: func(since time.Duration) time.Duration {
		if since < 500*time.Millisecond {
			return time.Second // everything that arrives in the first half second waits a second
		}
		return 0
	}}
	base := serve(t, s)
	r, err := Run(context.Background(), Options{
		URL: base, Mix: []Request{{Method: "GET", Path: "/", Weight: 1}},
		Rate: 100, Per: time.Second, Duration: 2 * time.Second,
	})
	if err != nil {
		t.Fatal(err)
	}
	if r.Total.Requests < 199 || r.Total.Requests > 201 {
		t.Errorf("%d requests at 100/s for 2s; want 200", r.Total.Requests)
	}
	inStall := 0
	for _, at := range s.arrive {
		if at < 500*time.Millisecond {
			inStall++
		}
	}
	if inStall < 45 {
		t.Errorf("%d requests arrived during the stall's half second; at 100/s, 50 should", inStall)
	}
	if r.Total.Max < 1000 || r.Total.P50 > 100 {
		t.Errorf("max %g ms, median %g ms: want the stalled requests' second in the max, not in the median", r.Total.Max, r.Total.P50)
	}
}

func TestTargeterKeepsTheWeights(t *testing.T) {
	base, _ := url.Parse("http://api:8000/v1/")
	mix := []Request{{Method: "GET", Path: "/fast", Weight: 9}, {Method: "POST", Path: "/sum?x=1", Body: `{"a":1}`, Weight: 1}}
	tgts, names := targets(base, mix)
	if tgts[1].URL != "http://api:8000/v1/sum?x=1" || string(tgts[1].Body) != `{"a":1}` || tgts[1].Header.Get("Content-Type") != "application/json" {
		t.Errorf("target %+v", tgts[1])
	}
	if names["POST http://api:8000/v1/sum?x=1"] != "POST /sum?x=1" {
		t.Errorf("names %v", names)
	}
	next := targeter(tgts, mix)
	counts := map[string]int{}
	var run []string
	for i := 0; i < 100; i++ {
		var tg vegeta.Target
		if err := next(&tg); err != nil {
			t.Fatal(err)
		}
		counts[tg.Method]++
		if i < 10 {
			run = append(run, tg.Method)
		}
	}
	if counts["GET"] != 90 || counts["POST"] != 10 {
		t.Errorf("counts %v, want 90 and 10", counts)
	}
	if strings.Count(strings.Join(run, " "), "POST") != 1 {
		t.Errorf("the first 10 requests %v should hold one POST", run)
	}
}

func TestParseMix(t *testing.T) {
	dir := t.TempDir()
	body := filepath.Join(dir, "body.json")
	if err := os.WriteFile(body, []byte(`{"a": 1, "b": 2}`), 0o644); err != nil {
		t.Fatal(err)
	}
	mix, err := ParseMix(strings.NewReader("# weight method path [body]\n90 get /fast\n\n10 POST /sum {\"a\": 1, \"b\": 2}\n1 POST /file @"+body+"\n"), "mix.txt")
	if err != nil {
		t.Fatal(err)
	}
	if len(mix) != 3 || mix[0] != (Request{Method: "GET", Path: "/fast", Weight: 90}) || mix[1].Body != `{"a": 1, "b": 2}` || mix[2].Body != `{"a": 1, "b": 2}` {
		t.Errorf("mix %+v", mix)
	}
	for text, want := range map[string]string{
		"GET /fast\n":         "mix.txt:1: write: weight method path",
		"0 GET /fast\n":       "mix.txt:1: the weight \"0\" must be a whole number of 1 or more",
		"1 GET fast\n":        "must start with /",
		"# nothing here\n":    "holds no request",
		"1 POST /x @nofile\n": "nofile",
	} {
		if _, err := ParseMix(strings.NewReader(text), "mix.txt"); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: %v, want %q", text, err, want)
		}
	}
}

func TestOptionsMustChooseOneLoop(t *testing.T) {
	mix := []Request{{Method: "GET", Path: "/", Weight: 1}}
	for _, o := range []Options{
		{URL: "http://x", Mix: mix, Duration: time.Second},
		{URL: "http://x", Mix: mix, Duration: time.Second, Rate: 5, Per: time.Second, Concurrency: 2},
		{URL: "x", Mix: mix, Duration: time.Second, Concurrency: 1},
		{URL: "http://x", Mix: mix, Concurrency: 1},
	} {
		if _, err := Run(context.Background(), o); err == nil {
			t.Errorf("%+v: no error", o)
		}
	}
}

func TestParseRate(t *testing.T) {
	for in, want := range map[string][2]int64{"50/s": {50, int64(time.Second)}, "50": {50, int64(time.Second)}, "600/m": {600, int64(time.Minute)}, "5/10s": {5, int64(10 * time.Second)}} {
		n, per, err := ParseRate(in)
		if err != nil || int64(n) != want[0] || int64(per) != want[1] {
			t.Errorf("%s: %d/%s %v", in, n, per, err)
		}
	}
	for _, bad := range []string{"", "abc", "0/s", "-5/s", "5/week"} {
		if _, _, err := ParseRate(bad); err == nil {
			t.Errorf("%q: no error", bad)
		}
	}
}

func TestBoundsAreRefusedBeforeAnythingIsSent(t *testing.T) {
	mix := []Request{{Method: "GET", Path: "/", Weight: 1}}
	for _, c := range []struct {
		o    Options
		want string // "" when within the bounds
	}{
		{Options{Concurrency: 10000}, ""},
		{Options{Concurrency: 100000000}, "concurrency 100000000: one machine runs at most 10000 clients; give 10000 or fewer"},
		{Options{Rate: 10000, Per: time.Second}, ""},
		{Options{Rate: 600000, Per: time.Minute}, ""},
		{Options{Rate: 10001, Per: time.Second}, "rate 10001 requests/s: one machine sends at most 10000 requests/s"},
		{Options{Rate: 100, Per: time.Millisecond}, "rate 100 requests/1ms: one machine sends at most 10000 requests/s"},
	} {
		err := c.o.CheckBounds()
		if (c.want == "") != (err == nil) || (err != nil && !strings.Contains(err.Error(), c.want)) {
			t.Errorf("%+v: got %v, want %q", c.o, err, c.want)
		}
		if c.want == "" {
			continue
		}
		// Run refuses it too, at once: an address nothing answers on is never dialled.
		c.o.URL, c.o.Mix, c.o.Duration = "http://127.0.0.1:1", mix, time.Hour
		start := time.Now()
		if _, err := Run(context.Background(), c.o); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("Run %+v: got %v, want %q", c.o, err, c.want)
		}
		if time.Since(start) > time.Second {
			t.Errorf("Run %+v took %s before refusing", c.o, time.Since(start))
		}
	}
}
