// Package fakeengine is an engine.Engine held in memory, and saved to and loaded from the
// JSON file RSCALE_FAKE_CLUSTER names (a new cluster when the file does not exist), so that
// a series of rscale commands in a testscript shares one cluster, as pkg/docker/dockertest
// does for the Docker API. Its replicas are ready as soon as they are asked for, unless
// RSCALE_FAKE_UNREADY names their service (comma-separated); it paces as an engine.Pacer,
// rolls back as an engine.RollBacker and prints its objects as an engine.Renderer.
//
// It is the third engine, and one registration line away from every command:
// engine.Register(fakeengine.Registration).
package fakeengine

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"

	"github.com/spf13/pflag"
	"sigs.k8s.io/yaml"

	"github.com/rscale/rscale/pkg/docker"
	"github.com/rscale/rscale/pkg/docker/dockertest"
	"github.com/rscale/rscale/pkg/engine"
	"github.com/rscale/rscale/pkg/haproxy"
	"github.com/rscale/rscale/pkg/stack"
	"github.com/rscale/rscale/pkg/stackname"
)

// Name is the fake's --target.
const Name = "fake"

// Environment variables the fake reads.
const (
	EnvCluster = "RSCALE_FAKE_CLUSTER" // the file holding the cluster
	EnvUnready = "RSCALE_FAKE_UNREADY" // services whose new replicas never become ready
	EnvURL     = "RSCALE_FAKE_URL"     // what URLs answers for a deployed stack, instead of its published ports
)

// Registration is the fake as the commands know it. Its one flag, --fake-window, is how
// many replicas it starts at a time (its Pacing's window) on deploy and scale.
var Registration = engine.Registration{
	Name: Name,
	Bind: func(command string, fs *pflag.FlagSet) func(engine.Options) (engine.Engine, error) {
		window := new(int)
		if command == "deploy" || command == "scale" {
			fs.IntVar(window, "fake-window", 0, "fake engine: replicas started at a time (default: --batch, else 2)")
		}
		return func(o engine.Options) (engine.Engine, error) {
			path := os.Getenv(EnvCluster)
			if path == "" {
				return nil, fmt.Errorf("the fake engine keeps its cluster in the file %s names: set it", EnvCluster)
			}
			e := New(path)
			e.window = *window
			return e, nil
		}
	},
	HAProxy:   haproxy.Swarm,
	Dashboard: true,
}

// State is the cluster the file holds.
type State struct {
	Stacks map[string]map[string]*Service `json:"stacks"` // stack → short service name → service
	Docker *dockertest.Engine             `json:"docker"` // where images are built and pushed
	Calls  []string                       `json:"calls"`  // what changed, such as "apply api/model_server created"
}

// Service is one deployed service.
type Service struct {
	Image    string   `json:"image"`
	Replicas uint64   `json:"replicas"`
	Revision string   `json:"revision"`
	Ports    []int    `json:"ports,omitempty"`
	Unready  bool     `json:"unready,omitempty"` // its current revision's replicas never become ready
	Previous *Service `json:"previous,omitempty"`
}

// Engine is engine.Engine on the file's cluster.
type Engine struct {
	path   string
	window int
	once   sync.Once
	state  *State
	err    error
}

var (
	_ engine.Engine     = (*Engine)(nil)
	_ engine.Renderer   = (*Engine)(nil)
	_ engine.Pacer      = (*Engine)(nil)
	_ engine.RollBacker = (*Engine)(nil)
)

// New is the fake on the cluster in the file path; it reads it on its first call.
func New(path string) *Engine { return &Engine{path: path} }

func (e *Engine) load() (*State, error) {
	e.once.Do(func() {
		s := &State{}
		data, err := os.ReadFile(e.path)
		switch {
		case errors.Is(err, fs.ErrNotExist):
		case err != nil:
			e.err = err
			return
		default:
			if err := json.Unmarshal(data, s); err != nil {
				e.err = fmt.Errorf("fake cluster %s: %w", e.path, err)
				return
			}
		}
		if s.Stacks == nil {
			s.Stacks = map[string]map[string]*Service{}
		}
		if s.Docker == nil {
			s.Docker = dockertest.New()
		}
		s.Docker.Converge = true
		e.state = s
	})
	return e.state, e.err
}

