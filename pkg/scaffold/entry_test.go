package scaffold

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/rscale/rscale/internal/testtool"
	"github.com/rscale/rscale/pkg/launcher"
)

// fakeR stands in for R under the entry script: it creates ALIVE_FILE as the launcher does,
// serves one request of $REQUEST seconds (BUSY_FILE exists meanwhile; "stuck" never removes
// it), then idles. It logs each step, and on SIGTERM logs "term" and exits 7.
const fakeR = `trap 'echo term >> "$LOG"; exit 7' TERM
echo ok > "$ALIVE_FILE"
touch "$BUSY_FILE"
echo busy >> "$LOG"
if [ "$REQUEST" != stuck ]; then
  sleep "$REQUEST"
  rm -f "$BUSY_FILE"
  echo free >> "$LOG"
fi
while :; do sleep 0.1; done
`

// entryRun is the entry script running the fake R in a folder of its own.
type entryRun struct {
	dir  string
	cmd  *exec.Cmd
	done chan error
}

// startEntry renders entry.sh with a drain of drain seconds and starts it on fakeR; env adds
// to the environment (REQUEST, REQUEST_TIMEOUT, PORT).
func startEntry(t *testing.T, drain int, env ...string) *entryRun {
	t.Helper()
	testtool.Need(t, "curl")
	dir := t.TempDir()
	out, err := render("entry.sh.tmpl", data{Options: DefaultOptions(), Version: "test", AlivePath: "/__rscale/alive", DrainSeconds: drain})
	if err != nil {
		t.Fatal(err)
	}
	for name, text := range map[string][]byte{"entry.sh": out, "r.sh": []byte(fakeR)} {
		if err := os.WriteFile(filepath.Join(dir, name), text, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	cmd := exec.Command("sh", filepath.Join(dir, "entry.sh"), "sh", filepath.Join(dir, "r.sh"))
	cmd.Env = append(os.Environ(), "LOG="+filepath.Join(dir, "log"), "ALIVE_FILE="+filepath.Join(dir, "alive"),
		"BUSY_FILE="+filepath.Join(dir, "busy"), "HEALTH_PATH=/healthz", "PORT="+strconv.Itoa(closedPort(t)))
	cmd.Env = append(cmd.Env, env...)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	r := &entryRun{dir: dir, cmd: cmd, done: make(chan error, 1)}
	go func() { r.done <- cmd.Wait() }()
	t.Cleanup(func() {
		cmd.Process.Kill()
		<-r.done
	})
	r.waitLog(t, "busy", 5*time.Second)
	return r
}

// closedPort is a port nothing listens on: R's health endpoint when R is busy.
func closedPort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

func (r *entryRun) log() []string {
	data, _ := os.ReadFile(filepath.Join(r.dir, "log"))
	return strings.Fields(string(data))
}

func (r *entryRun) waitLog(t *testing.T, event string, within time.Duration) {
	t.Helper()
	deadline := time.Now().Add(within)
	for !strings.Contains(strings.Join(r.log(), " "), event) {
		if time.Now().After(deadline) {
			t.Fatalf("the fake R did not log %q within %s: %v", event, within, r.log())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func (r *entryRun) aliveGone() bool {
	_, err := os.Stat(filepath.Join(r.dir, "alive"))
	return errors.Is(err, os.ErrNotExist)
}

// term sends the entry script SIGTERM, as the engine does.
func (r *entryRun) term(t *testing.T) {
	t.Helper()
	if err := r.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
}

// wait returns the entry script's exit code once it ends.
func (r *entryRun) wait(t *testing.T, within time.Duration) int {
	t.Helper()
	select {
	case err := <-r.done:
		r.done <- err // for the cleanup
		var exit *exec.ExitError
		if err != nil && !errors.As(err, &exit) {
			t.Fatal(err)
		}
		return r.cmd.ProcessState.ExitCode()
	case <-time.After(within):
		t.Fatalf("the entry script had not ended %s after SIGTERM; the fake R logged %v", within, r.log())
		return 0
	}
}

// stop is term, then wait: the exit code, and how long stopping took.
func (r *entryRun) stop(t *testing.T, within time.Duration) (int, time.Duration) {
	t.Helper()
	began := time.Now()
	r.term(t)
	code := r.wait(t, within)
	return code, time.Since(began)
}

func TestEntryDrainsThenStopsR(t *testing.T) {
	r := startEntry(t, 1, "REQUEST=3", "REQUEST_TIMEOUT=30")
	began := time.Now()
	r.term(t)
	// Out of the proxy's rotation at once, R still serving.
	deadline := time.Now().Add(time.Second)
	for !r.aliveGone() {
		if time.Now().After(deadline) {
			t.Fatal("ALIVE_FILE still there 1 s after SIGTERM: the proxy would keep sending requests")
		}
		time.Sleep(20 * time.Millisecond)
	}
	if got := r.log(); strings.Contains(strings.Join(got, " "), "term") {
		t.Fatalf("R got SIGTERM before it was drained: %v", got)
	}
	code := r.wait(t, 10*time.Second)
	took := time.Since(began)
	if got, want := strings.Join(r.log(), " "), "busy free term"; got != want {
		t.Errorf("the fake R logged %q; want %q: its request finished, then SIGTERM", got, want)
	}
	if code != 7 {
		t.Errorf("the entry script exited %d; want R's exit status, 7", code)
	}
	// The request ends 3 s after it started, then 1 s for the last answer to go out.
	if took < 3*time.Second || took > 6*time.Second {
		t.Errorf("stopping took %s; want the request's 3 s and about a second", took)
	}
}

func TestEntryStopsAStuckRequestAtTheTimeout(t *testing.T) {
	r := startEntry(t, 1, "REQUEST=stuck", "REQUEST_TIMEOUT=3")
	code, took := r.stop(t, 10*time.Second)
	if code != 7 || strings.Join(r.log(), " ") != "busy term" {
		t.Errorf("exit %d, fake R logged %v; want 7, busy term", code, r.log())
	}
	// BUSY_FILE is 3 s old 3 s after it was created, whatever the second it was made in.
	if took < 2*time.Second || took > 7*time.Second {
		t.Errorf("stopping a stuck request took %s; want about REQUEST_TIMEOUT (3 s)", took)
	}
}

// A request that failed leaves BUSY_FILE behind: R answering its health endpoint says it is free.
func TestEntryStaleBusyFileDoesNotHoldTheStop(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	defer srv.Close()
	port := srv.Listener.Addr().(*net.TCPAddr).Port
	r := startEntry(t, 1, "REQUEST=stuck", "REQUEST_TIMEOUT=30", "PORT="+strconv.Itoa(port))
	code, took := r.stop(t, 10*time.Second)
	if code != 7 || took > 5*time.Second {
		t.Errorf("exit %d after %s; want 7 once drained (about 2 s), not after REQUEST_TIMEOUT", code, took)
	}
}

func TestEntryPassesOnRExitStatus(t *testing.T) {
	dir := t.TempDir()
	out, err := render("entry.sh.tmpl", data{Options: DefaultOptions(), Version: "test", DrainSeconds: 4})
	if err != nil {
		t.Fatal(err)
	}
	script := filepath.Join(dir, "entry.sh")
	if err := os.WriteFile(script, out, 0o755); err != nil {
		t.Fatal(err)
	}
	err = exec.Command("sh", script, "sh", "-c", "exit 3").Run()
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.ExitCode() != 3 {
		t.Errorf("R exited 3 by itself; the entry script: %v, want exit status 3", err)
	}
}

// The generated entry script and launcher, under real R: a request in hand when the replica
// is told to stop is answered, the proxy's check fails at once, and R's note of the request
// goes once it is answered.
func TestEntryDrainsRealR(t *testing.T) {
	rscript := testtool.Need(t, "Rscript")
	testtool.Need(t, "curl")
	dir := initAPI(t, "#* @get /slow\nfunction() { Sys.sleep(3); 'done' }\n\n#* @get /fail\nfunction() stop('no')\n\n#* @get /x\nfunction() 1\n")
	port := freePort(t)
	busy := filepath.Join(dir, "busy")
	cmd := exec.Command("sh", filepath.Join(dir, ".rscale", "entry.sh"), rscript, "--vanilla", filepath.Join(dir, ".rscale", "launch.R"))
	cmd.Dir = dir
	out, err := os.Create(filepath.Join(dir, "output"))
	if err != nil {
		t.Fatal(err)
	}
	defer out.Close()
	cmd.Stdout, cmd.Stderr = out, out
	output := func() string {
		data, _ := os.ReadFile(out.Name())
		return string(data)
	}
	cmd.Env = append(os.Environ(), "PORT="+strconv.Itoa(port), "HOST=127.0.0.1", "HEALTH_PATH=/healthz",
		"BUSY_FILE="+busy, "ALIVE_FILE="+filepath.Join(dir, "alive"), "REQUEST_TIMEOUT=30")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-done
	})
	base := fmt.Sprintf("http://127.0.0.1:%d", port)
	deadline := time.Now().Add(30 * time.Second)
	for {
		if resp, err := http.Get(base + "/healthz"); err == nil {
			resp.Body.Close()
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("R did not answer within 30 s:\n%s", output())
		}
		time.Sleep(200 * time.Millisecond)
	}
	if code, _ := get(t, base+"/fail"); code != 500 {
		t.Errorf("/fail: %d, want 500", code)
	}
	if code, _ := get(t, base+"/x"); code != 200 {
		t.Errorf("/x: %d, want 200", code)
	}
	if _, err := os.Stat(busy); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("BUSY_FILE after an answered request: %v; want it gone", err)
	}

	slow := make(chan int, 1)
	go func() {
		resp, err := http.Get(base + "/slow")
		if err != nil {
			slow <- 0
			return
		}
		resp.Body.Close()
		slow <- resp.StatusCode
	}()
	time.Sleep(500 * time.Millisecond)
	began := time.Now()
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	time.Sleep(500 * time.Millisecond)
	if code, _ := get(t, base+launcher.AlivePath); code != 404 {
		t.Errorf("%s of a stopping replica: %d; want 404, which takes it out of HAProxy's rotation", launcher.AlivePath, code)
	}
	if code := <-slow; code != 200 {
		t.Errorf("the request in hand as the replica stopped: status %d, want 200", code)
	}
	select {
	case <-done:
		done <- nil
	case <-time.After(15 * time.Second):
		t.Fatalf("still running 15 s after SIGTERM:\n%s", output())
	}
	// The drain's 4 s and a second for the last answer; R then ends on SIGTERM.
	if took := time.Since(began); took < 4*time.Second || took > 8*time.Second {
		t.Errorf("stopping took %s; want about 5 s", took)
	}
	if code := cmd.ProcessState.ExitCode(); code != 143 {
		t.Errorf("exit %d; want R's, 143 (ended by SIGTERM)\n%s", code, output())
	}
}
