package scaffold

import (
	"bufio"
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/rscale/rscale/pkg/stack"
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
