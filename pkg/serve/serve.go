// Package serve runs a Plumber API as many R processes on one machine, behind a balancer
// built into rscale: each R process gets one request at a time, and the others wait in one
// queue, oldest first, for the next free process. No Docker is needed.
package serve

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/rscale/rscale/pkg/project"
)

// Options say what to serve and how.
type Options struct {
	Dir            string
	Workers        int // R processes; with MaxWorkers set, the number to start with
	MinWorkers     int // with MaxWorkers: never fewer
	MaxWorkers     int // 0: Workers stays fixed; else grow while requests wait, up to this
	Host           string
	Port           int
	MaxQueue       int           // requests that may wait for a worker; beyond, 503
	QueueTimeout   time.Duration // how long one may wait; beyond, 503
	RequestTimeout time.Duration // how long a worker may take; beyond, 504 and the worker is replaced
	StartTimeout   time.Duration // how long R may take to start the API
	Grace          time.Duration // on SIGTERM, how long in-flight and queued requests may take
	IdleTimeout    time.Duration // with MaxWorkers: a worker idle this long is stopped
	HealthPath     string
	HealthInterval time.Duration // between health checks of idle workers
	LogFormat      string        // text or json
	Rscript        string        // "" finds Rscript on PATH
	Version        string        // rscale's, for the launcher's header
	Log            io.Writer
}

// DefaultOptions are the defaults the README documents.
func DefaultOptions() Options {
	return Options{
		Dir:            ".",
		Workers:        runtime.NumCPU(),
		Host:           "127.0.0.1",
		Port:           8000,
		MaxQueue:       1000,
		QueueTimeout:   2 * time.Minute,
		RequestTimeout: 5 * time.Minute,
		StartTimeout:   time.Minute,
		Grace:          30 * time.Second,
		IdleTimeout:    time.Minute,
		HealthPath:     "/healthz",
		HealthInterval: 10 * time.Second,
		LogFormat:      "text",
		Log:            os.Stderr,
	}
}

// Validate checks the options and says how to fix a bad one.
func (o Options) Validate() error {
	switch {
	case o.Workers < 1:
		return fmt.Errorf("--workers %d: serve needs at least 1 worker", o.Workers)
	case o.MaxWorkers != 0 && o.MaxWorkers < max(o.Workers, o.MinWorkers):
		return fmt.Errorf("--max-workers %d is fewer than --workers or --min-workers: raise --max-workers, or lower the others", o.MaxWorkers)
	case o.MinWorkers < 0 || (o.MaxWorkers != 0 && o.MinWorkers < 1):
		return fmt.Errorf("--min-workers %d: with --max-workers, keep at least 1 worker", o.MinWorkers)
	case o.MinWorkers > o.Workers:
		return fmt.Errorf("--min-workers %d is more than --workers %d, the number serve starts with", o.MinWorkers, o.Workers)
	case o.Port < 0 || o.Port > 65535:
		return fmt.Errorf("--port %d is out of range: a port is a number from 1 to 65535 (0 picks a free one)", o.Port)
	case o.MaxQueue < 0:
		return fmt.Errorf("--max-queue %d: use 0 to answer 503 whenever every worker is busy", o.MaxQueue)
	case o.QueueTimeout <= 0 || o.RequestTimeout <= 0 || o.Grace < 0:
		return errors.New("--queue-timeout and --request-timeout must be more than 0, --grace 0 or more")
	case !strings.HasPrefix(o.HealthPath, "/"):
		return fmt.Errorf("--health-path %q must start with /", o.HealthPath)
	case o.LogFormat != "text" && o.LogFormat != "json":
		return fmt.Errorf("unknown --log-format %q: choose text or json", o.LogFormat)
	}
	return nil
}

// Server is a running serve: the balancer and its workers.
type Server struct {
	o        Options
	cfg      workerConfig
	dispatch *dispatcher
	log      *logger
	metrics  *metrics

	mu       sync.Mutex
	slots    map[int]*slot
	lastSlot int

	draining  atomic.Bool
	inFlight  atomic.Int64
	restarts  atomic.Int64
	everReady atomic.Bool
	fatal     chan error
	addr      net.Addr
}

// slot is one place for a worker; when its R process dies, the slot starts another.
type slot struct {
	id       int
	ctx      context.Context
	retire   context.CancelFunc // ends the slot: its worker stops and is not replaced
	done     chan struct{}
	restarts atomic.Int64
	current  atomic.Pointer[worker]
	recent   *recentLines
}

