package scaffold

import (
	"bufio"
	"context"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/docker/docker/api/types/swarm"

	"github.com/rscale/rscale/pkg/stack"
	"github.com/rscale/rscale/pkg/stackname"
	rswarm "github.com/rscale/rscale/pkg/swarm"
)

// documented reads one of the lists taken from Traefik v3's documentation (testdata/traefik).
func documented(t *testing.T, name string) []string {
	t.Helper()
	f, err := os.Open(filepath.Join("testdata", "traefik", name))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if line := strings.TrimSpace(sc.Text()); line != "" && !strings.HasPrefix(line, "#") {
			out = append(out, line)
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// pattern turns a documented name, where _name_ or <name> stands for a name of the user's,
// into a regular expression.
func pattern(doc, placeholder string) *regexp.Regexp {
	parts := strings.Split(doc, placeholder)
	for i := range parts {
		parts[i] = regexp.QuoteMeta(parts[i])
	}
	return regexp.MustCompile("^" + strings.Join(parts, `[^.]+`) + "$")
}

func anyMatch(patterns []*regexp.Regexp, s string) bool {
	for _, p := range patterns {
		if p.MatchString(s) {
			return true
		}
	}
	return false
}

// Traefik ignores an option or a label it does not know, or refuses to start, and CI has no
// Traefik to find out: every flag and label init generates must be one Traefik v3 documents,
// and every duration one it parses.
func TestTraefikFlagsAndLabelsAreDocumented(t *testing.T) {
	var options, labels []*regexp.Regexp
	for _, o := range documented(t, "static-options.txt") {
		options = append(options, pattern(o, "_name_"))
	}
	for _, l := range documented(t, "labels.txt") {
		labels = append(labels, pattern(l, "<name>"))
	}
	checked := 0
	for _, c := range goldenCases {
		o := c.options()
		if o.Proxy != ProxyTraefik {
			continue
		}
		t.Run(c.name, func(t *testing.T) {
			dir := writeCase(t, c)
			p, err := stack.Load(context.Background(), filepath.Join(dir, o.StackFile), c.project)
			if err != nil {
				t.Fatal(err)
			}
			spec, err := rswarm.Convert(p, c.project)
			if err != nil {
				t.Fatal(err)
			}
			for _, s := range spec.Services {
				for key := range s.Labels {
					if strings.HasPrefix(key, "traefik.") && !anyMatch(labels, strings.ToLower(key)) {
						t.Errorf("service %s: label %s is not one Traefik v3 documents", s.Name, key)
					}
					checked++
				}
				if s.Name != c.project+"_"+ProxyService {
					continue
				}
				args := s.TaskTemplate.ContainerSpec.Args
				if len(args) == 0 {
					t.Fatal("Traefik is given no flags")
				}
				for _, arg := range args {
					name, value, _ := strings.Cut(strings.TrimPrefix(arg, "--"), "=")
					if !strings.HasPrefix(arg, "--") || !anyMatch(options, strings.ToLower(name)) {
						t.Errorf("flag %s is not one Traefik v3 documents", arg)
					}
					lower := strings.ToLower(name)
					if strings.HasSuffix(lower, "timeout") || strings.HasSuffix(lower, "refreshseconds") {
						// Traefik reads a plain number as seconds, or else a Go duration.
						if _, err := time.ParseDuration(value); err != nil {
							t.Errorf("flag %s: %q is no duration Traefik reads", arg, value)
						}
					}
					checked++
				}
			}
		})
	}
	if checked == 0 {
		t.Fatal("no golden case uses Traefik: nothing was checked")
	}
}

// The lists of documented names must catch a mistake, or the test above proves nothing.
func TestTraefikDocumentedNamesRefuseUnknownOnes(t *testing.T) {
	var options, labels []*regexp.Regexp
	for _, o := range documented(t, "static-options.txt") {
		options = append(options, pattern(o, "_name_"))
	}
	for _, l := range documented(t, "labels.txt") {
		labels = append(labels, pattern(l, "<name>"))
	}
	for _, ok := range []string{"providers.swarm.refreshseconds", "entrypoints.web.transport.respondingtimeouts.readtimeout"} {
		if !anyMatch(options, ok) {
			t.Errorf("option %s should be documented", ok)
		}
	}
	for _, bad := range []string{"providers.swarm.refreshsecond", "api.insecur", "entrypoints.web.transport.readtimeout"} {
		if anyMatch(options, bad) {
			t.Errorf("option %s should not be documented", bad)
		}
	}
	if !anyMatch(labels, "traefik.http.routers.my-api.rule") || anyMatch(labels, "traefik.http.routers.my-api.rules") ||
		anyMatch(labels, "traefik.docker.network") {
		t.Error("the label list does not tell documented labels from others")
	}
}

// Behind Traefik, nothing that Traefik runs in holds the Docker socket: the filter alone
// mounts it, on a manager, as root without capabilities, on a network only the two share,
// and Traefik's Swarm provider asks the filter.
func TestTraefikReachesDockerOnlyThroughTheFilter(t *testing.T) {
	checked := 0
	for _, c := range goldenCases {
		if c.options().Proxy != ProxyTraefik {
			continue
		}
		checked++
		t.Run(c.name, func(t *testing.T) {
			spec := convertCase(t, c)
			services := map[string]swarm.ServiceSpec{}
			for _, s := range spec.Services {
				services[stackname.Unscoped(c.project, s.Name)] = s
			}
			network := c.project + "_" + apiFilterNetwork
			for name, s := range services {
				cs := s.TaskTemplate.ContainerSpec
				onFilterNetwork := slices.ContainsFunc(s.TaskTemplate.Networks, func(n swarm.NetworkAttachmentConfig) bool { return n.Target == network })
				if name == APIFilterService {
					continue
				}
				if len(cs.Mounts) != 0 {
					t.Errorf("service %s mounts %+v: only the filter may hold the Docker socket", name, cs.Mounts)
				}
				if onFilterNetwork != (name == ProxyService) {
					t.Errorf("service %s on the filter's network: %v; only Traefik may be", name, onFilterNetwork)
				}
			}
			if args := services[ProxyService].TaskTemplate.ContainerSpec.Args; !slices.Contains(args, "--providers.swarm.endpoint=tcp://docker-api:2375") {
				t.Errorf("Traefik's flags %q: its Swarm provider does not ask the filter", args)
			}
			filter, ok := services[APIFilterService]
			if !ok {
				t.Fatalf("no service %s", APIFilterService)
			}
			cs := filter.TaskTemplate.ContainerSpec
			if m := cs.Mounts; len(m) != 1 || m[0].Source != "/var/run/docker.sock" || m[0].Target != "/var/run/docker.sock" {
				t.Errorf("the filter mounts %+v, want the Docker socket", m)
			}
			if cs.User != "0:0" || !slices.Equal(cs.CapabilityDrop, []string{"ALL"}) || len(cs.CapabilityAdd) != 0 || !cs.ReadOnly {
				t.Errorf("the filter runs as %q, drops %q, adds %q, read-only %v: want root with no capability on a read-only filesystem",
					cs.User, cs.CapabilityDrop, cs.CapabilityAdd, cs.ReadOnly)
			}
			if p := filter.TaskTemplate.Placement; p == nil || !slices.Contains(p.Constraints, "node.role == manager") {
				t.Errorf("the filter's placement %+v: only a manager answers the Swarm API", p)
			}
			if n := filter.TaskTemplate.Networks; len(n) != 1 || n[0].Target != network {
				t.Errorf("the filter's networks %+v, want %s alone", n, network)
			}
			if filter.EndpointSpec == nil || filter.EndpointSpec.Mode != swarm.ResolutionModeDNSRR || len(filter.EndpointSpec.Ports) != 0 {
				t.Errorf("the filter's endpoint %+v: want dnsrr and nothing published", filter.EndpointSpec)
			}
			if refs := cs.Configs; len(refs) != 1 || refs[0].File.Name != "/usr/local/etc/haproxy/docker-api.cfg" {
				t.Errorf("the filter's configs %+v, want docker-api.cfg", refs)
			}
			cfg := configNamed(spec, c.project+"_docker_api_cfg")
			if cfg == nil || !strings.Contains(string(cfg.Data), "server engine unix@/var/run/docker.sock") {
				t.Errorf("no config holds the filter's docker-api.cfg: %+v", spec.Configs)
			}
			for _, n := range spec.Networks {
				if n.Name == network && (!n.Options.Internal || n.Options.Attachable) {
					t.Errorf("network %s: internal %v, attachable %v; want internal, not attachable", n.Name, n.Options.Internal, n.Options.Attachable)
				}
			}
		})
	}
	if checked == 0 {
		t.Fatal("no golden case uses Traefik: nothing was checked")
	}
}

// convertCase writes a case's files and converts its stack as rscale deploy would.
func convertCase(t *testing.T, c goldenCase) *rswarm.Spec {
	t.Helper()
	dir := writeCase(t, c)
	p, err := stack.Load(context.Background(), filepath.Join(dir, c.options().StackFile), c.project)
	if err != nil {
		t.Fatal(err)
	}
	spec, err := rswarm.Convert(p, c.project)
	if err != nil {
		t.Fatal(err)
	}
	return spec
}
