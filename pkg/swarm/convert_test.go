package swarm

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/docker/docker/api/types/mount"
	"github.com/docker/docker/api/types/swarm"

	"github.com/rscale/rscale/pkg/stack"
)

func load(t *testing.T, file string) *Spec {
	t.Helper()
	p, err := stack.Load(context.Background(), file, "echo-api")
	if err != nil {
		t.Fatal(err)
	}
	spec, err := Convert(p, "echo-api")
	if err != nil {
		t.Fatal(err)
	}
	return spec
}

func service(t *testing.T, spec *Spec, name string) swarm.ServiceSpec {
	t.Helper()
	for _, s := range spec.Services {
		if s.Name == name {
			return s
		}
	}
	t.Fatalf("no service %s among %d", name, len(spec.Services))
	return swarm.ServiceSpec{}
}

func TestConvertTraefikStack(t *testing.T) {
	spec := load(t, filepath.Join("testdata", "traefik.yml"))
	if len(spec.Services) != 2 {
		t.Fatalf("%d services, want 2", len(spec.Services))
	}
	api := service(t, spec, "echo-api_model_server")
	if api.EndpointSpec.Mode != swarm.ResolutionModeDNSRR {
		t.Errorf("endpoint mode %s, want dnsrr", api.EndpointSpec.Mode)
	}
	if r := api.Mode.Replicated; r == nil || *r.Replicas != 2 {
		t.Errorf("mode %+v, want 2 replicas", api.Mode)
	}
	if u := api.UpdateConfig; u.Order != "start-first" || u.FailureAction != "rollback" || u.Parallelism != 1 || u.Monitor != 30*time.Second {
		t.Errorf("update config %+v", u)
	}
	if r := api.RollbackConfig; r == nil || r.Order != "start-first" {
		t.Errorf("rollback config %+v", r)
	}
	cs := api.TaskTemplate.ContainerSpec
	if hc := cs.Healthcheck; hc == nil || hc.Interval != 10*time.Second || hc.Timeout != 5*time.Second || hc.Retries != 6 || hc.StartPeriod != time.Minute ||
		!reflect.DeepEqual(hc.Test, []string{"CMD", "curl", "-fsS", "http://127.0.0.1:8000/healthz"}) {
		t.Errorf("healthcheck %+v", hc)
	}
	if lim := api.TaskTemplate.Resources.Limits; lim.NanoCPUs != 1e9 || lim.MemoryBytes != 512<<20 {
		t.Errorf("limits %+v", lim)
	}
	if !reflect.DeepEqual(cs.Env, []string{"PORT=8000"}) {
		t.Errorf("env %v", cs.Env)
	}
	for k, v := range map[string]string{
		"traefik.enable": "true",
		"traefik.http.routers.echo-api-model_server.rule":                      "Path(`/echo`) || Path(`/plot`) || Path(`/sum`)",
		"traefik.http.services.echo-api-model_server.loadbalancer.server.port": "8000",
		LabelNamespace: "echo-api",
		LabelImage:     "echo-api/model_server:latest",
	} {
		if api.Labels[k] != v {
			t.Errorf("service label %s = %q, want %q", k, api.Labels[k], v)
		}
	}
	if cs.Labels[LabelNamespace] != "echo-api" {
		t.Errorf("container labels %v lack the namespace", cs.Labels)
	}
	want := []swarm.NetworkAttachmentConfig{{Target: "echo-api_backend", Aliases: []string{"model_server"}}}
	if !reflect.DeepEqual(api.TaskTemplate.Networks, want) {
		t.Errorf("networks %+v", api.TaskTemplate.Networks)
	}

	proxy := service(t, spec, "echo-api_proxy")
	wantPorts := []swarm.PortConfig{{Protocol: "tcp", TargetPort: 80, PublishedPort: 80, PublishMode: swarm.PortConfigPublishModeHost}}
	if !reflect.DeepEqual(proxy.EndpointSpec.Ports, wantPorts) {
		t.Errorf("proxy ports %+v", proxy.EndpointSpec.Ports)
	}
	pcs := proxy.TaskTemplate.ContainerSpec
	wantMount := []mount.Mount{{Type: mount.TypeBind, Source: "/var/run/docker.sock", Target: "/var/run/docker.sock", ReadOnly: true}}
	if !reflect.DeepEqual(pcs.Mounts, wantMount) {
		t.Errorf("proxy mounts %+v", pcs.Mounts)
	}
	if !reflect.DeepEqual(proxy.TaskTemplate.Placement.Constraints, []string{"node.role == manager"}) {
		t.Errorf("placement %+v", proxy.TaskTemplate.Placement)
	}
	if len(pcs.Args) != 3 || pcs.Args[0] != "--providers.swarm.endpoint=unix:///var/run/docker.sock" || pcs.Command != nil {
		t.Errorf("command: Command %v Args %v", pcs.Command, pcs.Args)
	}
	if len(spec.Networks) != 1 {
		t.Fatalf("networks %+v, want only the one services use", spec.Networks)
	}
	n := spec.Networks[0]
	if n.Name != "echo-api_backend" || n.Options.Driver != "overlay" || !n.Options.Attachable || n.Options.Labels[LabelNamespace] != "echo-api" {
		t.Errorf("network %+v", n)
	}
}

