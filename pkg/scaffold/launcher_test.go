package scaffold

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/rscale/rscale/internal/testtool"
	"github.com/rscale/rscale/pkg/launcher"
	"github.com/rscale/rscale/pkg/plumber"
)

// freePort asks the kernel for a port nobody listens on.
func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// initAPI writes api as plumber.R in a new folder, and there what rscale init writes.
func initAPI(t *testing.T, api string) string {
	t.Helper()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "plumber.R"), []byte(api), 0o644); err != nil {
		t.Fatal(err)
	}
	files, err := Render(loadProject(t, dir), DefaultOptions(), "test")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Write(dir, files, WriteOptions{}); err != nil {
		t.Fatal(err)
	}
	return dir
}

// launch runs the generated launcher under real R in dir and waits until it answers.
func launch(t *testing.T, dir string, env ...string) string {
	t.Helper()
	base, _ := launchProcess(t, dir, env...)
	return base
}

// launchProcess is launch, and returns the R process too.
func launchProcess(t *testing.T, dir string, env ...string) (string, *os.Process) {
	t.Helper()
	rscript := testtool.Need(t, "Rscript")
	port := freePort(t)
	ctx, cancel := context.WithCancel(context.Background())
	cmd := exec.CommandContext(ctx, rscript, "--vanilla", filepath.Join(dir, ".rscale", "launch.R"))
	cmd.Dir = dir
	cmd.Env = append(append(os.Environ(), "PORT="+strconv.Itoa(port), "HOST=127.0.0.1"), env...)
	var log strings.Builder
	cmd.Stdout, cmd.Stderr = &log, &log
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cancel()
		_ = cmd.Wait()
	})
	base := fmt.Sprintf("http://127.0.0.1:%d", port)
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		if resp, err := http.Get(base + "/healthz"); err == nil {
			resp.Body.Close()
			return base, cmd.Process
		}
		time.Sleep(200 * time.Millisecond)
	}
	t.Fatalf("the launcher did not answer within 30s; its output:\n%s", log.String())
	return "", nil
}

func get(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body)
}

func TestLauncherServesTheAPIAndAHealthEndpoint(t *testing.T) {
	dir := writeCase(t, goldenCases[0]) // echo
	base := launch(t, dir)
	if code, body := get(t, base+"/healthz"); code != 200 || body != `{"status":"ok"}` {
		t.Errorf("/healthz: %d %s", code, body)
	}
	if code, body := get(t, base+"/echo?msg=hi"); code != 200 || !strings.Contains(body, "The message is: 'hi'") {
		t.Errorf("/echo: %d %s", code, body)
	}
	if code, body := get(t, base+"/plot"); code != 200 || !strings.HasPrefix(body, "\x89PNG") {
		t.Errorf("/plot: %d, %d bytes", code, len(body))
	}
}

func TestLauncherKeepsTheAPIsOwnHealthEndpoint(t *testing.T) {
	dir := t.TempDir()
	api := "#* @get /healthz\nfunction() list(mine = TRUE)\n"
	if err := os.WriteFile(filepath.Join(dir, "plumber.R"), []byte(api), 0o644); err != nil {
		t.Fatal(err)
	}
	p := loadProject(t, dir)
	files, err := Render(p, DefaultOptions(), "test")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Write(dir, files, WriteOptions{}); err != nil {
		t.Fatal(err)
	}
	base := launch(t, dir)
	if code, body := get(t, base+"/healthz"); code != 200 || body != `{"mine":[true]}` {
		t.Errorf("/healthz: %d %s, want the API's own answer", code, body)
	}
}

// The generated health check passes while R answers, and while R is busy with a request
// younger than REQUEST_TIMEOUT; it fails for a request older than that, and for a dead R.
func TestHealthCheckTellsBusyFromStuck(t *testing.T) {
	testtool.Need(t, "curl")
	dir := initAPI(t, "#* @get /slow\nfunction() { Sys.sleep(8); 'done' }\n")
	busy, ready := filepath.Join(dir, "busy"), filepath.Join(dir, "ready")
	base := launch(t, dir, "BUSY_FILE="+busy, "READY_FIFO="+ready)
	check := func(requestTimeout string) error {
		cmd := exec.Command("sh", filepath.Join(dir, ".rscale", "healthcheck.sh"))
		cmd.Env = append(os.Environ(), "PORT="+base[strings.LastIndex(base, ":")+1:], "HEALTH_PATH=/healthz",
			"BUSY_FILE="+busy, "READY_FIFO="+ready, "REQUEST_TIMEOUT="+requestTimeout,
			"HEALTH_STATE="+filepath.Join(dir, "healthy"), "HEALTH_PAUSE=0")
		return cmd.Run()
	}
	if err := check("300"); err != nil {
		t.Errorf("idle R: the health check failed: %v", err)
	}
	go http.Get(base + "/slow")
	time.Sleep(500 * time.Millisecond)
	if err := check("300"); err != nil {
		t.Errorf("R busy with a request of 0.5 s, timeout 300 s: the health check failed: %v", err)
	}
	if err := check("1"); err == nil {
		t.Error("R busy with a request older than REQUEST_TIMEOUT: the health check passed")
	}
}

