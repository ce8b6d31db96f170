package deploy

import (
	"context"
	"fmt"
	"io"
	"net/url"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/compose-spec/compose-go/v2/types"

	"github.com/rscale/rscale/pkg/engine"
	"github.com/rscale/rscale/pkg/names"
	"github.com/rscale/rscale/pkg/stack"
)

// StackOptions say how to deploy.
type StackOptions struct {
	Build         bool
	Init          bool // make a one-node swarm when the engine is in none
	AdvertiseAddr string
	Prune         bool
	Detach        bool
	Timeout       time.Duration
	Verbose       bool
	Batch         int       // replicas started at a time; 0: DefaultBatch
	Progress      io.Writer // build steps, changes and convergence
}

// Plan is a stack file read and converted: what a deploy will create, checked before any
// engine is asked for anything.
type Plan struct {
	Project *types.Project
	Name    string
	Spec    *stack.Spec
}

// NewPlan reads and converts a stack file; name "" takes the one the file records.
func NewPlan(ctx context.Context, file, name string) (*Plan, error) {
	p, name, err := LoadStack(ctx, file, name)
	if err != nil {
		return nil, err
	}
	spec, err := stack.Convert(p, name)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", file, err)
	}
	return &Plan{Project: p, Name: name, Spec: spec}, nil
}

// Result is what a deploy did.
type Result struct {
	Stack     string
	URLs      []string   // where the proxy serves the API
	Dashboard *Dashboard // the proxy's dashboard, if the stack publishes it
}

// Dashboard is where the proxy's dashboard is and who may open it, as init recorded it
// (x-rscale: dashboard:). The password stays in its file: it is never printed.
type Dashboard struct {
	URL, User, PasswordFile string
}

func (d *Dashboard) String() string {
	return fmt.Sprintf("%s (user %s, password in %s)", d.URL, d.User, d.PasswordFile)
}

// DashboardOf is the stack's dashboard, or nil.
func DashboardOf(p *types.Project) *Dashboard {
	m, _ := rscaleExtension(p)["dashboard"].(map[string]any)
	d := &Dashboard{}
	d.URL, _ = m["url"].(string)
	d.User, _ = m["user"].(string)
	d.PasswordFile, _ = m["password_file"].(string)
	if d.URL == "" {
		return nil
	}
	return d
}

// URLs are the addresses where the stack serves the API: every published port but the
// dashboard's.
func (pl *Plan) URLs() []string {
	urls := URLs(pl.Spec)
	d := DashboardOf(pl.Project)
	if d == nil {
		return urls
	}
	var out []string
	for _, u := range urls {
		if portOf(u) != portOf(d.URL) {
			out = append(out, u)
		}
	}
	return out
}

func portOf(u string) string {
	parsed, err := url.Parse(u)
	if err != nil {
		return ""
	}
	return parsed.Port()
}

// LoadStack reads a stack file and decides the stack's name.
func LoadStack(ctx context.Context, file, name string) (*types.Project, string, error) {
	p, err := stack.Load(ctx, file, "rscale")
	if err != nil {
		return nil, "", err
	}
	if name == "" {
		name, _ = rscaleExtension(p)["stack"].(string)
	}
	if name == "" {
		abs, _ := filepath.Abs(file)
		if name, err = names.Stack(filepath.Base(filepath.Dir(abs)), longestService(p)); err != nil {
			return nil, "", err
		}
	}
	if err := names.CheckStack(name, longestService(p)); err != nil {
		return nil, "", err
	}
	return p, name, nil
}

// rscaleExtension is what init records for rscale in the stack file, under x-rscale:.
func rscaleExtension(p *types.Project) map[string]any {
	ext, _ := p.Extensions["x-rscale"].(map[string]any)
	return ext
}

// MaxReplicas is, per service, the most replicas the stack's proxy has room for (x-rscale:
// max_replicas:, which init writes for HAProxy); a service not named has no limit.
func MaxReplicas(p *types.Project) map[string]uint64 {
	limits, _ := rscaleExtension(p)["max_replicas"].(map[string]any)
	out := map[string]uint64{}
	for service, v := range limits {
		switch n := v.(type) {
		case int:
			out[service] = uint64(n)
		case uint64:
			out[service] = n
		case float64:
			out[service] = uint64(n)
		}
	}
	return out
}

func longestService(p *types.Project) string {
	longest := ""
	for _, n := range p.ServiceNames() {
		if len(n) > len(longest) {
			longest = n
		}
	}
	return longest
}

// Stack deploys a plan. It builds the images before touching the swarm, so a failed build
// deploys nothing.
func Stack(ctx context.Context, api engine.API, plan *Plan, o StackOptions) (*Result, error) {
	progress := o.Progress
	if progress == nil {
		progress = io.Discard
	}
	name, spec := plan.Name, plan.Spec
	inSwarm, err := engine.SwarmManager(ctx, api)
	if err != nil {
		return nil, err
	}
	if !inSwarm && !o.Init {
		return nil, engine.ErrNoSwarm
	}
	if o.Build {
		refs, err := BuildImages(ctx, api, plan.Project, BuildOptions{Progress: progress, Verbose: o.Verbose})
		if err != nil {
			return nil, err
		}
		pinImages(spec, name, refs)
	}
	if !inSwarm {
		if err := engine.InitSwarm(ctx, api, o.AdvertiseAddr, progress); err != nil {
			return nil, err
		}
	}
	batch := o.Batch
	if batch == 0 {
		batch = DefaultBatch(ctx, api)
	}
	if o.Detach {
		batch = 0 // nobody would add the rest
	}
	changes, err := Apply(ctx, api, spec, Options{Prune: o.Prune, Out: progress, Batch: batch})
	if err != nil {
		return nil, err
	}
	r := &Result{Stack: name, URLs: plan.URLs(), Dashboard: DashboardOf(plan.Project)}
	var targets []WaitTarget
	for _, c := range changes {
		if c.Action != "removed" {
			targets = append(targets, WaitTarget{Service: c.Service, SpecHash: c.SpecHash, Replicas: c.Replicas})
		}
	}
	if !o.Detach {
		fmt.Fprintln(progress, "Waiting for every replica to run and be healthy...")
		if err := Wait(ctx, api, targets, WaitOptions{Timeout: o.Timeout, Out: progress, Prefix: name + "_", Batch: batch}); err != nil {
			return r, err
		}
	}
	return r, nil
}

// pinImages makes each built service run the image it was just built into.
func pinImages(spec *stack.Spec, stackName string, refs map[string]string) {
	for i := range spec.Services {
		s := &spec.Services[i]
		ref, ok := refs[strings.TrimPrefix(s.Name, stackName+"_")]
		if !ok || s.TaskTemplate.ContainerSpec == nil {
			continue
		}
		cs := *s.TaskTemplate.ContainerSpec
		cs.Image = ref
		s.TaskTemplate.ContainerSpec = &cs
		s.Labels = withLabel(s.Labels, stack.LabelImage, ref)
	}
}

// URLs are the addresses the stack serves: each port published on the nodes.
func URLs(spec *stack.Spec) []string {
	var urls []string
	for _, s := range spec.Services {
		if s.EndpointSpec == nil {
			continue
		}
		for _, port := range s.EndpointSpec.Ports {
			if port.PublishedPort == 0 {
				continue
			}
			u := "http://localhost"
			if port.PublishedPort != 80 {
				u += ":" + strconv.Itoa(int(port.PublishedPort))
			}
			urls = append(urls, u+"/")
		}
	}
	sort.Strings(urls)
	return urls
}