// Run serves until ctx ends (SIGINT or SIGTERM, in rscale), then stops taking requests,
// lets in-flight and queued ones finish for up to Grace, and stops every worker.
// ready, when not nil, is called with the server's address once the first worker serves.
func Run(ctx context.Context, o Options, ready func(addr string)) error {
	cfg, err := prepareWorkers(ctx, o)
	if err != nil {
		return err
	}
	launcher, cleanup, err := writeLauncher(o.Version)
	if err != nil {
		return err
	}
	defer cleanup()
	cfg.launcher = launcher
	ln, err := listen(o)
	if err != nil {
		return err
	}
	return newServer(o, cfg, ln.Addr()).serve(ctx, ln, ready)
}

// prepareWorkers checks, before anything starts, what every worker needs: valid options,
// Rscript, a Plumber API in o.Dir and the R packages it uses.
func prepareWorkers(ctx context.Context, o Options) (workerConfig, error) {
	if err := o.Validate(); err != nil {
		return workerConfig{}, err
	}
	rscript, err := findRscript(o.Rscript)
	if err != nil {
		return workerConfig{}, err
	}
	p, err := project.Load(o.Dir, "")
	if err != nil {
		return workerConfig{}, err
	}
	if err := checkPackages(ctx, rscript, p.Packages); err != nil {
		return workerConfig{}, err
	}
	dir, err := filepath.Abs(o.Dir)
	if err != nil {
		return workerConfig{}, err
	}
	return workerConfig{rscript: rscript, dir: dir, healthPath: o.HealthPath, transport: workerTransport()}, nil
}

func listen(o Options) (net.Listener, error) {
	ln, err := net.Listen("tcp", net.JoinHostPort(o.Host, strconv.Itoa(o.Port)))
	if err != nil {
		if errors.Is(err, errAddrInUse) {
			return nil, fmt.Errorf("port %d on %s is in use: stop what uses it, or pass another --port", o.Port, o.Host)
		}
		return nil, fmt.Errorf("listening on %s:%d: %w", o.Host, o.Port, err)
	}
	return ln, nil
}

func newServer(o Options, cfg workerConfig, addr net.Addr) *Server {
	s := &Server{
		o:        o,
		cfg:      cfg,
		dispatch: newDispatcher(o.MaxQueue),
		log:      newLogger(o.Log, o.LogFormat == "json"),
		slots:    map[int]*slot{},
		fatal:    make(chan error, 1),
		addr:     addr,
	}
	s.metrics = newMetrics(s)
	s.cfg.output = s.workerOutput
	return s
}

// serve starts the workers and the balancer on ln, and waits for ctx to end or for the
// server to fail.
func (s *Server) serve(ctx context.Context, ln net.Listener, ready func(string)) error {
	runCtx, stopAll := context.WithCancel(context.Background())
	defer stopAll()
	for i := 0; i < s.o.Workers; i++ {
		s.addSlot(runCtx)
	}
	srv := &http.Server{Handler: s, ReadHeaderTimeout: time.Minute, ErrorLog: discardLog}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	go s.checkHealth(runCtx)
	if s.o.MaxWorkers > 0 {
		go s.autoscale(runCtx)
	}
	go s.announce(runCtx, ready)

	var result error
	select {
	case <-ctx.Done():
		s.log.event("stopping: no new requests; waiting up to %s for %d in flight and %d queued", s.o.Grace, s.inFlight.Load(), s.dispatch.queueLength())
	case result = <-s.fatal:
	case result = <-served:
	}
	s.drain(srv)
	if result != nil && !errors.Is(result, http.ErrServerClosed) {
		return result
	}
	s.log.event("stopped")
	return nil
}

// drain stops taking requests, gives the ones in flight and queued up to Grace, then stops
// every worker.
func (s *Server) drain(srv *http.Server) {
	s.draining.Store(true)
	graceCtx, cancel := context.WithTimeout(context.Background(), s.o.Grace)
	if err := srv.Shutdown(graceCtx); err != nil {
		s.log.event("the grace period ended with requests unfinished: closing them")
		srv.Close()
	}
	cancel()
	s.stopWorkers()
}

// announce tells the user where the API is once a worker serves it.
func (s *Server) announce(ctx context.Context, ready func(string)) {
	for !s.everReady.Load() {
		select {
		case <-ctx.Done():
			return
		case <-time.After(20 * time.Millisecond):
		}
	}
	url := "http://" + s.addr.String()
	s.log.event("serving %s on %s with %d R worker(s); status at %s/__rscale/status", s.o.Dir, url, s.workerCount(), url)
	if ready != nil {
		ready(s.addr.String())
	}
}

