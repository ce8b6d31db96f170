package scaffold

import (
	"errors"
	"io/fs"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/rscale/rscale/internal/testtool"
)

// healthScript renders the generated health check into a folder and returns a runner for it,
// with its state file and READY_FIFO in that folder (ready tells its path); a Go server
// stands in for R.
func healthScript(t *testing.T, port int, pause string) (check func() (time.Duration, error), ready string) {
	t.Helper()
	testtool.Need(t, "curl")
	dir := t.TempDir()
	out, err := render("healthcheck.sh.tmpl", data{Options: DefaultOptions(), Version: "test"})
	if err != nil {
		t.Fatal(err)
	}
	script := filepath.Join(dir, "healthcheck.sh")
	if err := os.WriteFile(script, out, 0o755); err != nil {
		t.Fatal(err)
	}
	ready = filepath.Join(dir, "ready")
	return func() (time.Duration, error) {
		cmd := exec.Command("sh", script)
		cmd.Env = append(os.Environ(), "PORT="+strconv.Itoa(port), "HEALTH_PATH=/healthz", "READY_FIFO="+ready,
			"BUSY_FILE="+filepath.Join(dir, "busy"), "HEALTH_STATE="+filepath.Join(dir, "healthy"), "HEALTH_PAUSE="+pause)
		began := time.Now()
		err := cmd.Run()
		return time.Since(began), err
	}, ready
}

// holdOpen does what the launcher does once R serves: it holds the FIFO at path open, creating
// it if need be, until the test ends. It may run outside the test's goroutine, so it returns
// its error rather than stop the test.
func holdOpen(t *testing.T, path string) error {
	if err := syscall.Mkfifo(path, 0o644); err != nil && !errors.Is(err, fs.ErrExist) {
		return err
	}
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		return err
	}
	t.Cleanup(func() { f.Close() })
	return nil
}

// serveHealth answers /healthz with code on a listener.
func serveHealth(t *testing.T, l net.Listener, code *int) {
	t.Helper()
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(*code) })}
	go srv.Serve(l)
	t.Cleanup(func() { srv.Close() })
}

// A replica whose R does not serve yet: the check waits until the launcher holds READY_FIFO
// open, then passes, rather than fail and leave the replica unhealthy for another Docker
// interval.
func TestHealthCheckWaitsForRToServe(t *testing.T) {
	port := freePort(t)
	check, ready := healthScript(t, port, "0")
	code := http.StatusOK
	go func() {
		time.Sleep(time.Second)
		l, err := net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(port))
		if err != nil {
			t.Error(err)
			return
		}
		serveHealth(t, l, &code)
		if err := holdOpen(t, ready); err != nil {
			t.Error(err)
		}
	}()
	if took, err := check(); err != nil || took < time.Second {
		t.Errorf("check of a replica that serves after 1 s: %v after %s, want a pass once it serves", err, took)
	}
}

// A replica that passed waits HEALTH_PAUSE before its next check; one that failed is checked
// again at once, so a stuck R is not given the pause again.
func TestHealthCheckPausesOnlyAfterAPass(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	code := http.StatusOK
	serveHealth(t, l, &code)
	check, ready := healthScript(t, l.Addr().(*net.TCPAddr).Port, "2")
	if err := holdOpen(t, ready); err != nil {
		t.Fatal(err)
	}
	if took, err := check(); err != nil || took >= 2*time.Second {
		t.Fatalf("first check: %v after %s, want a pass without a pause", err, took)
	}
	if took, err := check(); err != nil || took < 2*time.Second {
		t.Errorf("check after a pass: %v after %s, want a pass after the 2 s pause", err, took)
	}
	code = http.StatusInternalServerError
	if _, err := check(); err == nil {
		t.Error("the health endpoint answers 500: the check passed")
	}
	if took, err := check(); err == nil || took >= 2*time.Second {
		t.Errorf("check after a failure: %v after %s, want a failure without a pause", err, took)
	}
	code = http.StatusOK
	if took, err := check(); err != nil || took >= 2*time.Second {
		t.Errorf("check after a failure, now answering: %v after %s, want a pass without a pause", err, took)
	}
}
