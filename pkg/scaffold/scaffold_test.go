package scaffold

import (
	"strings"
	"testing"
	"time"
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
