package e2e

// End-to-end through Traefik (rscale init --proxy traefik), wherever a Traefik image is on the
// engine: no registry can be reached here, so CI has none and these tests skip there.

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rscale/rscale/internal/testenv"
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
