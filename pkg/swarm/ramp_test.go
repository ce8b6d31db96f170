package swarm

import (
	"testing"
	"time"

	"github.com/rscale/rscale/pkg/engine"
)

func TestRampKeepsAWindowOfReplicasStarting(t *testing.T) {
	cpuIdle := 0.5
	r := &Ramp{Window: 8, cpu: func() (float64, bool) { return cpuIdle, true }}
	if got := r.First(10, 100); got != 18 {
		t.Errorf("First(10, 100) = %d, want 18", got)
	}
	if got := r.First(10, 15); got != 15 {
		t.Errorf("First(10, 15) = %d, want 15", got)
	}
	for _, c := range []struct {
		name           string
		desired, ready int
		idle           float64
		updating       bool
		target         uint64
		want           uint64
		raise          bool
	}{
		{"all starting, CPU full", 18, 10, 0.05, false, 100, 0, false},
		{"three became healthy, CPU full", 18, 13, 0.05, false, 100, 21, true},
		{"all starting, CPU idle: twice the window", 18, 10, 0.5, false, 100, 26, true},
		{"twice the window starting", 26, 10, 0.5, false, 100, 0, false},
		{"near the target", 98, 97, 0.05, false, 100, 100, true},
		{"at the target", 100, 90, 0.5, false, 100, 0, false},
		{"Swarm is updating the service", 18, 18, 0.5, true, 100, 0, false},
	} {
		cpuIdle = c.idle
		got, raise := r.Next(engine.Status{Desired: c.desired, Ready: c.ready, Updating: c.updating}, c.target)
		if got != c.want || raise != c.raise {
			t.Errorf("%s: Next = %d, %v; want %d, %v", c.name, got, raise, c.want, c.raise)
		}
	}
	var none *Ramp
	if got := none.First(2, 100); got != 100 {
		t.Errorf("no ramp: First = %d, want every replica at once", got)
	}
}

func TestProcStatIdle(t *testing.T) {
	if _, _, ok := readProcStat(); !ok {
		t.Skip("no /proc/stat here")
	}
	idle := procStatIdle()
	if _, known := idle(); known {
		t.Error("the first sample has nothing to compare with, and still gave an idle share")
	}
	time.Sleep(100 * time.Millisecond) // a few clock ticks
	if share, known := idle(); !known || share < 0 || share > 1 {
		t.Errorf("idle share %v, %v; want one in [0, 1]", share, known)
	}
}
