package loadgen

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"
)

// boundedPacer keeps a run within its duration and lets ctx stop it at once. vegeta sleeps
// until the next request is due before it looks at the duration or at Stop, so at 1/m a run
// of 1s would last a minute and ignore Ctrl-C; here the wait happens in Pace instead, where
// ctx ends it, and no request is sent that would be due after the duration: the run then
// waits for the duration's end, and stops.
// It also sends the first request at once: vegeta's constant pacer sends it one interval in.
type boundedPacer struct {
	ctx      context.Context
	pacer    vegeta.Pacer
	duration time.Duration
	first    time.Duration // when the pacer would send the first request
}

func newBoundedPacer(ctx context.Context, p vegeta.Pacer, duration time.Duration) boundedPacer {
	first, _ := p.Pace(0, 0)
	return boundedPacer{ctx: ctx, pacer: p, duration: duration, first: first}
}

func (b boundedPacer) Pace(elapsed time.Duration, hits uint64) (time.Duration, bool) {
	wait, stop := b.pacer.Pace(elapsed+b.first, hits)
	if stop || b.ctx.Err() != nil {
		return 0, true
	}
	// The next request would be due after the end: none is sent, and the run lasts its duration.
	past := b.duration > 0 && elapsed+wait >= b.duration
	if past {
		wait = b.duration - elapsed
	}
	if wait > 0 {
		t := time.NewTimer(wait)
		defer t.Stop()
		select {
		case <-b.ctx.Done():
			return 0, true
		case <-t.C:
		}
	}
	return 0, past
}

func (b boundedPacer) Rate(elapsed time.Duration) float64 { return b.pacer.Rate(elapsed + b.first) }

// methods are the HTTP methods a request may use: those Plumber serves, and HEAD.
var methods = []string{http.MethodGet, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete, http.MethodHead, http.MethodOptions}

// CheckMethod returns the method in upper case, or says which ones there are.
func CheckMethod(method string) (string, error) {
	m := strings.ToUpper(method)
	if !slices.Contains(methods, m) {
		return "", fmt.Errorf("unknown method %q: use one of %s", method, strings.Join(methods, ", "))
	}
	return m, nil
}
