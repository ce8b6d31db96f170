package e2e

// End-to-end through Traefik (rscale init --proxy traefik), wherever a Traefik image is on the
// engine: no registry can be reached here, so CI has none and TestE2ETraefik skips there.
// TestE2ETraefikDockerAPIFilter needs no Traefik image.

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/filters"
	"github.com/docker/docker/api/types/image"
	"github.com/docker/docker/client"

	"github.com/rscale/rscale/internal/testenv"
	"github.com/rscale/rscale/pkg/haproxy"
	"github.com/rscale/rscale/pkg/scaffold"
)

// traefikImage is the image named like the stack's Traefik, or RSCALE_TEST_TRAEFIK_IMAGE.
func traefikImage(t *testing.T) string {
	t.Helper()
	c := testenv.NeedEngine(t)
	image := os.Getenv("RSCALE_TEST_TRAEFIK_IMAGE")
	if image == "" {
		image = scaffold.DefaultTraefikImage
	}
	if _, _, err := c.ImageInspectWithRaw(context.Background(), image); err != nil {
		t.Skipf("no Traefik image %s on this engine (no registry to pull it from)", image)
	}
	return image
}

func TestE2ETraefik(t *testing.T) {
	image := traefikImage(t)
	c := testenv.NeedEngine(t)
	p := testenv.SetupProject(t, "sleep", "rscale-e2e-traefik", true, "--replicas", "2", "--proxy", "traefik",
		"--proxy-image", image, "--queue-image", testenv.HAProxyImage, "--dashboard")

	t.Run("long requests", func(t *testing.T) {
		longRequestScenario(t, c, p, 30*time.Second)
	})

	t.Run("dashboard", func(t *testing.T) {
		password, err := os.ReadFile(filepath.Join(p.Dir, ".rscale", "secrets", "dashboard-password"))
		if err != nil {
			t.Fatal(err)
		}
		ask := func(withPassword bool) int {
			req, _ := http.NewRequest("GET", "http://127.0.0.1:8080/api/rawdata", nil)
			if withPassword {
				req.SetBasicAuth("rscale", strings.TrimSpace(string(password)))
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			return resp.StatusCode
		}
		if code := ask(false); code != http.StatusUnauthorized {
			t.Errorf("Traefik's API without the password: %d, want 401", code)
		}
		if code := ask(true); code != http.StatusOK {
			t.Errorf("Traefik's API with the password: %d, want 200", code)
		}
	})

	// A rolling update of the API, then one of the queue (a changed haproxy.cfg), under load:
	// no request may fail.
	t.Run("rolling updates under load", func(t *testing.T) {
		stop := loadUntil(t, p.URL("/fast"), 20)
		p.Edit(t, "plumber.R", "Answer at once", "Answer at once, new version")
		testenv.MustRscale(t, "deploy", p.Dir)
		p.Edit(t, "haproxy.cfg", "timeout queue 120s", "timeout queue 110s")
		testenv.MustRscale(t, "deploy", p.Dir)
		time.Sleep(5 * time.Second) // Traefik sees the new queue within its 2 s poll
		sent, failed := stop()
		t.Logf("rolling updates of the API and of the queue under load: %d requests, %d failed", sent, len(failed))
		if len(failed) > 0 || sent == 0 {
			t.Errorf("%d of %d requests failed during the updates: %v", len(failed), sent, failed)
		}
	})
}

// loadUntil sends GET url perSecond times a second until the returned function is called,
// which reports how many were sent and the failures.
func loadUntil(t *testing.T, url string, perSecond int) func() (int64, []string) {
	t.Helper()
	var (
		sent   atomic.Int64
		mu     sync.Mutex
		failed []string
		wg     sync.WaitGroup
		done   = make(chan struct{})
	)
	began := time.Now()
	go func() {
		tick := time.NewTicker(time.Second / time.Duration(perSecond))
		defer tick.Stop()
		for {
			select {
			case <-done:
				return
			case <-tick.C:
			}
			wg.Add(1)
			sent.Add(1)
			go func() {
				defer wg.Done()
				r, err := testenv.Request("GET", url, "", "")
				if err != nil || r.Status != 200 {
					mu.Lock()
					failed = append(failed, fmt.Sprintf("at %.1fs: %v %d %s", time.Since(began).Seconds(), err, r.Status, r.Body))
					mu.Unlock()
				}
			}()
		}
	}()
	return func() (int64, []string) {
		close(done)
		wg.Wait()
		return sent.Load(), failed
	}
}

// With --proxy traefik, what Traefik runs in cannot write to the Docker API: it has no
// socket, and the filter it reaches lets only reads through. CI has no Traefik image, so the
// proxy service runs the R test image (which has curl) asleep, and the test speaks for it.
func TestE2ETraefikDockerAPIFilter(t *testing.T) {
	c := testenv.NeedEngine(t)
	p := testenv.NewProject(t, "echo", "rscale-e2e-apifilter", "--proxy", "traefik",
		"--proxy-image", testenv.RImage, "--queue-image", testenv.HAProxyImage)
	p.Edit(t, "rscale.yml", "  proxy:\n    image: \""+testenv.RImage+"\"\n",
		"  proxy:\n    image: \""+testenv.RImage+"\"\n    entrypoint: [\"sh\", \"-c\", \"trap exit TERM; sleep infinity & wait\"]\n")
	testenv.MustRscale(t, "deploy", p.Dir)

	leak := "rscale-e2e-apifilter-leak:1"
	t.Cleanup(func() { _, _ = c.ImageRemove(context.Background(), leak, image.RemoveOptions{}) })
	proxy := serviceContainer(t, c, p.Stack+"_"+scaffold.ProxyService)
	curl := func(ctr string, args ...string) (string, error) {
		out, err := exec.Command("docker", append([]string{"exec", ctr, "curl", "-sS", "--max-time", "10"}, args...)...).CombinedOutput()
		return string(out), err
	}
	api := "http://" + scaffold.APIFilterService + ":2375"

	if out, err := curl(proxy, "-w", "\n%{http_code}", api+"/v1.41/services"); err != nil || !strings.HasSuffix(out, "\n200") ||
		!strings.Contains(out, p.Stack+"_"+scaffold.QueueService) {
		t.Errorf("GET /v1.41/services through the filter: %v\n%s\nwant 200 and the stack's services", err, out)
	}
	for _, read := range []string{"/_ping", "/v1.41/version", "/v1.41/tasks", "/v1.41/networks"} {
		if out, err := curl(proxy, "-o", "/dev/null", "-w", "%{http_code}", api+read); err != nil || out != "200" {
			t.Errorf("GET %s through the filter: %v %s, want 200", read, err, out)
		}
	}
	tag := api + "/v1.41/images/" + testenv.RImage + "/tag?repo=rscale-e2e-apifilter-leak&tag=1"
	if out, err := curl(proxy, "-o", "/dev/null", "-w", "%{http_code}", "-X", "POST", tag); err != nil || out != "403" {
		t.Errorf("POST /images/.../tag through the filter: %v %s, want 403", err, out)
	}
	if _, _, err := c.ImageInspectWithRaw(context.Background(), leak); err == nil {
		t.Errorf("the refused tag request tagged %s", leak)
	}
	for _, refused := range []string{"/v1.41/containers/json", "/v1.41/secrets", "/v1.41/info"} {
		if out, err := curl(proxy, "-o", "/dev/null", "-w", "%{http_code}", api+refused); err != nil || out != "403" {
			t.Errorf("GET %s through the filter: %v %s, want 403", refused, err, out)
		}
	}
	if out, err := exec.Command("docker", "exec", proxy, "test", "-e", haproxy.DockerSocket).CombinedOutput(); err == nil {
		t.Errorf("%s exists in Traefik's container %s", haproxy.DockerSocket, out)
	}
	// The API's replicas are not on the filter's network: they cannot even name it.
	replica := serviceContainer(t, c, p.Stack+"_model_server")
	if out, err := curl(replica, api+"/_ping"); err == nil {
		t.Errorf("an R replica reached the Docker API filter: %s", out)
	}
	checkFilterContainer(t, c, serviceContainer(t, c, p.Stack+"_"+scaffold.APIFilterService))
}

// checkFilterContainer asserts the filter runs as the stack file says, and logged its refusals.
func checkFilterContainer(t *testing.T, c *client.Client, id string) {
	t.Helper()
	info, err := c.ContainerInspect(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Contains(info.HostConfig.CapDrop, "ALL") || len(info.HostConfig.CapAdd) != 0 || !info.HostConfig.ReadonlyRootfs || info.Config.User != "0:0" {
		t.Errorf("the filter runs with cap_drop %v, cap_add %v, read-only %v, user %q: want no capability, read-only, root",
			info.HostConfig.CapDrop, info.HostConfig.CapAdd, info.HostConfig.ReadonlyRootfs, info.Config.User)
	}
	out, err := exec.Command("docker", "logs", id).CombinedOutput()
	if err != nil {
		t.Fatalf("docker logs of the filter: %v\n%s", err, out)
	}
	for _, line := range strings.Split(string(out), "\n") {
		if strings.Contains(line, `"POST /v1.41/images/`+testenv.RImage+`/tag`) {
			if !strings.Contains(line, " 403 ") || !strings.HasSuffix(line, "rscale: refused: Traefik may only read the Docker API") {
				t.Errorf("the filter's log line of the tag request does not say it refused it: %s", line)
			}
			return
		}
	}
	t.Errorf("the filter's log has no line of the tag request:\n%s", out)
}

// serviceContainer is the running container of the service's one task on this node.
func serviceContainer(t *testing.T, c *client.Client, service string) string {
	t.Helper()
	list, err := c.ContainerList(context.Background(), container.ListOptions{
		Filters: filters.NewArgs(filters.Arg("label", "com.docker.swarm.service.name="+service), filters.Arg("status", "running"))})
	if err != nil {
		t.Fatal(err)
	}
	if len(list) == 0 {
		t.Fatalf("no running container of %s", service)
	}
	return list[0].ID
}
