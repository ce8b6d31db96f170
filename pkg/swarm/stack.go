package swarm

import (
	"context"
	"fmt"
	"io"
	"sort"
	"strconv"
	"time"

	"github.com/compose-spec/compose-go/v2/types"

	"github.com/rscale/rscale/pkg/docker"
	"github.com/rscale/rscale/pkg/registry"
	"github.com/rscale/rscale/pkg/stack"
	"github.com/rscale/rscale/pkg/stackname"
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
	Batch         int // most replicas starting at a time; 0: DefaultWindow
	// Registry is where the built images are pushed, for every node to pull; "" takes the
	// stack file's (x-rscale: registry:), and with none the images stay on this node.
	Registry string
	Progress io.Writer // build steps, changes and convergence
}

// Plan is a stack file read and converted: what a deploy will create, checked before any
// engine is asked for anything.
type Plan struct {
	Project *types.Project
	Name    string
	Spec    *Spec
}

// NewPlan converts a stack file read by stack.Open into what the stack named name is on Swarm.
func NewPlan(p *types.Project, name string) (*Plan, error) {
	spec, err := Convert(p, name)
	if err != nil {
		return nil, err
	}
	return &Plan{Project: p, Name: name, Spec: spec}, nil
}

// Result is what a deploy did.
type Result struct {
	Stack string
	URLs  []string // where the proxy serves the API
}

// Stack deploys a plan. It builds the images before touching the swarm, so a failed build
// deploys nothing.
func Stack(ctx context.Context, api docker.API, plan *Plan, o StackOptions) (*Result, error) {
	progress := o.Progress
	if progress == nil {
		progress = io.Discard
	}
	name, spec := plan.Name, plan.Spec
	inSwarm, err := docker.SwarmManager(ctx, api)
	if err != nil {
		return nil, err
	}
	if !inSwarm && !o.Init {
		return nil, docker.ErrNoSwarm
	}
	if err := checkExternalNetworks(ctx, api, spec); err != nil {
		return nil, err
	}
	reg := o.Registry
	if reg == "" {
		ext, err := stack.ReadExtension(plan.Project)
		if err != nil {
			return nil, err
		}
		reg = ext.Registry
	}
	if reg != "" {
		if err := registry.Check(reg); err != nil {
			return nil, err
		}
	}
	if o.Build && reg == "" && inSwarm {
		if err := checkImagesReachNodes(ctx, api, spec, builtServices(plan.Project, name)); err != nil {
			return nil, err
		}
	}
	if o.Build {
		refs, err := BuildImages(ctx, api, plan.Project, BuildOptions{Progress: progress, Verbose: o.Verbose})
		if err != nil {
			return nil, err
		}
		if reg != "" {
			// Before any service changes: a push that fails deploys nothing.
			if refs, err = pushImages(ctx, api, reg, name, refs, progress); err != nil {
				return nil, err
			}
		}
		pinImages(spec, name, refs)
	}
	if !inSwarm {
		if err := docker.InitSwarm(ctx, api, o.AdvertiseAddr, progress); err != nil {
			return nil, err
		}
	}
	var ramp *Ramp // detached, nobody would add the rest
	if !o.Detach {
		ramp = NewRamp(ctx, api, o.Batch)
	}
	changes, err := Apply(ctx, api, spec, Options{Prune: o.Prune, Out: progress, Ramp: ramp})
	if err != nil {
		return nil, err
	}
	r := &Result{Stack: name, URLs: URLs(spec)}
	var targets []WaitTarget
	for _, c := range changes {
		if c.Action != "removed" {
			targets = append(targets, WaitTarget{Service: c.Service, SpecHash: c.SpecHash, Replicas: c.Replicas})
		}
	}
	if !o.Detach {
		fmt.Fprintln(progress, "Waiting for every replica to run and be healthy...")
		if err := Wait(ctx, api, targets, WaitOptions{Timeout: o.Timeout, Out: progress, Prefix: stackname.Scoped(name, ""), Ramp: ramp}); err != nil {
			return r, err
		}
	}
	return r, nil
}

// builtServices are the full names of the services rscale builds an image for.
func builtServices(p *types.Project, stackName string) map[string]bool {
	built := map[string]bool{}
	for name, svc := range p.Services {
		if svc.Build != nil {
			built[stackname.Scoped(stackName, name)] = true
		}
	}
	return built
}

// pinImages makes each built service run the image it was just built into.
func pinImages(spec *Spec, stackName string, refs map[string]string) {
	for i := range spec.Services {
		s := &spec.Services[i]
		ref, ok := refs[stackname.Unscoped(stackName, s.Name)]
		if !ok || s.TaskTemplate.ContainerSpec == nil {
			continue
		}
		cs := *s.TaskTemplate.ContainerSpec
		cs.Image = ref
		s.TaskTemplate.ContainerSpec = &cs
		s.Labels = withLabel(s.Labels, LabelImage, ref)
	}
}

// URLs are the addresses the stack serves: each port published on the nodes.
func URLs(spec *Spec) []string {
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
