package loadgen

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"

	hdr "github.com/HdrHistogram/hdrhistogram-go"
	vegeta "github.com/tsenart/vegeta/v12/lib"
)

// Options say what to send, and how.
type Options struct {
	URL         string    // the API's address; the mix's paths are under it
	Mix         []Request // at least one
	Rate        int       // open loop: requests per Per; 0 for closed loop
	Per         time.Duration
	Concurrency int // closed loop: clients, each sending its next request once answered
	Duration    time.Duration
	Warmup      time.Duration // sent first, not counted
	Timeout     time.Duration // per request
	// NewConnections opens a connection per request instead of keeping them alive.
	NewConnections bool
	// Progress, when set, is called about once a second while the measured run goes on.
	Progress func(Progress)
}

// Progress is how far a run is.
type Progress struct {
	Elapsed, Duration time.Duration
	Requests          int
	Failures          int
}

// Mode describes the load in words, as the report labels it.
func (o Options) Mode() string {
	if o.Rate > 0 {
		return fmt.Sprintf("open loop: %s for %s", o.rate(), o.Duration)
	}
	return fmt.Sprintf("closed loop: %d concurrent clients for %s", o.Concurrency, o.Duration)
}

// rate is the open loop's rate in words: "50 requests/s".
func (o Options) rate() string {
	per := o.Per.String()
	if o.Per == time.Second {
		per = "s"
	}
	return fmt.Sprintf("%d requests/%s", o.Rate, per)
}

// MaxConcurrency is the most closed-loop clients one run has: each is a goroutine with its
// own connection and buffers, all started at once, so a hundred million took gigabytes
// before the first request; past ten thousand, one machine measures itself, not the API.
const MaxConcurrency = 10000

// MaxRate is the most requests per second an open loop sends: vegeta starts a sender for
// each request in flight, and past ten thousand a second one machine measures itself.
const MaxRate = 10000

// CheckBounds refuses a load beyond MaxConcurrency or MaxRate, before anything is sent.
func (o Options) CheckBounds() error {
	const more = "or run rscale bench from several machines at once and add up their reports"
	if o.Concurrency > MaxConcurrency {
		return fmt.Errorf("concurrency %d: one machine runs at most %d clients; give %d or fewer, %s", o.Concurrency, MaxConcurrency, MaxConcurrency, more)
	}
	if o.Rate > 0 && o.Per > 0 && float64(o.Rate)/o.Per.Seconds() > MaxRate {
		return fmt.Errorf("rate %s: one machine sends at most %d requests/s; give a lower rate, %s", o.rate(), MaxRate, more)
	}
	return nil
}

func (o Options) validate() (*url.URL, error) {
	u, err := url.Parse(o.URL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("%q is not a URL to load-test: give one such as http://localhost:8000", o.URL)
	}
	switch {
	case len(o.Mix) == 0:
		return nil, errors.New("no request to send")
	case o.Rate < 0 || o.Concurrency < 0:
		return nil, errors.New("the rate and the concurrency cannot be negative")
	case (o.Rate > 0) == (o.Concurrency > 0):
		return nil, errors.New("choose one: a rate (open loop, such as --rate 50/s) or a concurrency (closed loop, such as --concurrency 8)")
	case o.Rate > 0 && o.Per <= 0:
		return nil, errors.New("a rate needs a time unit, such as 50/s")
	case o.Duration <= 0:
		return nil, errors.New("the duration must be more than 0, such as 30s")
	}
	if err := o.CheckBounds(); err != nil {
		return nil, err
	}
	return u, nil
}

// Run sends the load and reports on it. It sends no request due after o.Duration, so it ends
// within o.Duration (plus o.Warmup) and o.Timeout of its start. Ending ctx stops it at once;
// the report then covers what was sent, and says it was interrupted.
func Run(ctx context.Context, o Options) (*Report, error) {
	base, err := o.validate()
	if err != nil {
		return nil, err
	}
	if o.Timeout == 0 {
		o.Timeout = 30 * time.Second
	}
	tgts, names := targets(base, o.Mix)
	if o.Warmup > 0 {
		for range attack(ctx, o, tgts, o.Warmup) {
		}
	}
	agg := newAggregate(names)
	start := time.Now()
	nextProgress := start.Add(time.Second)
	for res := range attack(ctx, o, tgts, o.Duration) {
		agg.add(res)
		if o.Progress != nil && time.Now().After(nextProgress) {
			nextProgress = nextProgress.Add(time.Second)
			o.Progress(Progress{Elapsed: time.Since(agg.first), Duration: o.Duration, Requests: agg.total.count, Failures: agg.total.count - agg.total.ok})
		}
	}
	// Requests are measured over the duration, even when the rate sent the last one long
	// before its end, or over the time until the run was stopped.
	r := agg.report(o.Mode(), min(o.Duration, time.Since(start)))
	r.Interrupted = ctx.Err() != nil
	return r, nil
}

