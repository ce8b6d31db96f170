package scaffold

import (
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rscale/rscale/pkg/haproxy"
)

func TestValidateRefusesBadOptions(t *testing.T) {
	tests := []struct {
		name   string
		change func(*Options)
		want   string // part of the message that tells the user what to do
	}{
		{"zero replicas", func(o *Options) { o.Replicas = 0 }, "at least 1 replica"},
		{"negative replicas", func(o *Options) { o.Replicas = -3 }, "at least 1 replica"},
		{"replicas over max", func(o *Options) { o.Replicas = 200 }, "raise --max-replicas"},
		{"port zero", func(o *Options) { o.Port = 0 }, "from 1 to 65535"},
		{"port too high", func(o *Options) { o.Port = 70000 }, "from 1 to 65535"},
		{"proxy port too high", func(o *Options) { o.ProxyPort = 65536 }, "--proxy-port"},
		{"unknown proxy", func(o *Options) { o.Proxy = "nginx" }, "choose haproxy or traefik"},
		{"queue image without traefik", func(o *Options) { o.QueueImage = "haproxy:3" }, "--proxy-image"},
		{"request timeout under a second", func(o *Options) { o.RequestTimeout = 500 * time.Millisecond }, "--request-timeout 500ms: give a whole number of seconds"},
		{"queue timeout in fractions", func(o *Options) { o.QueueTimeout = 1500 * time.Millisecond }, "--queue-timeout"},
		{"service named like the queue", func(o *Options) { o.Service = "queue" }, "choose another"},
		{"bad service", func(o *Options) { o.Service = "Model Server" }, "--service"},
		{"service named like the proxy", func(o *Options) { o.Service = "proxy" }, "choose another"},
		{"bad stack name", func(o *Options) { o.StackName = "My Stack" }, "--name"},
		{"health path without slash", func(o *Options) { o.HealthPath = "healthz" }, "starting with /"},
		{"stack file in a folder", func(o *Options) { o.StackFile = "deploy/rscale.yml" }, "--file"},
		{"cpus not a number", func(o *Options) { o.CPUs = "two" }, "--cpus"},
		{"memory not an amount", func(o *Options) { o.Memory = "lots" }, "--memory"},
		{"a proxy the target does not take", func(o *Options) {
			o.Target, o.Proxies, o.Proxy = "kubernetes", []string{ProxyHAProxy}, ProxyTraefik
		}, "--target kubernetes runs HAProxy in front of R: use --proxy haproxy"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := DefaultOptions()
			tt.change(&o)
			err := o.Validate()
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Validate() = %v, want an error containing %q", err, tt.want)
			}
		})
	}
	if err := DefaultOptions().Validate(); err != nil {
		t.Errorf("the defaults do not validate: %v", err)
	}
}

// init writes haproxy.cfg for the target's network, and the target, as given, into the stack file.
func TestRenderForTheTargetsNetwork(t *testing.T) {
	p := loadProject(t, filepath.Join("..", "..", "testdata", "projects", "echo"))
	o := DefaultOptions()
	o.Target, o.Proxies, o.HAProxy = "kubernetes", []string{ProxyHAProxy}, haproxy.Kubernetes
	files, err := Render(p, o, "test")
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, f := range files {
		got[f.Path] = string(f.Data)
	}
	if err := haproxy.Fits([]byte(got["haproxy.cfg"]), haproxy.Kubernetes); err != nil {
		t.Errorf("haproxy.cfg for Kubernetes: %v", err)
	}
	if !strings.Contains(got[o.StackFile], "\n  target: \"kubernetes\"\n") {
		t.Errorf("the stack file does not record the target:\n%s", got[o.StackFile])
	}
}
