package haproxy

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rscale/rscale/internal/golden"
	"github.com/rscale/rscale/internal/testtool"
)

// renderCase is one config rendered for one engine's network; its golden file is
// testdata/<name>.cfg.
type renderCase struct {
	name    string
	network Network
	change  func(*Config)
}

var renderCases = []renderCase{
	{name: "swarm", network: Swarm},
	{name: "swarm-stats", network: Swarm, change: func(c *Config) { c.StatsPort, c.StatsUsers = 8404, "users.cfg" }},
	{name: "swarm-behind-traefik", network: Swarm, change: func(c *Config) { c.BehindTraefik = true }},
	{name: "kubernetes", network: Kubernetes},
	{name: "kubernetes-stats", network: Kubernetes, change: func(c *Config) {
		c.Service, c.Port, c.MaxReplicas, c.StatsPort, c.StatsUsers = "users_api", 8001, 8, 8404, "users.cfg"
	}},
}

func (rc renderCase) config() Config {
	c := Config{
		Version: "test", Service: "model_server", Port: 8000, MaxReplicas: 100,
		RequestTimeout: 300 * time.Second, QueueTimeout: 120 * time.Second,
	}
	if rc.change != nil {
		rc.change(&c)
	}
	return c
}

func (rc renderCase) render(t *testing.T) []byte {
	t.Helper()
	cfg, err := Render(rc.config(), rc.network)
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

func TestGolden(t *testing.T) {
	for _, rc := range renderCases {
		t.Run(rc.name, func(t *testing.T) {
			golden.Assert(t, filepath.Join("testdata", rc.name+".cfg"), rc.render(t))
		})
	}
}

// The lines that differ between engines, as each engine's DNS and port need them.
func TestRenderPerNetwork(t *testing.T) {
	for _, c := range []struct {
		network Network
		want    []string
		absent  []string
	}{
		{Swarm, []string{"    nameserver dns 127.0.0.11:53\n", "    bind :80\n", "    server-template replica 100 tasks.model_server:8000\n"}, []string{"parse-resolv-conf"}},
		{Kubernetes, []string{"    parse-resolv-conf\n", "    bind :8080\n", `    server-template replica 100 "${RSCALE_BACKEND}:8000"` + "\n"}, []string{"nameserver"}},
	} {
		cfg := string(renderCase{network: c.network}.render(t))
		for _, w := range c.want {
			if !strings.Contains(cfg, w) {
				t.Errorf("%+v: no %q in\n%s", c.network, w, cfg)
			}
		}
		for _, a := range c.absent {
			if strings.Contains(cfg, a) {
				t.Errorf("%+v: %q in\n%s", c.network, a, cfg)
			}
		}
	}
}

func TestRenderRefuses(t *testing.T) {
	if _, err := Render(renderCase{}.config(), Network{}); err == nil || !strings.Contains(err.Error(), "registration is incomplete") {
		t.Errorf("empty network: got %v", err)
	}
	c := renderCase{}.config()
	c.QueueTimeout = 1500 * time.Millisecond
	if _, err := Render(c, Swarm); err == nil || !strings.Contains(err.Error(), "whole seconds") {
		t.Errorf("1.5s timeout: got %v", err)
	}
}

func TestFits(t *testing.T) {
	for _, rc := range renderCases {
		cfg := rc.render(t)
		for _, n := range []Network{Swarm, Kubernetes} {
			err := Fits(cfg, n)
			if n == rc.network && err != nil {
				t.Errorf("%s does not fit its own network: %v", rc.name, err)
			}
			if n != rc.network && err == nil {
				t.Errorf("%s fits %+v, which it was not rendered for", rc.name, n)
			}
		}
	}
	// A user's edits to what is not the network's keep the config fitting.
	edited := strings.Replace(string(renderCase{network: Kubernetes}.render(t)), "balance leastconn", "balance roundrobin", 1)
	if err := Fits([]byte(edited), Kubernetes); err != nil {
		t.Errorf("edited config: %v", err)
	}
}

func TestFitsSaysWhatDiffers(t *testing.T) {
	err := Fits(renderCase{network: Swarm}.render(t), Kubernetes)
	for _, want := range []string{
		"asks the DNS server 127.0.0.11:53, not the container's own (parse-resolv-conf)",
		"does not find the replicas at ${RSCALE_BACKEND}:<port>",
		"does not listen on port 8080 (bind :8080)",
	} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Swarm's config on Kubernetes: got %v, want %q", err, want)
		}
	}
	err = Fits([]byte("global\n    maxconn 10\n"), Swarm)
	if err == nil || !strings.Contains(err.Error(), "does not ask the DNS server 127.0.0.11:53") {
		t.Errorf("foreign config on Swarm: got %v", err)
	}
}

// HAProxy itself accepts every engine's config, with the environment each engine gives it.
func TestHAProxyAcceptsEveryRender(t *testing.T) {
	haproxy := testtool.Need(t, "haproxy")
	for _, rc := range renderCases {
		t.Run(rc.name, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, "haproxy.cfg")
			if err := os.WriteFile(path, rc.render(t), 0o644); err != nil {
				t.Fatal(err)
			}
			args := []string{"-c", "-f", path}
			if c := rc.config(); c.StatsPort != 0 {
				// The stats page's users come in a second file, as the stack file gives them.
				users := filepath.Join(dir, c.StatsUsers)
				if err := os.WriteFile(users, []byte("userlist dashboard\n    user rscale insecure-password secret\n"), 0o600); err != nil {
					t.Fatal(err)
				}
				args = append(args, "-f", users)
			}
			cmd := exec.Command(haproxy, args...)
			cmd.Env = append(os.Environ(), "RSCALE_BACKEND=model-server.default.svc.cluster.local")
			if out, err := cmd.CombinedOutput(); err != nil {
				t.Errorf("haproxy -c refused the config: %v\n%s", err, out)
			}
		})
	}
}

// No request R may have begun is sent twice, whatever the engine (golden files are rewritten
// with -update, so the rule is stated here too): HAProxy retries only connections that
// failed, and gives each client connection one request, since on a kept-alive one it closes
// without an answer when R dies, which makes clients such as curl send the request again.
func TestNothingRBeganIsSentTwice(t *testing.T) {
	for _, rc := range renderCases {
		t.Run(rc.name, func(t *testing.T) {
			var retryOn []string
			httpclose := false
			for _, line := range strings.Split(string(rc.render(t)), "\n") {
				f := strings.Fields(line)
				switch {
				case len(f) > 0 && f[0] == "retry-on":
					retryOn = append(retryOn, strings.Join(f[1:], " "))
				case strings.Join(f, " ") == "option httpclose":
					httpclose = true
				}
			}
			if len(retryOn) != 1 || retryOn[0] != "conn-failure" {
				t.Errorf("retry-on lines %q; want one, conn-failure", retryOn)
			}
			if !httpclose {
				t.Error("no option httpclose: a request whose R died on a kept-alive connection is closed unanswered, and clients resend it")
			}
		})
	}
}