// attack runs vegeta for d and returns its results. Open loop: vegeta starts as many
// senders as the rate needs, so a stalled server gets its requests on time regardless.
// Closed loop: exactly Concurrency senders.
func attack(ctx context.Context, o Options, tgts []vegeta.Target, d time.Duration) <-chan *vegeta.Result {
	opts := []func(*vegeta.Attacker){vegeta.Timeout(o.Timeout), vegeta.KeepAlive(!o.NewConnections), vegeta.Redirects(vegeta.NoFollow)}
	pacer := vegeta.Rate{Freq: o.Rate, Per: o.Per}
	if o.Rate == 0 {
		c := uint64(o.Concurrency)
		opts = append(opts, vegeta.Workers(c), vegeta.MaxWorkers(c), vegeta.Connections(o.Concurrency))
		pacer = vegeta.Rate{} // as fast as the clients get answers
	}
	atk := vegeta.NewAttacker(opts...)
	results := atk.Attack(targeter(tgts, o.Mix), newBoundedPacer(ctx, pacer, d), d, "rscale")
	stop := context.AfterFunc(ctx, func() { atk.Stop() })
	out := make(chan *vegeta.Result)
	go func() {
		defer close(out)
		defer stop()
		for r := range results {
			out <- r
		}
	}()
	return out
}

// Report is what a run measured: in all, and per kind of request.
type Report struct {
	Mode        string  `json:"mode"`
	Seconds     float64 `json:"seconds"`               // the duration, or until interrupted; at least from the first request sent to the last answer
	Interrupted bool    `json:"interrupted,omitempty"` // stopped before the duration (Ctrl-C): a partial report
	Total       Stats   `json:"total"`
	Endpoints   []Stats `json:"endpoints"`
}

// Stats are the figures for a set of requests. Latencies are in milliseconds.
type Stats struct {
	Name         string         `json:"name"`
	Requests     int            `json:"requests"`
	SuccessRatio float64        `json:"success_ratio"` // answers with a 2xx or 3xx status
	Codes        map[string]int `json:"codes"`         // "0" counts requests that got no answer
	PerSecond    float64        `json:"requests_per_second"`
	P50          float64        `json:"p50_ms"`
	P90          float64        `json:"p90_ms"`
	P99          float64        `json:"p99_ms"`
	P999         float64        `json:"p99_9_ms"`
	Max          float64        `json:"max_ms"`
	Errors       []string       `json:"errors,omitempty"` // the first few distinct ones
}

// CodeSummary lists the status codes and their counts: "200:1350 503:12".
func (s Stats) CodeSummary() string {
	codes := make([]string, 0, len(s.Codes))
	for code := range s.Codes {
		codes = append(codes, code)
	}
	sort.Strings(codes)
	for i, code := range codes {
		codes[i] = fmt.Sprintf("%s:%d", code, s.Codes[code])
	}
	return strings.Join(codes, " ")
}

type series struct {
	name   string
	count  int
	ok     int
	codes  map[string]int
	hist   *hdr.Histogram
	errors []string
}

func newSeries(name string) *series {
	// Microseconds, from 1 µs to 10 minutes, to 3 significant digits.
	return &series{name: name, codes: map[string]int{}, hist: hdr.New(1, int64(10*time.Minute/time.Microsecond), 3)}
}

func (s *series) add(r *vegeta.Result) {
	s.count++
	if r.Code >= 200 && r.Code < 400 {
		s.ok++
	}
	s.codes[strconv.Itoa(int(r.Code))]++
	_ = s.hist.RecordValue(max(1, r.Latency.Microseconds()))
	if r.Error != "" && len(s.errors) < 3 && !contains(s.errors, r.Error) {
		s.errors = append(s.errors, r.Error)
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func (s *series) stats(seconds float64) Stats {
	st := Stats{Name: s.name, Requests: s.count, Codes: s.codes, Errors: s.errors}
	if s.count == 0 {
		return st
	}
	q := func(p float64) float64 { return float64(s.hist.ValueAtQuantile(p)) / 1000 }
	st.SuccessRatio = float64(s.ok) / float64(s.count)
	st.P50, st.P90, st.P99, st.P999 = q(50), q(90), q(99), q(99.9)
	st.Max = float64(s.hist.Max()) / 1000
	if seconds > 0 {
		st.PerSecond = float64(s.count) / seconds
	}
	return st
}

type aggregate struct {
	names       map[string]string // method and URL → the mix's name
	total       *series
	byName      map[string]*series
	first, last time.Time
}

func newAggregate(names map[string]string) *aggregate {
	return &aggregate{names: names, total: newSeries("all"), byName: map[string]*series{}}
}

func (a *aggregate) add(r *vegeta.Result) {
	if a.first.IsZero() || r.Timestamp.Before(a.first) {
		a.first = r.Timestamp
	}
	if end := r.End(); end.After(a.last) {
		a.last = end
	}
	name := a.names[r.Method+" "+r.URL]
	s := a.byName[name]
	if s == nil {
		s = newSeries(name)
		a.byName[name] = s
	}
	s.add(r)
	a.total.add(r)
}

func (a *aggregate) report(mode string, window time.Duration) *Report {
	seconds := max(a.last.Sub(a.first), window).Seconds()
	r := &Report{Mode: mode, Seconds: seconds, Total: a.total.stats(seconds), Endpoints: []Stats{}}
	for _, s := range a.byName {
		r.Endpoints = append(r.Endpoints, s.stats(seconds))
	}
	sort.Slice(r.Endpoints, func(i, j int) bool { return r.Endpoints[i].Name < r.Endpoints[j].Name })
	return r
}
