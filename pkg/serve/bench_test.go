package serve

import (
	"io"
	"net/http"
	"slices"
	"testing"
	"time"
)

// BenchmarkAddedLatency measures what serve adds to a request on a fast endpoint. Each
// iteration asks one R worker directly, then the same worker through serve, both over
// kept-alive connections (to R, the way serve itself connects). It reports the median and
// 99th percentile of each, and what serve adds to them.
//
//	go test -run '^$' -bench AddedLatency -benchtime 2000x ./pkg/serve
func BenchmarkAddedLatency(b *testing.B) {
	r := start(b, func(o *Options) { o.Workers = 1 })
	worker := "http://" + status(b, r).Workers[0].Address + "/fast"
	direct := &http.Client{Transport: workerTransport()}
	viaServe := &http.Client{Transport: &http.Transport{}}
	ask := func(c *http.Client, url string) time.Duration {
		began := time.Now()
		resp, err := c.Get(url)
		if err != nil {
			b.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 {
			b.Fatalf("%s: %s", url, resp.Status)
		}
		return time.Since(began)
	}
	for range 20 { // R's first answers are slow while it loads code
		ask(direct, worker)
		ask(viaServe, r.url+"/fast")
	}
	var d, v []time.Duration
	b.ResetTimer()
	for range b.N {
		d = append(d, ask(direct, worker))
		v = append(v, ask(viaServe, r.url+"/fast"))
	}
	b.StopTimer()
	dp50, dp99, vp50, vp99 := percentile(d, 50), percentile(d, 99), percentile(v, 50), percentile(v, 99)
	b.ReportMetric(ms(dp50), "direct-p50-ms")
	b.ReportMetric(ms(dp99), "direct-p99-ms")
	b.ReportMetric(ms(vp50), "serve-p50-ms")
	b.ReportMetric(ms(vp99), "serve-p99-ms")
	b.ReportMetric(ms(vp50-dp50), "added-p50-ms")
	b.ReportMetric(ms(vp99-dp99), "added-p99-ms")
}

func percentile(samples []time.Duration, p int) time.Duration {
	sorted := slices.Clone(samples)
	slices.Sort(sorted)
	return sorted[(len(sorted)-1)*p/100]
}
