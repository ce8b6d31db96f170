package scaffold

import (
	"context"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/docker/docker/api/types/swarm"

	"github.com/rscale/rscale/pkg/stack"
)

// Every generated stack file loads with compose-go and converts into the services, labels,
// host-mode ports and dnsrr endpoints docker stack deploy would create from it.
func TestGeneratedStackConvertsLikeDockerStackDeploy(t *testing.T) {
	for _, c := range goldenCases {
		t.Run(c.name, func(t *testing.T) {
			o := c.options()
			dir := writeCase(t, c)
			p, err := stack.Load(context.Background(), filepath.Join(dir, o.StackFile), c.project)
			if err != nil {
				t.Fatal(err)
			}
			spec, err := stack.Convert(p, c.project)
			if err != nil {
				t.Fatal(err)
			}
			services := map[string]swarm.ServiceSpec{}
			for _, s := range spec.Services {
				services[s.Name] = s
			}
			if len(services) != 2 {
				t.Fatalf("services %v, want the API and the proxy", len(services))
			}
			api, ok := services[c.project+"_"+o.Service]
			if !ok {
				t.Fatalf("no service %s_%s", c.project, o.Service)
			}
			proxy := services[c.project+"_proxy"]

			if api.EndpointSpec.Mode != swarm.ResolutionModeDNSRR {
				t.Errorf("API endpoint mode %s, want dnsrr", api.EndpointSpec.Mode)
			}
			if got := *api.Mode.Replicated.Replicas; got != uint64(o.Replicas) {
				t.Errorf("replicas %d, want %d", got, o.Replicas)
			}
			if u := api.UpdateConfig; u.Order != "start-first" || u.FailureAction != "rollback" {
				t.Errorf("update config %+v", u)
			}
			if hc := api.TaskTemplate.ContainerSpec.Healthcheck; hc == nil || !reflect.DeepEqual(hc.Test, []string{"CMD", "sh", "/app/.rscale/healthcheck.sh"}) {
				t.Errorf("healthcheck %+v, want the generated script", hc)
			}
			if env := api.TaskTemplate.ContainerSpec.Env; !slices.Contains(env, "HEALTH_PATH="+o.HealthPath) {
				t.Errorf("env %v lacks the health path the script asks", env)
			}
			if api.Labels[stack.LabelNamespace] != c.project || proxy.Labels[stack.LabelNamespace] != c.project {
				t.Error("services lack the stack namespace label")
			}
			if len(proxy.EndpointSpec.Ports) == 0 {
				t.Fatal("the proxy publishes no port")
			}
			for _, port := range proxy.EndpointSpec.Ports {
				if port.PublishMode != swarm.PortConfigPublishModeHost {
					t.Errorf("port %d published in %s mode, want host", port.PublishedPort, port.PublishMode)
				}
			}
			if got := proxy.EndpointSpec.Ports[0]; got.TargetPort != 80 || got.PublishedPort != uint32(o.ProxyPort) {
				t.Errorf("proxy port %+v, want 80 published on %d", got, o.ProxyPort)
			}

			switch o.Proxy {
			case ProxyTraefik:
				router := c.project + "-" + o.Service
				for _, key := range []string{
					"traefik.enable",
					"traefik.http.routers." + router + ".rule",
					"traefik.http.services." + router + ".loadbalancer.server.port",
					"traefik.http.services." + router + ".loadbalancer.strategy",
					"traefik.http.services." + router + ".loadbalancer.healthcheck.path",
				} {
					if api.Labels[key] == "" {
						t.Errorf("API service lacks label %s", key)
					}
				}
				// $$ in the file is a literal $ once Compose has interpolated it.
				if rule := api.Labels["traefik.http.routers."+router+".rule"]; strings.Contains(rule, "$$") {
					t.Errorf("rule %q still holds $$", rule)
				}
				if m := proxy.TaskTemplate.ContainerSpec.Mounts; len(m) != 1 || !m[0].ReadOnly || m[0].Source != "/var/run/docker.sock" {
					t.Errorf("Traefik mounts %+v, want the Docker socket read-only", m)
				}
			case ProxyHAProxy:
				if len(spec.Configs) != 1 || !strings.Contains(string(spec.Configs[0].Data), "maxconn 1") {
					t.Errorf("configs %+v, want haproxy.cfg", spec.Configs)
				}
				if refs := proxy.TaskTemplate.ContainerSpec.Configs; len(refs) != 1 || refs[0].File.Name != "/usr/local/etc/haproxy/haproxy.cfg" {
					t.Errorf("the proxy does not mount haproxy.cfg: %+v", refs)
				}
			}
		})
	}
}