func TestConvertHAProxyStackShipsItsConfig(t *testing.T) {
	spec := load(t, filepath.Join("testdata", "haproxy.yml"))
	cfg, err := os.ReadFile(filepath.Join("testdata", "haproxy.cfg"))
	if err != nil {
		t.Fatal(err)
	}
	if len(spec.Configs) != 1 || spec.Configs[0].Name != "echo-api_haproxy_cfg" || string(spec.Configs[0].Data) != string(cfg) {
		t.Fatalf("configs %+v", spec.Configs)
	}
	if spec.Configs[0].Labels[LabelNamespace] != "echo-api" {
		t.Errorf("config labels %v", spec.Configs[0].Labels)
	}
	proxy := service(t, spec, "echo-api_proxy")
	refs := proxy.TaskTemplate.ContainerSpec.Configs
	if len(refs) != 1 || refs[0].ConfigName != "echo-api_haproxy_cfg" || refs[0].File.Name != "/usr/local/etc/haproxy/haproxy.cfg" || refs[0].File.Mode != 0o444 {
		t.Errorf("config references %+v", refs)
	}
	if p := proxy.EndpointSpec.Ports; len(p) != 1 || p[0].PublishedPort != 8080 || p[0].PublishMode != swarm.PortConfigPublishModeHost {
		t.Errorf("ports %+v", p)
	}
	if !reflect.DeepEqual(proxy.TaskTemplate.ContainerSpec.Args, []string{"haproxy", "-W", "-db", "-f", "/usr/local/etc/haproxy/haproxy.cfg"}) {
		t.Errorf("args %v", proxy.TaskTemplate.ContainerSpec.Args)
	}
}

func writeStack(t *testing.T, content string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "rscale.yml")
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestServicesWithoutNetworksJoinTheDefaultNetwork(t *testing.T) {
	spec := load(t, writeStack(t, "services:\n  web:\n    image: nginx\n"))
	if len(spec.Networks) != 1 || spec.Networks[0].Name != "echo-api_default" || spec.Networks[0].Options.Driver != "overlay" {
		t.Fatalf("networks %+v", spec.Networks)
	}
	if got := spec.Services[0].TaskTemplate.Networks; len(got) != 1 || got[0].Target != "echo-api_default" {
		t.Errorf("attachments %+v", got)
	}
	if r := spec.Services[0].Mode.Replicated; r == nil || *r.Replicas != 1 {
		t.Errorf("a service without replicas: gets %+v, want 1", spec.Services[0].Mode)
	}
}

func TestConvertIsDeterministic(t *testing.T) {
	file := filepath.Join("testdata", "traefik.yml")
	if a, b := load(t, file), load(t, file); !reflect.DeepEqual(a, b) {
		t.Error("converting the same file twice gave different specs")
	}
}

func TestLoadErrorsNameTheFile(t *testing.T) {
	_, err := stack.Load(context.Background(), filepath.Join(t.TempDir(), "rscale.yml"), "x")
	if !errors.Is(err, fs.ErrNotExist) || !strings.Contains(err.Error(), "rscale.yml") || !strings.Contains(err.Error(), "rscale init") {
		t.Errorf("missing file: %v", err)
	}
	for content, want := range map[string]string{
		"services:\n  web:\n    image: [nginx\n":                                   "rscale.yml",
		"services:\n  web:\n    image: nginx\n    deploy:\n      replicas: many\n": "replicas",
	} {
		_, err := stack.Load(context.Background(), writeStack(t, content), "x")
		if err == nil || !strings.Contains(err.Error(), "rscale.yml") || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: %v, want an error naming rscale.yml and %q", content, err, want)
		}
	}
}

func TestConvertRefusesWhatSwarmCannotDo(t *testing.T) {
	for content, want := range map[string]string{
		"services:\n  web:\n    image: nginx\n    ports:\n      - \"8000-8010:80\"\n": "port range",
		"services:\n  web:\n    image: nginx\n    network_mode: host\n":               "network_mode",
	} {
		p, err := stack.Load(context.Background(), writeStack(t, content), "x")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := Convert(p, "x"); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: %v, want an error about %s", content, err, want)
		}
	}
}

// rscale loads a file before it knows the stack's name, so compose-go's project name differs
// from the stack's; the names on the swarm must still be <stack>_<key>.
func TestNamesFollowTheStackNotTheProjectName(t *testing.T) {
	p, err := stack.Load(context.Background(), filepath.Join("testdata", "haproxy.yml"), "rscale")
	if err != nil {
		t.Fatal(err)
	}
	spec, err := Convert(p, "echo-api")
	if err != nil {
		t.Fatal(err)
	}
	if len(spec.Configs) != 1 || spec.Configs[0].Name != "echo-api_haproxy_cfg" {
		t.Errorf("configs %+v", spec.Configs)
	}
	if len(spec.Networks) != 1 || spec.Networks[0].Name != "echo-api_backend" {
		t.Errorf("networks %+v", spec.Networks)
	}
}
