package scaffold

import (
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"
)

// healthScript renders the generated health check into a folder and returns a runner for it,
// with its state file in that folder; a Go server stands in for R.
func healthScript(t *testing.T, port int, pause string) func() (time.Duration, error) {
	t.Helper()
	need(t, "curl")
	dir := t.TempDir()
	out, err := render("healthcheck.sh.tmpl", data{Options: DefaultOptions(), Version: "test"})
	if err != nil {
		t.Fatal(err)
	}
	script := filepath.Join(dir, "healthcheck.sh")
	if err := os.WriteFile(script, out, 0o755); err != nil {
		t.Fatal(err)
	}
	return func() (time.Duration, error) {
		cmd := exec.Command("sh", script)
		cmd.Env = append(os.Environ(), "PORT="+strconv.Itoa(port), "HEALTH_PATH=/healthz",
			"BUSY_FILE="+filepath.Join(dir, "busy"), "HEALTH_STATE="+filepath.Join(dir, "healthy"), "HEALTH_PAUSE="+pause)
		began := time.Now()
		err := cmd.Run()
		return time.Since(began), err
	}
}

// serveHealth answers /healthz with code on a listener.
func serveHealth(t *testing.T, l net.Listener, code *int) {
	t.Helper()
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(*code) })}
	go srv.Serve(l)
	t.Cleanup(func() { srv.Close() })
}

// A replica that does not listen yet: the check waits until it does, then passes, rather than
// fail and leave the replica unhealthy for another Docker interval.
func TestHealthCheckWaitsForRToListen(t *testing.T) {
	port := freePort(t)
	check := healthScript(t, port, "0")
	code := http.StatusOK
	go func() {
		time.Sleep(time.Second)
		l, err := net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(port))
		if err != nil {
			t.Error(err)
			return
		}
		serveHealth(t, l, &code)
	}()
	if took, err := check(); err != nil || took < time.Second {
		t.Errorf("check of a replica that listens after 1 s: %v after %s, want a pass after it listens", err, took)
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
	check := healthScript(t, l.Addr().(*net.TCPAddr).Port, "2")
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
