package loadgen

import (
	"context"
	"strings"
	"testing"
	"time"
)

// A rate slower than the duration sends one request, at once, and ends with the duration,
// not a minute later.
func TestSlowRateEndsWithinTheDuration(t *testing.T) {
	base := serve(t, &scripted{})
	began := time.Now()
	r, err := Run(context.Background(), Options{
		URL: base, Mix: []Request{{Method: "GET", Path: "/", Weight: 1}},
		Rate: 1, Per: time.Minute, Duration: time.Second, Timeout: time.Second,
	})
	if err != nil {
		t.Fatal(err)
	}
	if took := time.Since(began); took < time.Second || took > 2*time.Second {
		t.Errorf("1/m for 1s took %s; want the duration, and at most the timeout more", took)
	}
	if r.Total.Requests != 1 || r.Seconds < 0.99 || r.Interrupted {
		t.Errorf("report: %d requests over %.2fs (interrupted %v); want 1 over the 1s duration", r.Total.Requests, r.Seconds, r.Interrupted)
	}
}

// Ending the context (Ctrl-C) stops the run at once with what it measured so far.
func TestCancelStopsWithAPartialReport(t *testing.T) {
	for _, o := range []Options{
		{Rate: 20, Per: time.Second},
		{Rate: 1, Per: time.Minute},
		{Concurrency: 2},
	} {
		s := &scripted{}
		o.URL, o.Mix = serve(t, s), []Request{{Method: "GET", Path: "/ok", Weight: 1}}
		o.Duration, o.Timeout = time.Minute, time.Second
		ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
		began := time.Now()
		r, err := Run(ctx, o)
		cancel()
		if err != nil {
			t.Fatal(err)
		}
		if took := time.Since(began); took > 1500*time.Millisecond {
			t.Errorf("%s: stopped after %s; want about 0.5s", o.Mode(), took)
		}
		if !r.Interrupted || r.Total.Requests == 0 || r.Seconds < 0.4 || r.Seconds > 1.5 {
			t.Errorf("%s: %d requests over %.2fs, interrupted %v; want a partial report over about 0.5s", o.Mode(), r.Total.Requests, r.Seconds, r.Interrupted)
		}
	}
}

func TestCheckMethod(t *testing.T) {
	if m, err := CheckMethod("post"); m != "POST" || err != nil {
		t.Errorf("post: %q, %v", m, err)
	}
	if _, err := CheckMethod("GETT"); err == nil || !strings.Contains(err.Error(), `unknown method "GETT": use one of GET, POST`) {
		t.Errorf("GETT: %v", err)
	}
}
