package haproxy

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
	"strings"
	"sync"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/util/wait"

	"github.com/rscale/rscale/internal/golden"
	"github.com/rscale/rscale/internal/testtool"
)

func TestAPIFilterGolden(t *testing.T) {
	cfg, err := RenderAPIFilter(APIFilter{Version: "test", Socket: DockerSocket, Bind: fmt.Sprintf(":%d", APIFilterPort)})
	if err != nil {
		t.Fatal(err)
	}
	golden.Assert(t, filepath.Join("testdata", "docker-api.cfg"), cfg)
}

func TestAPIFilterRefusesWhatHAProxyWouldMisread(t *testing.T) {
	for _, f := range []APIFilter{
		{Socket: "var/run/docker.sock", Bind: ":2375"},
		{Socket: "/var/run/docker sock", Bind: ":2375"},
		{Socket: DockerSocket, Bind: ""},
		{Socket: DockerSocket, Bind: ":2375 # x"},
	} {
		if _, err := RenderAPIFilter(f); err == nil {
			t.Errorf("%+v: rendered, want an error", f)
		}
	}
}

// fakeEngine is a Docker Engine API on a unix socket that answers 200 to everything and
// records what reached it.
type fakeEngine struct {
	mu   sync.Mutex
	seen []string
}

func (e *fakeEngine) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	e.mu.Lock()
	e.seen = append(e.seen, r.Method+" "+r.RequestURI)
	e.mu.Unlock()
	w.Header().Set("Api-Version", "1.41")
	fmt.Fprint(w, "fake engine")
}

func (e *fakeEngine) reached(request string) bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	for _, s := range e.seen {
		if s == request {
			return true
		}
	}
	return false
}

// startFilter runs the real haproxy with the generated filter config in front of a fake
// engine, and returns the filter's address and the engine.
func startFilter(t *testing.T) (string, *fakeEngine) {
	t.Helper()
	haproxy := testtool.Need(t, "haproxy")
	dir := t.TempDir()
	socket := filepath.Join(dir, "docker.sock")
	l, err := net.Listen("unix", socket)
	if err != nil {
		t.Fatal(err)
	}
	engine := &fakeEngine{}
	srv := &http.Server{Handler: engine, ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = srv.Serve(l) }()
	t.Cleanup(func() { srv.Close() })

	addr := fmt.Sprintf("127.0.0.1:%d", freePort(t))
	cfg, err := RenderAPIFilter(APIFilter{Version: "test", Socket: socket, Bind: addr})
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "docker-api.cfg")
	if err := os.WriteFile(path, cfg, 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(haproxy, "-db", "-f", path)
	var log strings.Builder
	cmd.Stdout, cmd.Stderr = &log, &log
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		t.Logf("haproxy's log:\n%s", log.String())
	})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	err = wait.PollUntilContextCancel(ctx, 50*time.Millisecond, true, func(context.Context) (bool, error) {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			return false, nil
		}
		c.Close()
		return true, nil
	})
	if err != nil {
		t.Fatalf("haproxy never listened on %s", addr)
	}
	return addr, engine
}

func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// send writes one request as it is (no client cleans its path) and returns the status.
func send(t *testing.T, addr, method, target string) int {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(10 * time.Second))
	body := ""
	if method == "POST" {
		body = "{}"
	}
	fmt.Fprintf(c, "%s %s HTTP/1.1\r\nHost: docker\r\nContent-Type: application/json\r\nContent-Length: %d\r\nConnection: close\r\n\r\n%s",
		method, target, len(body), body)
	resp, err := http.ReadResponse(bufio.NewReader(c), &http.Request{Method: method})
	if err != nil {
		t.Fatalf("%s %s: %v", method, target, err)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode
}

// The filter passes on exactly the reads Traefik's Swarm provider makes, and no write or
// other read ever reaches the engine.
func TestAPIFilterPassesOnlyTraefiksReads(t *testing.T) {
	addr, engine := startFilter(t)
	for _, r := range []string{
		"HEAD /_ping",
		"GET /_ping",
		"GET /v1.41/version",
		"GET /v1.41/services",
		"GET /v1.41/tasks?filters=%7B%22desired-state%22%3A%7B%22running%22%3Atrue%7D%7D",
		"GET /v1.41/networks?filters=%7B%22scope%22%3A%7B%22swarm%22%3Atrue%7D%7D",
		"GET /v1.41/nodes/x2kq7vd0mvdk3ey5vt1bwqpd1",
		"GET /services",
	} {
		method, target, _ := strings.Cut(r, " ")
		if code := send(t, addr, method, target); code != http.StatusOK {
			t.Errorf("%s: %d, want 200 from the engine", r, code)
		}
		if !engine.reached(r) {
			t.Errorf("%s did not reach the engine", r)
		}
	}
	for _, r := range []string{
		"POST /v1.41/images/x/tag?repo=leaked&tag=1",
		"DELETE /v1.41/services/x",
		"GET /v1.41/containers/json",
		"POST /containers/create",
		"GET /secrets",
		"GET /v1.41/configs",
		"GET /v1.41/swarm",
		"GET /v1.41/info",
		"GET /v1.41/nodes",
		"GET /v1.41/services/x",
		"POST /v1.41/services/create",
		"POST /v1.41/services",
		"POST /v1.41/exec/x/start",
		"PUT /v1.41/services",
		"GET /v1.41/services/../containers/json",
		"GET /v1.41/services%2F..%2Fcontainers%2Fjson",
		"GET //v1.41/containers/json",
		"GET /V1.41/SERVICES",
	} {
		method, target, _ := strings.Cut(r, " ")
		if code := send(t, addr, method, target); code != http.StatusForbidden {
			t.Errorf("%s: %d, want 403", r, code)
		}
		if engine.reached(r) {
			t.Errorf("%s reached the engine", r)
		}
	}
	engine.mu.Lock()
	defer engine.mu.Unlock()
	if len(engine.seen) != 8 {
		t.Errorf("the engine saw %d requests, want the 8 passed on: %q", len(engine.seen), engine.seen)
	}
}
