package serve

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"
)

func fakeWorker(slot int) *worker {
	return &worker{slot: slot, exited: make(chan struct{}), state: stateStarting}
}

func TestDispatchGivesFreeWorkersThenQueuesOldestFirst(t *testing.T) {
	d := newDispatcher(10)
	a, b := fakeWorker(1), fakeWorker(2)
	d.release(a)
	d.release(b)
	ctx := context.Background()
	if w, err := d.acquire(ctx, time.Second); err != nil || w != a {
		t.Fatalf("first acquire: %v %v, want the longest idle worker", w, err)
	}
	if w, _ := d.acquire(ctx, time.Second); w != b || w.getState() != stateBusy {
		t.Fatalf("second acquire: %v", w)
	}
	// Both busy: three requests queue, and are served in arrival order as workers free up.
	got := make(chan int, 3)
	for i := 1; i <= 3; i++ {
		go func() {
			w, err := d.acquire(ctx, time.Second)
			if err != nil {
				t.Error(err)
				return
			}
			got <- i
			d.release(w)
		}()
		waitQueue(t, d, i)
	}
	d.release(a)
	for want := 1; want <= 3; want++ {
		if i := <-got; i != want {
			t.Errorf("request %d was served before request %d", i, want)
		}
	}
}

func waitQueue(t *testing.T, d *dispatcher, n int) {
	t.Helper()
	deadline := time.Now().Add(time.Second)
	for d.queueLength() != n {
		if time.Now().After(deadline) {
			t.Fatalf("queue length %d, want %d", d.queueLength(), n)
		}
		time.Sleep(time.Millisecond)
	}
}

func TestDispatchQueueFullAndTimeout(t *testing.T) {
	d := newDispatcher(1)
	ctx := context.Background()
	if _, err := d.acquire(ctx, 20*time.Millisecond); !errors.Is(err, errQueueTimeout) {
		t.Errorf("no worker within the timeout: %v", err)
	}
	go d.acquire(ctx, time.Second)
	waitQueue(t, d, 1)
	if _, err := d.acquire(ctx, time.Second); !errors.Is(err, errQueueFull) {
		t.Errorf("a second waiter with room for one: %v", err)
	}
	if _, err := newDispatcher(0).acquire(ctx, time.Second); !errors.Is(err, errQueueFull) {
		t.Errorf("--max-queue 0 with every worker busy: %v", err)
	}
}

func TestDispatchCancelledWaiterTakesNoWorker(t *testing.T) {
	d := newDispatcher(10)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() {
		_, err := d.acquire(ctx, time.Minute)
		done <- err
	}()
	waitQueue(t, d, 1)
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v", err)
	}
	w := fakeWorker(1)
	d.release(w)
	if d.queueLength() != 0 || d.idleCount() != 1 || w.getState() != stateIdle {
		t.Errorf("after the client left: queue %d, idle %d, state %s; want the worker idle", d.queueLength(), d.idleCount(), w.getState())
	}
}

func TestDispatchDropsDeadWorkersAndTakesIdleOnes(t *testing.T) {
	d := newDispatcher(10)
	dead, alive := fakeWorker(1), fakeWorker(2)
	close(dead.exited)
	d.release(dead)
	d.release(alive)
	if d.idleCount() != 1 {
		t.Errorf("idle %d, want only the live worker", d.idleCount())
	}
	if !d.take(alive) || d.take(alive) {
		t.Error("take should remove an idle worker once")
	}
	if d.idleCount() != 0 {
		t.Errorf("idle %d after take", d.idleCount())
	}
}

func TestBackoffGrowsAndIsCapped(t *testing.T) {
	if backoff(1) != 250*time.Millisecond || backoff(2) != 500*time.Millisecond || backoff(20) != 30*time.Second {
		t.Errorf("backoff: %s %s %s", backoff(1), backoff(2), backoff(20))
	}
}

func TestValidateSaysWhatToChange(t *testing.T) {
	for _, c := range []struct {
		change func(*Options)
		want   string
	}{
		{func(o *Options) { o.Workers = 0 }, "at least 1 worker"},
		{func(o *Options) { o.Workers, o.MaxWorkers = 4, 2 }, "raise --max-workers"},
		{func(o *Options) { o.MinWorkers = o.Workers + 1 }, "more than --workers"},
		{func(o *Options) { o.Port = 70000 }, "0 picks a free one"},
		{func(o *Options) { o.MaxQueue = -1 }, "use 0 to answer 503"},
		{func(o *Options) { o.QueueTimeout = 0 }, "must be more than 0"},
		{func(o *Options) { o.HealthPath = "healthz" }, "must start with /"},
		{func(o *Options) { o.LogFormat = "xml" }, "choose text or json"},
		{func(o *Options) { o.MinWorkers, o.MaxWorkers = 0, 8 }, "keep at least 1 worker"},
	} {
		o := DefaultOptions()
		c.change(&o)
		if err := o.Validate(); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("err = %v, want %q", err, c.want)
		}
	}
	if err := DefaultOptions().Validate(); err != nil {
		t.Errorf("the defaults: %v", err)
	}
}
