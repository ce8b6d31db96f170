package e2e

import (
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/rscale/rscale/internal/testenv"
)

// rscale serve as a process: SIGTERM lets the requests in flight and queued finish, then
// rscale exits 0 and no R process is left.
func TestServeStopsCleanlyOnSIGTERM(t *testing.T) {
	if _, err := exec.LookPath("Rscript"); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("Rscript is needed: apt-get install r-base-core r-cran-plumber")
		}
		t.Skip("no Rscript")
	}
	bin := filepath.Join(t.TempDir(), "rscale")
	build := exec.Command("go", "build", "-o", bin, ".")
	build.Dir = testenv.Root(t) // the rscale command, at the repository's root
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	port := testenv.FreePort(t)
	serve := exec.Command(bin, "serve", testenv.Testdata(t, "projects", "sleep"), "--workers", "2", "--port", strconv.Itoa(port))
	var log testenv.SyncWriter
	serve.Stdout, serve.Stderr = &log, &log
	if err := serve.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- serve.Wait() }()
	t.Cleanup(func() {
		_ = serve.Process.Kill()
		if t.Failed() {
			t.Logf("rscale serve's output:\n%s", log.String())
		}
	})
	base := fmt.Sprintf("http://127.0.0.1:%d", port)

	type status struct {
		Workers []struct {
			PID   int
			State string
		}
		InFlight    int `json:"in_flight"`
		QueueLength int `json:"queue_length"`
	}
	waitServe := func(ok func(status) bool) status {
		t.Helper()
		deadline := time.Now().Add(time.Minute)
		for {
			var s status
			if resp, err := http.Get(base + "/__rscale/status"); err == nil {
				err = json.NewDecoder(resp.Body).Decode(&s)
				resp.Body.Close()
				if err == nil && ok(s) {
					return s
				}
			}
			if time.Now().After(deadline) {
				t.Fatalf("rscale serve never got there: %+v", s)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	s := waitServe(func(s status) bool {
		return len(s.Workers) == 2 && s.Workers[0].State == "idle" && s.Workers[1].State == "idle"
	})

	codes := make(chan int, 3)
	var wg sync.WaitGroup
	for i := 0; i < 3; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			resp, err := http.Get(base + "/sleep?seconds=1.5")
			if err != nil {
				codes <- 0
				return
			}
			resp.Body.Close()
			codes <- resp.StatusCode
		}()
	}
	waitServe(func(s status) bool { return s.InFlight == 2 && s.QueueLength == 1 })
	if err := serve.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	wg.Wait()
	close(codes)
	for code := range codes {
		if code != 200 {
			t.Errorf("a request in flight or queued at SIGTERM got %d, want 200", code)
		}
	}
	select {
	case err := <-exited:
		if err != nil {
			t.Errorf("rscale serve exited with %v after SIGTERM, want 0", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("rscale serve did not exit after SIGTERM")
	}
	for _, w := range s.Workers {
		if err := syscall.Kill(w.PID, 0); err != syscall.ESRCH {
			t.Errorf("R process %d survived rscale serve: %v", w.PID, err)
		}
	}
}
