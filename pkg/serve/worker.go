package serve

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

type workerState string

const (
	stateStarting workerState = "starting"
	stateIdle     workerState = "idle"
	stateBusy     workerState = "busy"
	stateChecking workerState = "checking" // being health-checked, or waited on after an aborted request
	stateStopping workerState = "stopping"
	stateExited   workerState = "exited"
)

// worker is one R process serving the API on a loopback port.
type worker struct {
	slot    int // stable across restarts: "worker 3"
	addr    string
	cmd     *exec.Cmd
	proxy   *httputil.ReverseProxy
	exited  chan struct{} // closed once the process has ended
	started time.Time
	served  atomic.Int64

	mu    sync.Mutex
	state workerState
	since time.Time // when state last changed
}

func (w *worker) setState(s workerState) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.state != stateExited && w.state != s {
		w.state, w.since = s, time.Now()
	}
}

// idleFor is how long the worker has been idle; 0 when it is not.
func (w *worker) idleFor() time.Duration {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.state != stateIdle {
		return 0
	}
	return time.Since(w.since)
}

func (w *worker) getState() workerState {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.state
}

func (w *worker) dead() bool {
	select {
	case <-w.exited:
		return true
	default:
		return false
	}
}

func (w *worker) pid() int {
	if w.cmd.Process == nil {
		return 0
	}
	return w.cmd.Process.Pid
}

// kill ends the worker and whatever it started, at once.
func (w *worker) kill() {
	signalGroup(w.cmd, syscall.SIGKILL)
}

// stop asks the worker to end, and kills it if it has not within grace.
func (w *worker) stop(grace time.Duration) {
	w.setState(stateStopping)
	signalGroup(w.cmd, syscall.SIGTERM)
	select {
	case <-w.exited:
	case <-time.After(grace):
		w.kill()
		<-w.exited
	}
}

// workerConfig is what every worker is started with.
type workerConfig struct {
	rscript    string
	launcher   string // path of the R launcher
	dir        string // the API's folder, absolute
	healthPath string
	transport  http.RoundTripper
	output     func(slot int, stream, line string)
}

// startWorker starts R on a free loopback port. The worker is not ready until its health
// endpoint answers: see waitReady.
func startWorker(slot int, c workerConfig) (*worker, error) {
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	cmd := exec.Command(c.rscript, "--vanilla", c.launcher)
	cmd.Dir = c.dir
	cmd.Env = append(os.Environ(), "PORT="+strconv.Itoa(port), "HOST=127.0.0.1", "HEALTH_PATH="+c.healthPath, "API_DIR="+c.dir)
	cmd.Stdout = &lineWriter{emit: func(line string) { c.output(slot, "stdout", line) }}
	cmd.Stderr = &lineWriter{emit: func(line string) { c.output(slot, "stderr", line) }}
	cmd.SysProcAttr = sysProcAttr()
	// A process R started could hold the output pipes open after R is gone.
	cmd.WaitDelay = 2 * time.Second
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("starting R: %w", err)
	}
	target := &url.URL{Scheme: "http", Host: addr}
	w := &worker{slot: slot, addr: addr, cmd: cmd, exited: make(chan struct{}), started: time.Now(), state: stateStarting}
	w.proxy = &httputil.ReverseProxy{
		// No X-Forwarded-* headers, as the HAProxy of rscale's stacks adds none: plumber turns
		// every header into an R variable, and each costs R time on every request.
		Rewrite: func(r *httputil.ProxyRequest) {
			r.SetURL(target)
			r.Out.Host = r.In.Host
		},
		Transport:    c.transport,
		ErrorHandler: recordProxyError,
		ErrorLog:     discardLog,
	}
	go func() {
		_ = cmd.Wait()
		w.mu.Lock()
		w.state = stateExited
		w.mu.Unlock()
		close(w.exited)
	}()
	return w, nil
}

// probe asks the worker's health endpoint once. R serves one request at a time, so an
// answer also says the worker has finished whatever it was doing.
func (w *worker) probe(ctx context.Context, healthPath string, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+w.addr+healthPath, nil)
	if err != nil {
		return err
	}
	resp, err := probeClient.Do(req)
	if err != nil {
		return err
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("%s answered %s", healthPath, resp.Status)
	}
	return nil
}

var probeClient = &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}

// waitReady polls the health endpoint until it answers, the process ends, or timeout passes.
func (w *worker) waitReady(ctx context.Context, healthPath string, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for {
		if err := w.probe(ctx, healthPath, time.Second); err == nil {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("its health endpoint %s did not answer within %s", healthPath, timeout)
		}
		select {
		case <-w.exited:
			return fmt.Errorf("R exited (%v) before the API was ready", w.cmd.ProcessState)
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("finding a free port for a worker: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// lineWriter calls emit for each complete line written to it.
type lineWriter struct {
	mu      sync.Mutex
	pending []byte
	emit    func(string)
}

func (l *lineWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.pending = append(l.pending, p...)
	for {
		i := bytes.IndexByte(l.pending, '\n')
		if i < 0 {
			break
		}
		l.emit(string(bytes.TrimRight(l.pending[:i], "\r")))
		l.pending = l.pending[i+1:]
	}
	return len(p), nil
}
