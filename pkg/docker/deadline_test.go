package docker

import (
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/client"
	"github.com/rscale/rscale/internal/testtool"
)

const testWait = 200 * time.Millisecond

// engineOn serves handler on a unix socket as a Docker engine that answers the Ping, and
// returns the endpoint for it.
func engineOn(t *testing.T, handler http.HandlerFunc) Endpoint {
	t.Helper()
	path := filepath.Join(t.TempDir(), "engine.sock")
	l, err := net.Listen("unix", path)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/_ping" {
			w.Header().Set("Api-Version", "1.47")
			return
		}
		handler(w, r)
	}))
	srv.Listener = l
	srv.Start()
	t.Cleanup(srv.Close)
	host := "unix://" + path
	return Endpoint{Context: DefaultContext, Host: host, opts: []client.Opt{client.WithHost(host)}}
}

// within fails the test unless f returns within a few times the wait.
func within(t *testing.T, f func()) {
	t.Helper()
	start := time.Now()
	f()
	if took := time.Since(start); took > 10*testWait {
		t.Errorf("took %s, want about %s", took, testWait)
	}
}

// An engine that accepts the connection and never answers is named, with what to do, once
// the wait is over.
func TestConnectToHungEngine(t *testing.T) {
	sock := testtool.HungServer(t, "unix", filepath.Join(t.TempDir(), "hung.sock"))
	t.Setenv("DOCKER_CONTEXT", "")
	t.Setenv("DOCKER_HOST", "unix://"+sock)
	ep, err := ResolveEndpoint("")
	if err != nil {
		t.Fatal(err)
	}
	named := Endpoint{Context: "prod", Host: "unix://" + sock, Source: "--context", opts: []client.Opt{client.WithHost("unix://" + sock)}}
	for _, c := range []struct {
		ep   Endpoint
		want string
	}{
		{ep, "the Docker engine at unix://" + sock + " did not answer within 200ms: is dockerd running and healthy? (systemctl status docker)"},
		{named, `the Docker engine of docker context "prod" at unix://` + sock + " (chosen by --context) did not answer within 200ms"},
	} {
		within(t, func() {
			api, err := c.ep.WithTimeout(testWait).Connect(context.Background())
			if err == nil {
				api.Close()
			}
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("a hung engine: %v, want %q", err, c.want)
			}
		})
	}
}

// The caller's own end is not reported as the engine's fault.
func TestConnectCancelledIsNotLate(t *testing.T) {
	sock := testtool.HungServer(t, "unix", filepath.Join(t.TempDir(), "hung.sock"))
	ep := Endpoint{Context: DefaultContext, Host: "unix://" + sock, opts: []client.Opt{client.WithHost("unix://" + sock)}}
	ctx, cancel := context.WithTimeout(context.Background(), testWait/2)
	defer cancel()
	_, err := ep.WithTimeout(time.Minute).Connect(ctx)
	if err == nil || strings.Contains(err.Error(), "did not answer within") {
		t.Errorf("an interrupted connect: %v", err)
	}
}

// A request after the connection waits no longer than the deadline for its answer, and
// the engine that did not answer is named.
func TestRequestHasDeadline(t *testing.T) {
	ep := engineOn(t, func(_ http.ResponseWriter, r *http.Request) { <-r.Context().Done() })
	api, err := ep.WithTimeout(testWait).connect(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer api.Close()
	want := "the Docker engine at " + ep.Host + " did not answer within 200ms: is dockerd running and healthy?"
	within(t, func() {
		_, err := api.Info(context.Background())
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("a request the engine does not answer: %v, want %q", err, want)
		}
	})
	within(t, func() {
		_, err := api.ServiceLogs(context.Background(), "api", container.LogsOptions{Follow: true})
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("a stream the engine does not start: %v, want %q", err, want)
		}
	})
}

// A stream that has started (logs --follow, a build, a push) runs past the deadline.
func TestStreamOutlivesDeadline(t *testing.T) {
	ep := engineOn(t, func(w http.ResponseWriter, _ *http.Request) {
		io.WriteString(w, "one\n")
		w.(http.Flusher).Flush()
		time.Sleep(2 * testWait)
		io.WriteString(w, "two\n")
	})
	c, err := ep.WithTimeout(testWait).Connect(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	rc, err := c.ServiceLogs(context.Background(), "api", container.LogsOptions{Follow: true, ShowStdout: true})
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	got, err := io.ReadAll(rc)
	if err != nil || string(got) != "one\ntwo\n" {
		t.Errorf("the stream: %q, %v; want both lines", got, err)
	}
}

func TestTimeoutFromEnv(t *testing.T) {
	t.Setenv(TimeoutEnv, "")
	if d, err := Timeout(); d != DefaultTimeout || err != nil {
		t.Errorf("unset: %s, %v; want %s", d, err, DefaultTimeout)
	}
	t.Setenv(TimeoutEnv, "90s")
	if d, err := Timeout(); d != 90*time.Second || err != nil {
		t.Errorf("90s: %s, %v", d, err)
	}
	for _, bad := range []string{"10", "soon", "0s", "-1s"} {
		t.Setenv(TimeoutEnv, bad)
		if _, err := Timeout(); err == nil || !strings.Contains(err.Error(), "such as 30s") {
			t.Errorf("%s=%q: %v", TimeoutEnv, bad, err)
		}
	}
}