func (s *Server) addSlot(parent context.Context) *slot {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.lastSlot++
	ctx, cancel := context.WithCancel(parent)
	sl := &slot{id: s.lastSlot, ctx: ctx, retire: cancel, done: make(chan struct{}), recent: newRecentLines(20)}
	s.slots[sl.id] = sl
	go s.supervise(sl)
	return sl
}

// workerOutput logs a line a worker printed, and keeps it to explain a failed start.
func (s *Server) workerOutput(slotID int, stream, line string) {
	s.log.output(slotID, stream, line)
	s.mu.Lock()
	sl := s.slots[slotID]
	s.mu.Unlock()
	if sl != nil {
		sl.recent.add(line)
	}
}

func (s *Server) workerCount() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.slots)
}

// supervise keeps a worker running in the slot: it starts R, waits until the API answers,
// hands the worker to the dispatcher, and starts another when it dies, backing off while
// it keeps dying.
func (s *Server) supervise(sl *slot) {
	defer close(sl.done)
	failures := 0
	for {
		lived := s.runWorker(sl)
		if sl.ctx.Err() != nil {
			return
		}
		if lived >= 30*time.Second {
			failures = 0
		}
		failures++
		sl.restarts.Add(1)
		s.restarts.Add(1)
		s.metrics.restarts.Inc()
		if !s.everReady.Load() && failures >= 3 {
			s.fail(fmt.Errorf("the API does not start: worker %d failed %d times. Its last lines:\n  %s", sl.id, failures, strings.Join(sl.recent.lines(), "\n  ")))
			return
		}
		delay := backoff(failures)
		s.log.event("worker %d stopped: starting another in %s", sl.id, delay)
		select {
		case <-sl.ctx.Done():
			return
		case <-time.After(delay):
		}
	}
}

// runWorker runs one R process in the slot until it ends or the slot retires, and says how
// long it served.
func (s *Server) runWorker(sl *slot) time.Duration {
	w, err := startWorker(sl.id, s.cfg)
	if err != nil {
		s.log.event("worker %d: %v", sl.id, err)
		return 0
	}
	sl.current.Store(w)
	if err := w.waitReady(sl.ctx, s.o.HealthPath, s.o.StartTimeout); err != nil {
		if sl.ctx.Err() == nil {
			s.log.event("worker %d (pid %d) did not become ready: %v", sl.id, w.pid(), err)
		}
		w.kill()
		<-w.exited
		return 0
	}
	s.everReady.Store(true)
	s.log.event("worker %d ready (pid %d, %s)", sl.id, w.pid(), w.addr)
	readyAt := time.Now()
	s.dispatch.release(w)
	select {
	case <-w.exited:
		s.dispatch.take(w)
		s.log.event("worker %d (pid %d) exited: %v", sl.id, w.pid(), w.cmd.ProcessState)
	case <-sl.ctx.Done():
		s.dispatch.take(w)
		w.stop(5 * time.Second)
	}
	return time.Since(readyAt)
}

func (s *Server) fail(err error) {
	select {
	case s.fatal <- err:
	default:
	}
}

func backoff(failures int) time.Duration {
	d := 250 * time.Millisecond
	for i := 1; i < failures && d < 30*time.Second; i++ {
		d *= 2
	}
	return min(d, 30*time.Second)
}

// stopWorkers retires every slot and waits for its worker to end.
func (s *Server) stopWorkers() {
	s.mu.Lock()
	slots := make([]*slot, 0, len(s.slots))
	for _, sl := range s.slots {
		slots = append(slots, sl)
	}
	s.mu.Unlock()
	for _, sl := range slots {
		sl.retire()
	}
	for _, sl := range slots {
		<-sl.done
	}
}

// checkHealth asks each idle worker's health endpoint now and then; one that does not
// answer is killed, and its slot starts another.
func (s *Server) checkHealth(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			return
		case <-time.After(s.o.HealthInterval):
		}
		for _, sl := range s.sortedSlots() {
			w := sl.current.Load()
			if w == nil || !s.dispatch.take(w) {
				continue // starting, or busy: a busy worker is bounded by the request timeout
			}
			w.setState(stateChecking)
			if err := w.probe(ctx, s.o.HealthPath, 5*time.Second); err != nil {
				s.log.event("worker %d (pid %d) failed its health check (%v): replacing it", w.slot, w.pid(), err)
				w.kill()
				continue
			}
			s.dispatch.release(w)
		}
	}
}

