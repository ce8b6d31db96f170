package serve

import (
	"container/list"
	"context"
	"errors"
	"sync"
	"time"
)

var (
	errQueueFull    = errors.New("the queue is full")
	errQueueTimeout = errors.New("no worker was free in time")
)

// dispatcher gives each worker one request at a time. Requests that find no free worker wait
// in one FIFO queue, and a worker that becomes free takes the oldest: a request never waits
// behind a slow one on a busy worker while another worker sits idle.
type dispatcher struct {
	mu       sync.Mutex
	idle     *list.List // of *worker, the longest idle first
	waiters  *list.List // of *waiter, the oldest first
	maxQueue int
}

type waiter struct {
	ch   chan *worker  // buffered: release never blocks
	elem *list.Element // nil once a worker was handed over
}

func newDispatcher(maxQueue int) *dispatcher {
	return &dispatcher{idle: list.New(), waiters: list.New(), maxQueue: maxQueue}
}

// acquire returns a free worker, waiting in the queue for at most timeout. A request whose
// context ends while it waits leaves the queue without taking a worker.
func (d *dispatcher) acquire(ctx context.Context, timeout time.Duration) (*worker, error) {
	d.mu.Lock()
	if front := d.idle.Front(); front != nil && d.waiters.Len() == 0 {
		w := d.idle.Remove(front).(*worker)
		w.setState(stateBusy)
		d.mu.Unlock()
		return w, nil
	}
	if d.waiters.Len() >= d.maxQueue {
		d.mu.Unlock()
		return nil, errQueueFull
	}
	wt := &waiter{ch: make(chan *worker, 1)}
	wt.elem = d.waiters.PushBack(wt)
	d.mu.Unlock()

	timer := time.NewTimer(timeout)
	defer timer.Stop()
	var err error
	select {
	case w := <-wt.ch:
		return w, nil
	case <-ctx.Done():
		err = ctx.Err()
	case <-timer.C:
		err = errQueueTimeout
	}
	d.mu.Lock()
	if wt.elem != nil {
		d.waiters.Remove(wt.elem)
		d.mu.Unlock()
		return nil, err
	}
	d.mu.Unlock()
	// A worker was handed over as the wait ended: pass it on.
	d.release(<-wt.ch)
	return nil, err
}

// release hands a worker that finished a request to the oldest waiting request, or makes it
// idle. A worker that died is dropped.
func (d *dispatcher) release(w *worker) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if w.dead() {
		return
	}
	if front := d.waiters.Front(); front != nil {
		wt := d.waiters.Remove(front).(*waiter)
		wt.elem = nil
		w.setState(stateBusy)
		wt.ch <- w
		return
	}
	w.setState(stateIdle)
	d.idle.PushBack(w)
}

// take removes w from the idle workers, for a health check or to stop it; false when w is
// not idle.
func (d *dispatcher) take(w *worker) bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	for e := d.idle.Front(); e != nil; e = e.Next() {
		if e.Value.(*worker) == w {
			d.idle.Remove(e)
			return true
		}
	}
	return false
}

func (d *dispatcher) queueLength() int {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.waiters.Len()
}

func (d *dispatcher) idleCount() int {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.idle.Len()
}
