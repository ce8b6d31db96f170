package serve

import (
	"encoding/json"
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// metrics are what /__rscale/metrics exposes, in Prometheus' text format.
type metrics struct {
	registry  *prometheus.Registry
	requests  *prometheus.CounterVec
	latency   prometheus.Histogram
	queueWait prometheus.Histogram
	restarts  prometheus.Counter
}

// Buckets from a millisecond to ten minutes: fast endpoints and long model runs alike.
var latencyBuckets = prometheus.ExponentialBuckets(0.001, 2.5, 16)

func newMetrics(s *Server) *metrics {
	m := &metrics{
		registry: prometheus.NewRegistry(),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "rscale_requests_total", Help: "Requests answered, by HTTP status code.",
		}, []string{"code"}),
		latency: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "rscale_request_duration_seconds", Help: "Time from a request's arrival to its answer, queue included.", Buckets: latencyBuckets,
		}),
		queueWait: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "rscale_queue_wait_seconds", Help: "Time a request waited for a free R worker.", Buckets: latencyBuckets,
		}),
		restarts: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "rscale_worker_restarts_total", Help: "R workers started again after theirs stopped.",
		}),
	}
	m.registry.MustRegister(m.requests, m.latency, m.queueWait, m.restarts,
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "rscale_queue_length", Help: "Requests waiting for a free R worker.",
		}, func() float64 { return float64(s.dispatch.queueLength()) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "rscale_workers_busy", Help: "R workers serving a request.",
		}, func() float64 { return float64(s.inFlight.Load()) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "rscale_workers", Help: "R worker slots, starting ones included.",
		}, func() float64 { return float64(s.workerCount()) }),
	)
	return m
}

func (m *metrics) observe(code int, took time.Duration) {
	m.requests.WithLabelValues(strconv.Itoa(code)).Inc()
	m.latency.Observe(took.Seconds())
}

// Status is what /__rscale/status answers.
type Status struct {
	State       string         `json:"state"` // serving or draining
	Workers     []WorkerStatus `json:"workers"`
	InFlight    int64          `json:"in_flight"`
	QueueLength int            `json:"queue_length"`
	Restarts    int64          `json:"restarts"`
}

// WorkerStatus is one worker in Status.
type WorkerStatus struct {
	ID       int    `json:"id"`
	PID      int    `json:"pid"`
	Address  string `json:"address"`
	State    string `json:"state"`
	Restarts int64  `json:"restarts"`
	Served   int64  `json:"served"` // requests this R process answered
}

func (s *Server) status() Status {
	st := Status{State: "serving", InFlight: s.inFlight.Load(), QueueLength: s.dispatch.queueLength(), Restarts: s.restarts.Load(), Workers: []WorkerStatus{}}
	if s.draining.Load() {
		st.State = "draining"
	}
	for _, sl := range s.sortedSlots() {
		ws := WorkerStatus{ID: sl.id, State: string(stateStarting), Restarts: sl.restarts.Load()}
		if w := sl.current.Load(); w != nil {
			ws.PID, ws.Address, ws.State, ws.Served = w.pid(), w.addr, string(w.getState()), w.served.Load()
		}
		st.Workers = append(st.Workers, ws)
	}
	return st
}

// internal serves rscale's own paths, which never reach R.
func (s *Server) internal(rw http.ResponseWriter, r *http.Request) {
	switch r.URL.Path {
	case "/__rscale/status":
		rw.Header().Set("Content-Type", "application/json")
		enc := json.NewEncoder(rw)
		enc.SetIndent("", "  ")
		_ = enc.Encode(s.status())
	case "/__rscale/metrics":
		promhttp.HandlerFor(s.metrics.registry, promhttp.HandlerOpts{}).ServeHTTP(rw, r)
	default:
		http.Error(rw, "rscale serves /__rscale/status and /__rscale/metrics here\n", http.StatusNotFound)
	}
}
