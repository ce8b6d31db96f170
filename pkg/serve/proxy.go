package serve

import (
	"context"
	"io"
	"log"
	"net/http"
	"strconv"
	"time"
)

// outcome is how one request to a worker ended, for the worker's sake.
type outcome int

const (
	served     outcome = iota // the worker answered: it is free again
	aborted                   // the client left, or the answer broke off: the worker may still be busy
	timedOut                  // past the request timeout: the worker is stuck
	workerLost                // the worker could not be reached or died
)

type proxyErrorKey struct{}

// recordProxyError keeps the reverse proxy's error for forward, which decides what it means.
func recordProxyError(_ http.ResponseWriter, r *http.Request, err error) {
	if p, ok := r.Context().Value(proxyErrorKey{}).(*error); ok {
		*p = err
	}
}

var discardLog = log.New(io.Discard, "", 0)

// forward sends the request to the worker and copies the answer back. The worker's errors
// become 502 (worker lost) or 504 (request timeout) answers.
func forward(w *worker, rw *recorder, r *http.Request, timeout time.Duration) (result outcome) {
	var proxyErr error
	ctx, cancel := context.WithTimeout(context.WithValue(r.Context(), proxyErrorKey{}, &proxyErr), timeout)
	defer cancel()
	defer func() {
		// The reverse proxy panics with ErrAbortHandler when an answer breaks off midway;
		// the worker's fate is decided first, then the connection is dropped.
		if v := recover(); v != nil {
			result = aborted
			if v != http.ErrAbortHandler {
				panic(v)
			}
			if ctx.Err() == context.DeadlineExceeded && r.Context().Err() == nil {
				result = timedOut
			}
			rw.aborted = true
		}
	}()
	w.proxy.ServeHTTP(rw, r.WithContext(ctx))
	switch {
	case proxyErr == nil:
		w.served.Add(1)
		return served
	case r.Context().Err() != nil:
		rw.status = statusClientClosed
		return aborted
	case ctx.Err() == context.DeadlineExceeded:
		http.Error(rw, "the API took longer than the request timeout: its R process was stopped and is being replaced\n", http.StatusGatewayTimeout)
		return timedOut
	default:
		http.Error(rw, "the R process serving this request stopped before answering; it is being replaced\n", http.StatusBadGateway)
		return workerLost
	}
}

// statusClientClosed is logged for a request whose client left before the answer, as nginx does.
const statusClientClosed = 499

// recorder notes the status and size of an answer for the access log and metrics.
type recorder struct {
	http.ResponseWriter
	status  int
	bytes   int64
	aborted bool
}

func (r *recorder) WriteHeader(code int) {
	if r.status == 0 {
		r.status = code
	}
	r.ResponseWriter.WriteHeader(code)
}

func (r *recorder) Write(b []byte) (int, error) {
	if r.status == 0 {
		r.status = http.StatusOK
	}
	n, err := r.ResponseWriter.Write(b)
	r.bytes += int64(n)
	return n, err
}

// Unwrap lets http.ResponseController reach the connection, for flushing streamed answers.
func (r *recorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }

func (r *recorder) code() int {
	if r.status == 0 {
		return http.StatusOK
	}
	return r.status
}

// busy answers 503 with a hint of when to come back.
func busy(rw http.ResponseWriter, retryAfter time.Duration, message string) {
	secs := int(retryAfter.Round(time.Second) / time.Second)
	rw.Header().Set("Retry-After", strconv.Itoa(max(1, secs)))
	http.Error(rw, message, http.StatusServiceUnavailable)
}