func (e *Engine) save() error {
	data, err := json.MarshalIndent(e.state, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(e.path, data, 0o644)
}

// plan is what the fake deploys for a stack.
type plan struct {
	Name string              `json:"stack"`
	Svcs map[string]*Service `json:"services"`
}

func (p *plan) Stack() string { return p.Name }

func (p *plan) Services() []string {
	names := make([]string, 0, len(p.Svcs))
	for n := range p.Svcs {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// Plan converts the stack: each service's image, replicas (deploy.replicas, else 1) and
// published ports; its revision is a hash of its image.
func (e *Engine) Plan(s *stack.Stack, images map[string]string) (engine.Plan, error) {
	p := &plan{Name: s.Name, Svcs: map[string]*Service{}}
	for _, name := range s.Project.ServiceNames() {
		svc := s.Project.Services[name]
		image := svc.Image
		if ref, ok := images[name]; ok {
			image = ref
		}
		if image == "" {
			return nil, fmt.Errorf("service %s has no image", name)
		}
		replicas := uint64(1)
		if svc.Deploy != nil && svc.Deploy.Replicas != nil {
			replicas = uint64(*svc.Deploy.Replicas)
		}
		var ports []int
		for _, port := range svc.Ports {
			if port.Published == "" {
				continue
			}
			n, err := strconv.Atoi(port.Published)
			if err != nil {
				return nil, fmt.Errorf("service %s: published port %q is not a port number", name, port.Published)
			}
			ports = append(ports, n)
		}
		sum := sha256.Sum256([]byte(image))
		p.Svcs[name] = &Service{Image: image, Replicas: replicas, Revision: hex.EncodeToString(sum[:])[:12], Ports: ports}
	}
	return p, nil
}

// Render prints the plan as JSON or YAML.
func (e *Engine) Render(p engine.Plan, format string) ([]byte, error) {
	data, err := json.MarshalIndent(p, "", "  ")
	if err != nil {
		return nil, err
	}
	switch format {
	case "json":
		return append(data, '\n'), nil
	case "yaml":
		return yaml.JSONToYAML(data)
	}
	return nil, fmt.Errorf("unknown format %q: choose yaml or json", format)
}

// Prepare has nothing to check.
func (e *Engine) Prepare(ctx context.Context, p engine.Plan, o engine.PrepareOptions) error {
	_, err := e.load()
	return err
}

// Apply creates or updates each service of the plan, with the first step of its pacing.
func (e *Engine) Apply(ctx context.Context, p engine.Plan, o engine.ApplyOptions) ([]engine.Change, error) {
	st, err := e.load()
	if err != nil {
		return nil, err
	}
	out := orDiscard(o.Progress)
	pl := p.(*plan)
	have := st.Stacks[pl.Name]
	if have == nil {
		have = map[string]*Service{}
		st.Stacks[pl.Name] = have
	}
	unready := unreadyServices()
	var changes []engine.Change
	for _, name := range pl.Services() {
		want := *pl.Svcs[name]
		want.Unready = unready[name]
		action := "created"
		var current uint64
		if old, ok := have[name]; ok {
			current = old.Replicas
			action = "updated"
			if old.Revision == want.Revision && old.Replicas == want.Replicas && slices.Equal(old.Ports, want.Ports) {
				action = "unchanged"
			}
			if old.Revision != want.Revision {
				prev := *old
				prev.Previous = nil
				want.Previous = &prev
			} else {
				want.Previous, want.Unready = old.Previous, old.Unready
			}
		}
		target := want.Replicas
		if o.Pacing != nil {
			want.Replicas = o.Pacing.First(current, target)
		}
		have[name] = &want
		fmt.Fprintf(out, "service %s %s\n", stackname.Scoped(pl.Name, name), action)
		st.Calls = append(st.Calls, fmt.Sprintf("apply %s/%s %s", pl.Name, name, action))
		changes = append(changes, engine.Change{Service: name, Action: action, Revision: want.Revision, Replicas: target})
	}
	if o.Prune {
		for name := range have {
			if _, ok := pl.Svcs[name]; !ok {
				delete(have, name)
				fmt.Fprintf(out, "service %s removed\n", stackname.Scoped(pl.Name, name))
				changes = append(changes, engine.Change{Service: name, Action: "removed"})
			}
		}
	}
	return changes, e.save()
}

func unreadyServices() map[string]bool {
	out := map[string]bool{}
	for _, s := range strings.Split(os.Getenv(EnvUnready), ",") {
		if s = strings.TrimSpace(s); s != "" {
			out[s] = true
		}
	}
	return out
}

// Status: every replica asked for is ready at once, but those of an unready service.
func (e *Engine) Status(ctx context.Context, stackName string, targets []engine.Change) ([]engine.Status, error) {
	st, err := e.load()
	if err != nil {
		return nil, err
	}
	var out []engine.Status
	for _, t := range targets {
		svc := st.Stacks[stackName][t.Service]
		if svc == nil {
			return nil, fmt.Errorf("stack %s has no service %s", stackName, t.Service)
		}
		s := engine.Status{Service: t.Service, Desired: int(svc.Replicas), Running: int(svc.Replicas), Ready: int(svc.Replicas)}
		if svc.Unready {
			s.Ready, s.Detail = 0, "the new replicas never become ready"
		}
		s.Done = s.Ready == s.Desired && (t.Revision == "" || t.Revision == svc.Revision)
		out = append(out, s)
	}
	return out, nil
}

// RollBack puts back the previous revision of each service.
func (e *Engine) RollBack(ctx context.Context, p engine.Plan, services []string) map[string]error {
	failed := map[string]error{}
	st, err := e.load()
	if err != nil {
		for _, s := range services {
			failed[s] = err
		}
		return failed
	}
	for _, name := range services {
		svc := st.Stacks[p.Stack()][name]
		if svc == nil || svc.Previous == nil {
			failed[name] = engine.ErrNoPreviousVersion
			continue
		}
		st.Stacks[p.Stack()][name] = svc.Previous
		st.Calls = append(st.Calls, fmt.Sprintf("roll back %s/%s", p.Stack(), name))
	}
	if err := e.save(); err != nil {
		for _, s := range services {
			failed[s] = err
		}
	}
	return failed
}

func (e *Engine) deployed(stackName string) (map[string]*Service, error) {
	st, err := e.load()
	if err != nil {
		return nil, err
	}
	have := st.Stacks[stackName]
	if len(have) == 0 {
		return nil, fmt.Errorf("stack %s is %w: run 'rscale deploy' first", stackName, engine.ErrNotDeployed)
	}
	return have, nil
}

// Resolve finds the deployed services for the names, with or without the stack's prefix.
func (e *Engine) Resolve(ctx context.Context, stackName string, services []string) ([]engine.Change, error) {
	have, err := e.deployed(stackName)
	if err != nil {
		return nil, err
	}
	var out []engine.Change
	for _, name := range services {
		short := stackname.Unscoped(stackName, name)
		svc, ok := have[short]
		if !ok {
			known := make([]string, 0, len(have))
			for n := range have {
				known = append(known, n)
			}
			sort.Strings(known)
			return nil, fmt.Errorf("stack %s has no service %q: it has %s", stackName, name, strings.Join(known, ", "))
		}
		out = append(out, engine.Change{Service: short, Action: "unchanged", Revision: svc.Revision, Replicas: svc.Replicas})
	}
	return out, nil
}

// SetReplicas sets a service's replicas (the target of a ramp is not kept).
func (e *Engine) SetReplicas(ctx context.Context, stackName, service string, n, _ uint64) error {
	have, err := e.deployed(stackName)
	if err != nil {
		return err
	}
	svc, ok := have[service]
	if !ok {
		return fmt.Errorf("stack %s has no service %q", stackName, service)
	}
	svc.Replicas = n
	e.state.Calls = append(e.state.Calls, fmt.Sprintf("scale %s/%s to %d", stackName, service, n))
	return e.save()
}

// Services describes the deployed services.
func (e *Engine) Services(ctx context.Context, stackName string) ([]engine.ServiceInfo, error) {
	st, err := e.load()
	if err != nil {
		return nil, err
	}
	have := st.Stacks[stackName]
	var out []engine.ServiceInfo
	for _, name := range sortedKeys(have) {
		svc := have[name]
		ready := int(svc.Replicas)
		if svc.Unready {
			ready = 0
		}
		info := engine.ServiceInfo{Name: name, Desired: int(svc.Replicas), Running: int(svc.Replicas), Healthy: &ready, Image: svc.Image, Ports: []string{}, Nodes: []string{"fake-node"}}
		for _, p := range svc.Ports {
			info.Ports = append(info.Ports, fmt.Sprintf("%d", p))
		}
		for i := 1; i <= int(svc.Replicas); i++ {
			info.Tasks = append(info.Tasks, engine.TaskInfo{Name: fmt.Sprintf("%s.%d", name, i), State: "running", Desired: "running", Node: "fake-node"})
		}
		out = append(out, info)
	}
	return out, nil
}

// Logs writes one line per replica: "SERVICE.N | started".
func (e *Engine) Logs(ctx context.Context, stackName string, services []string, o engine.LogOptions, out io.Writer) error {
	have, err := e.deployed(stackName)
	if err != nil {
		return err
	}
	names := sortedKeys(have)
	if len(services) > 0 {
		names = nil
		for _, s := range services {
			short := stackname.Unscoped(stackName, s)
			if _, ok := have[short]; !ok {
				return fmt.Errorf("stack %s has no service %q", stackName, s)
			}
			names = append(names, short)
		}
	}
	for _, name := range names {
		for i := 1; i <= int(have[name].Replicas); i++ {
			fmt.Fprintf(out, "%s.%d | started\n", name, i)
		}
	}
	return nil
}

// Remove removes the stack.
func (e *Engine) Remove(ctx context.Context, stackName string, o engine.RemoveOptions) (bool, error) {
	st, err := e.load()
	if err != nil {
		return false, err
	}
	have := st.Stacks[stackName]
	if len(have) == 0 {
		return false, nil
	}
	for _, name := range sortedKeys(have) {
		fmt.Fprintf(orDiscard(o.Progress), "service %s removed\n", stackname.Scoped(stackName, name))
	}
	delete(st.Stacks, stackName)
	st.Calls = append(st.Calls, "remove "+stackName)
	return true, e.save()
}

// URLs are RSCALE_FAKE_URL when set, else http://localhost:PORT/ for each published port.
func (e *Engine) URLs(ctx context.Context, stackName string) ([]string, error) {
	have, err := e.deployed(stackName)
	if err != nil {
		return nil, err
	}
	if u := os.Getenv(EnvURL); u != "" {
		return []string{u}, nil
	}
	var urls []string
	for _, name := range sortedKeys(have) {
		for _, p := range have[name].Ports {
			u := "http://localhost"
			if p != 80 {
				u += ":" + strconv.Itoa(p)
			}
			urls = append(urls, u+"/")
		}
	}
	sort.Strings(urls)
	return urls, nil
}

// Version is the fake's.
func (e *Engine) Version(ctx context.Context) (engine.Version, error) {
	return engine.Version{Engine: "Fake engine", Version: "1.0", APIVersion: "1", OS: "linux", Arch: "fake"}, nil
}

// Images is the fake Docker engine the file holds beside the cluster.
func (e *Engine) Images(ctx context.Context) (docker.API, error) {
	st, err := e.load()
	if err != nil {
		return nil, err
	}
	return savingDocker{st.Docker, e}, nil
}

// savingDocker saves the cluster's file after each image call.
type savingDocker struct {
	*dockertest.Engine
	e *Engine
}

func (d savingDocker) ImageTag(ctx context.Context, image, ref string) error {
	if err := d.Engine.ImageTag(ctx, image, ref); err != nil {
		return err
	}
	return d.e.save()
}

// Close has nothing to release.
func (e *Engine) Close() error { return nil }

// Pacing starts window replicas at a time: --fake-window, else batch, else 2.
func (e *Engine) Pacing(ctx context.Context, batch int) engine.Pacing {
	w := e.window
	if w <= 0 {
		w = batch
	}
	if w <= 0 {
		w = 2
	}
	return window(w)
}

type window int

func (w window) First(current, target uint64) uint64 {
	return min(target, max(current, 0)+uint64(w))
}

func (w window) Next(s engine.Status, target uint64) (uint64, bool) {
	if uint64(s.Desired) >= target || s.Desired-s.Ready >= int(w) {
		return 0, false
	}
	return min(target, uint64(s.Desired+int(w)-(s.Desired-s.Ready))), true
}

func (w window) String() string { return fmt.Sprintf("%d starting at a time", int(w)) }

func sortedKeys(m map[string]*Service) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func orDiscard(w io.Writer) io.Writer {
	if w == nil {
		return io.Discard
	}
	return w
}