// The health check of a starting replica waits on opening READY_FIFO: the open blocks until
// R serves, returns at once while R lives, and blocks again once R is gone.
func TestLauncherHoldsReadyFIFOOpenWhileRServes(t *testing.T) {
	dir := initAPI(t, "#* @get /x\nfunction() 1\n")
	ready := filepath.Join(dir, "ready")
	if err := syscall.Mkfifo(ready, 0o644); err != nil {
		t.Fatal(err)
	}
	opened := func() chan error {
		done := make(chan error, 1)
		go func() { done <- exec.CommandContext(t.Context(), "sh", "-c", `: < "$0"`, ready).Run() }()
		return done
	}
	waiting := opened()
	select {
	case err := <-waiting:
		t.Fatalf("opening READY_FIFO before R started returned (%v), want it to wait", err)
	case <-time.After(500 * time.Millisecond):
	}
	_, r := launchProcess(t, dir, "READY_FIFO="+ready)
	if err := <-waiting; err != nil {
		t.Fatalf("opening READY_FIFO while R serves: %v", err)
	}
	if err := <-opened(); err != nil {
		t.Fatalf("opening READY_FIFO again while R serves: %v", err)
	}
	if err := r.Kill(); err != nil {
		t.Fatal(err)
	}
	_, _ = r.Wait()
	select {
	case err := <-opened():
		t.Errorf("opening READY_FIFO after R was killed returned (%v), want it to wait", err)
	case <-time.After(time.Second):
	}
}

// The proxy's check path is answered by httpuv's I/O thread: at once while R is busy with a
// long request, and not at all once R is gone.
func TestAlivePathAnswersWhileRIsBusy(t *testing.T) {
	dir := initAPI(t, "#* @get /slow\nfunction() { Sys.sleep(6); 'done' }\n")
	base, r := launchProcess(t, dir)
	client := http.Client{Timeout: 2 * time.Second}
	alive := func() (time.Duration, error) {
		began := time.Now()
		resp, err := client.Get(base + launcher.AlivePath)
		if err != nil {
			return 0, err
		}
		resp.Body.Close()
		if resp.StatusCode != 200 {
			return 0, fmt.Errorf("status %d", resp.StatusCode)
		}
		return time.Since(began), nil
	}
	if _, err := alive(); err != nil {
		t.Fatalf("idle R: %s: %v", launcher.AlivePath, err)
	}
	slow := make(chan error, 1)
	go func() {
		resp, err := http.Get(base + "/slow")
		if err == nil {
			resp.Body.Close()
		}
		slow <- err
	}()
	time.Sleep(time.Second)
	if _, err := client.Get(base + "/healthz"); err == nil {
		t.Fatal("R answered /healthz while busy: the test does not keep R busy")
	}
	if took, err := alive(); err != nil || took > 500*time.Millisecond {
		t.Errorf("R busy with a long request: %s took %s, %v; want an answer at once", launcher.AlivePath, took, err)
	}
	if err := <-slow; err != nil {
		t.Fatalf("the long request: %v", err)
	}
	if err := r.Kill(); err != nil {
		t.Fatal(err)
	}
	_, _ = r.Wait()
	if _, err := alive(); err == nil {
		t.Errorf("R is dead and %s still answers", launcher.AlivePath)
	}
}

// The endpoints rscale reads from the R files must be the ones plumber really serves, or the
// proxy's routing rule would miss some: ask plumber for its routes and compare.
func TestParsedEndpointsMatchWhatPlumberServes(t *testing.T) {
	rscript := testtool.Need(t, "Rscript")
	lister := `
api <- plumber::plumb(dir = ".")
walk <- function(router, prefix = "") {
  for (group in router$endpoints) for (e in group) for (v in e$verbs) cat(v, paste0(prefix, e$path), "\n")
  for (m in names(router$mounts)) walk(router$mounts[[m]], paste0(prefix, sub("/$", "", m)))
}
walk(api)
`
	for _, project := range []string{"echo", "randomforest", "mounted", "renv", "description"} {
		t.Run(project, func(t *testing.T) {
			dir := filepath.Join("..", "..", "testdata", "projects", project)
			cmd := exec.Command(rscript, "--vanilla", "-e", lister)
			cmd.Dir = dir
			out, err := cmd.CombinedOutput()
			if err != nil {
				t.Fatalf("plumber could not load the API: %v\n%s", err, out)
			}
			var served []string
			sc := bufio.NewScanner(strings.NewReader(string(out)))
			for sc.Scan() {
				if f := strings.Fields(sc.Text()); len(f) == 2 && strings.HasPrefix(f[1], "/") {
					served = append(served, f[0]+" "+f[1])
				}
			}
			api, err := plumber.Load(dir)
			if err != nil {
				t.Fatal(err)
			}
			var parsed []string
			for _, e := range api.Endpoints {
				parsed = append(parsed, e.Method+" "+e.Path)
			}
			sort.Strings(served)
			sort.Strings(parsed)
			if strings.Join(served, "\n") != strings.Join(parsed, "\n") {
				t.Errorf("plumber serves:\n%s\nrscale read:\n%s", strings.Join(served, "\n"), strings.Join(parsed, "\n"))
			}
		})
	}
}
