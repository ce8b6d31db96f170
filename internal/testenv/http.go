package testenv

import (
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"
)

// Response is what an HTTP request was answered.
type Response struct {
	Status      int
	ContentType string
	Body        []byte
}

// Request sends one request, with a one-minute timeout.
func Request(method, url, contentType, body string) (Response, error) {
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		return Response{}, err
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	c := http.Client{Timeout: time.Minute}
	resp, err := c.Do(req)
	if err != nil {
		return Response{}, err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	return Response{resp.StatusCode, resp.Header.Get("Content-Type"), data}, err
}

// Served waits until the proxy answers path with 200: it learns of new replicas through
// Docker's DNS a moment after Swarm reports them healthy.
func Served(t testing.TB, p Project, path string) Response {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for {
		r, err := Request("GET", p.URL(path), "", "")
		if err == nil && r.Status == http.StatusOK {
			return r
		}
		if time.Now().After(deadline) {
			t.Fatalf("GET %s: %v %d %s", path, err, r.Status, r.Body)
		}
		time.Sleep(250 * time.Millisecond)
	}
}

// WaitProxyServers waits until HAProxy's statistics (published on this machine's port 8404
// with --dashboard) show n replicas up.
func WaitProxyServers(t testing.TB, n int) {
	t.Helper()
	WaitServersUp(t, n, &http.Client{Timeout: 10 * time.Second}, "http://127.0.0.1:8404/;csv")
}

// WaitServersUp waits until the HAProxy statistics CSV at url, asked as the dashboard's user,
// show n replicas up: the proxy finds replicas through Docker's DNS and checks them first.
func WaitServersUp(t testing.TB, n int, c *http.Client, url string) {
	t.Helper()
	dashboardPassword.Lock()
	password := dashboardPassword.value
	dashboardPassword.Unlock()
	deadline := time.Now().Add(time.Minute)
	up := -1
	for time.Now().Before(deadline) {
		if r, err := stats(c, url, password); err == nil && r.Status == 200 {
			up = 0
			for _, line := range strings.Split(string(r.Body), "\n") {
				fields := strings.Split(line, ",")
				if len(fields) > 17 && fields[0] == "model_server" && strings.HasPrefix(fields[1], "replica") && fields[17] == "UP" {
					up++
				}
			}
			if up == n {
				return
			}
		}
		time.Sleep(250 * time.Millisecond)
	}
	t.Fatalf("HAProxy shows %d replicas up, want %d", up, n)
}

// stats asks HAProxy's statistics page at url for its CSV, as the dashboard's user.
func stats(c *http.Client, url, password string) (Response, error) {
	req, err := http.NewRequest("GET", url, nil)
	if err != nil {
		return Response{}, err
	}
	req.SetBasicAuth("rscale", password)
	resp, err := c.Do(req)
	if err != nil {
		return Response{}, err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	return Response{resp.StatusCode, resp.Header.Get("Content-Type"), data}, err
}

// SyncWriter collects what several goroutines write, such as a process's output.
type SyncWriter struct {
	mu sync.Mutex
	b  []byte
}

func (w *SyncWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.b = append(w.b, p...)
	return len(p), nil
}

func (w *SyncWriter) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return string(w.b)
}
