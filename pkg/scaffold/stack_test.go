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
	rswarm "github.com/rscale/rscale/pkg/swarm"
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
			spec, err := rswarm.Convert(p, c.project)
			if err != nil {
				t.Fatal(err)
			}
			services := map[string]swarm.ServiceSpec{}
			for _, s := range spec.Services {
				services[s.Name] = s
			}
			want := map[string]int{ProxyHAProxy: 2, ProxyTraefik: 4}[o.Proxy]
			if len(services) != want {
				t.Fatalf("%d services, want %d: the API, the proxy and, behind Traefik, the queue and the Docker API filter", len(services), want)
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
			if api.Labels[rswarm.LabelNamespace] != c.project || proxy.Labels[rswarm.LabelNamespace] != c.project {
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

			if cfg := configNamed(spec, c.project+"_haproxy_cfg"); cfg == nil || !strings.Contains(string(cfg.Data), "maxconn 1") {
				t.Errorf("configs %+v, want haproxy.cfg", spec.Configs)
			}
			if want := map[string]int{ProxyHAProxy: 1, ProxyTraefik: 2}[o.Proxy]; len(spec.Configs) != want {
				t.Errorf("%d configs, want %d: haproxy.cfg and, behind Traefik, the Docker API filter's", len(spec.Configs), want)
			}
			haproxy := proxy
			if o.Proxy == ProxyTraefik {
				haproxy = services[c.project+"_"+QueueService]
			}
			if refs := haproxy.TaskTemplate.ContainerSpec.Configs; len(refs) != 1 || refs[0].File.Name != "/usr/local/etc/haproxy/haproxy.cfg" {
				t.Errorf("HAProxy does not mount haproxy.cfg: %+v", refs)
			}
			if o.Dashboard {
				if len(spec.Secrets) != 1 || len(proxy.TaskTemplate.ContainerSpec.Secrets) != 1 {
					t.Errorf("secrets %+v, the proxy's %+v: want the dashboard's users", spec.Secrets, proxy.TaskTemplate.ContainerSpec.Secrets)
				}
			} else if len(spec.Secrets) != 0 {
				t.Errorf("secrets %+v without --dashboard", spec.Secrets)
			}

			if o.Proxy == ProxyTraefik {
				for key := range api.Labels {
					if strings.HasPrefix(key, "traefik.") {
						t.Errorf("the API service has Traefik label %s: Traefik must reach R through the queue only", key)
					}
				}
				router := c.project + "-" + o.Service
				if rule := haproxy.Labels["traefik.http.routers."+router+".rule"]; rule != "PathPrefix(`/`)" {
					t.Errorf("the queue's rule %q, want every path", rule)
				}
				if port := haproxy.Labels["traefik.http.services."+router+".loadbalancer.server.port"]; port != "80" {
					t.Errorf("Traefik reaches the queue on port %q, want 80", port)
				}
				if haproxy.EndpointSpec.Mode != swarm.ResolutionModeDNSRR || len(haproxy.EndpointSpec.Ports) != 0 {
					t.Errorf("the queue's endpoint %+v: want dnsrr and nothing published", haproxy.EndpointSpec)
				}
			}
		})
	}
}

// configNamed is the spec's config of that name, or nil.
func configNamed(spec *rswarm.Spec, name string) *swarm.ConfigSpec {
	for i := range spec.Configs {
		if spec.Configs[i].Name == name {
			return &spec.Configs[i]
		}
	}
	return nil
}
