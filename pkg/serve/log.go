package serve

import (
	"fmt"
	"io"
	"log/slog"
	"sync"
	"time"
)

// logger writes serve's three kinds of lines: one per request (the access log), the
// workers' own output, and serve's events. As text they read like a server's log; as JSON
// (--log-format json) each is one object per line.
type logger struct {
	mu   sync.Mutex
	w    io.Writer
	json *slog.Logger // nil for text
}

func newLogger(w io.Writer, asJSON bool) *logger {
	l := &logger{w: w}
	if asJSON {
		l.json = slog.New(slog.NewJSONHandler(w, nil))
	}
	return l
}

const timeFormat = "2006-01-02T15:04:05.000Z07:00"

func (l *logger) text(format string, args ...any) {
	l.mu.Lock()
	defer l.mu.Unlock()
	fmt.Fprintf(l.w, "%s %s\n", time.Now().UTC().Format(timeFormat), fmt.Sprintf(format, args...))
}

// access logs one request; worker 0 means none served it.
func (l *logger) access(method, path string, status, worker int, wait, took time.Duration) {
	if l.json != nil {
		l.json.Info("request", "method", method, "path", path, "status", status, "worker", worker,
			"queue_wait_ms", ms(wait), "duration_ms", ms(took))
		return
	}
	w := "-"
	if worker > 0 {
		w = fmt.Sprint(worker)
	}
	l.text("%s %s %d worker=%s wait=%.2fms took=%.2fms", method, path, status, w, ms(wait), ms(took))
}

// output logs a line a worker printed.
func (l *logger) output(worker int, stream, line string) {
	if l.json != nil {
		l.json.Info(line, "worker", worker, "stream", stream)
		return
	}
	l.text("worker %d | %s", worker, line)
}

func (l *logger) event(format string, args ...any) {
	if l.json != nil {
		l.json.Info(fmt.Sprintf(format, args...), "source", "rscale")
		return
	}
	l.text("rscale: "+format, args...)
}

func ms(d time.Duration) float64 {
	return float64(d.Microseconds()) / 1000
}

// recentLines keeps the last lines a worker printed, to show why it would not start.
type recentLines struct {
	mu    sync.Mutex
	max   int
	items []string
}

func newRecentLines(n int) *recentLines { return &recentLines{max: n} }

func (r *recentLines) add(line string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.items = append(r.items, line)
	if len(r.items) > r.max {
		r.items = r.items[1:]
	}
}

func (r *recentLines) lines() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.items...)
}