func (s *Server) sortedSlots() []*slot {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]*slot, 0, len(s.slots))
	for _, sl := range s.slots {
		out = append(out, sl)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].id < out[j].id })
	return out
}

// settle decides what becomes of a worker after a request that did not end cleanly.
func (s *Server) settle(w *worker, o outcome) {
	switch o {
	case served:
		s.dispatch.release(w)
	case timedOut:
		s.log.event("worker %d (pid %d) took longer than --request-timeout %s: replacing it", w.slot, w.pid(), s.o.RequestTimeout)
		w.kill()
	case aborted, workerLost:
		if w.dead() {
			return
		}
		// R may still be working on the abandoned request; its health endpoint answers
		// once it is done, and only then may it take another.
		w.setState(stateChecking)
		go func() {
			if err := w.probe(context.Background(), s.o.HealthPath, s.o.RequestTimeout); err != nil {
				s.log.event("worker %d (pid %d) does not answer after an aborted request (%v): replacing it", w.slot, w.pid(), err)
				w.kill()
				return
			}
			s.dispatch.release(w)
		}()
	}
}

// ServeHTTP queues the request for the next free worker and forwards it.
func (s *Server) ServeHTTP(rw http.ResponseWriter, r *http.Request) {
	if strings.HasPrefix(r.URL.Path, "/__rscale/") {
		s.internal(rw, r)
		return
	}
	start := time.Now()
	rec := &recorder{ResponseWriter: rw}
	workerID := 0
	var wait time.Duration
	defer func() {
		took := time.Since(start)
		s.metrics.observe(rec.code(), took)
		s.log.access(r.Method, r.URL.Path, rec.code(), workerID, wait, took)
	}()

	w, err := s.dispatch.acquire(r.Context(), s.o.QueueTimeout)
	wait = time.Since(start)
	s.metrics.queueWait.Observe(wait.Seconds())
	switch {
	case errors.Is(err, errQueueFull):
		busy(rec, time.Second, fmt.Sprintf("the API is busy: every R worker is serving a request and %d more are waiting; try again shortly\n", s.o.MaxQueue))
		return
	case errors.Is(err, errQueueTimeout):
		busy(rec, time.Second, fmt.Sprintf("the API is busy: no R worker was free within %s; try again shortly\n", s.o.QueueTimeout))
		return
	case err != nil:
		rec.status = statusClientClosed // the client left while waiting
		return
	}
	workerID = w.slot
	s.inFlight.Add(1)
	result := forward(w, rec, r, s.o.RequestTimeout)
	s.inFlight.Add(-1)
	s.settle(w, result)
	if rec.aborted {
		panic(http.ErrAbortHandler)
	}
}

// autoscale adds a worker while requests wait and none is starting, and stops workers idle
// for IdleTimeout, within MinWorkers and MaxWorkers.
func (s *Server) autoscale(ctx context.Context) {
	floor := max(1, s.o.MinWorkers)
	for {
		select {
		case <-ctx.Done():
			return
		case <-time.After(200 * time.Millisecond):
		}
		slots := s.sortedSlots()
		starting := 0
		for _, sl := range slots {
			if w := sl.current.Load(); w == nil || w.getState() == stateStarting {
				starting++
			}
		}
		if s.dispatch.queueLength() > 0 && starting == 0 && len(slots) < s.o.MaxWorkers && !s.draining.Load() {
			sl := s.addSlot(ctx)
			s.log.event("requests are waiting: adding worker %d (%d of at most %d)", sl.id, len(slots)+1, s.o.MaxWorkers)
			continue
		}
		if len(slots) <= floor {
			continue
		}
		// The newest idle-too-long worker goes first, so the oldest ones, warm, stay.
		for i := len(slots) - 1; i >= 0 && len(slots) > floor; i-- {
			w := slots[i].current.Load()
			if w == nil || w.getState() != stateIdle || w.idleFor() < s.o.IdleTimeout || !s.dispatch.take(w) {
				continue
			}
			s.mu.Lock()
			delete(s.slots, slots[i].id)
			s.mu.Unlock()
			slots[i].retire()
			s.log.event("worker %d idle for %s: stopping it (%d left)", slots[i].id, s.o.IdleTimeout, len(slots)-1)
			slots = append(slots[:i], slots[i+1:]...)
		}
	}
}
