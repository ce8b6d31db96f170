package deploy

import (
	"context"
	"fmt"
	"io"
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

// StackOptions say what to deploy and how.
type StackOptions struct {
	File          string // the stack file
	Name          string // stack name; "" takes x-rscale.stack from the file, then the folder name
	Build         bool
	Init          bool // make a one-node swarm when the engine is in none
	AdvertiseAddr string
	Prune         bool
	Detach        bool
	Timeout       time.Duration
	Verbose       bool
	Progress      io.Writer // build steps, changes and convergence
}

// Result is what a deploy did.
type Result struct {
	Stack    string
	Services []string // full names
	Changes  []Change
	URLs     []string
}

// LoadStack reads a stack file and decides the stack's name.
func LoadStack(ctx context.Context, file, name string) (*types.Project, string, error) {
	p, err := stack.Load(ctx, file, "rscale")
	if err != nil {
		return nil, "", err
	}
	if name == "" {
		name = StackNameOf(p)
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

// StackNameOf is the name init recorded in the stack file (x-rscale: stack:), or "".
func StackNameOf(p *types.Project) string {
	ext, ok := p.Extensions["x-rscale"].(map[string]any)
	if !ok {
		return ""
	}
	name, _ := ext["stack"].(string)
	return name
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

// Stack deploys a stack file: it reads and converts the file and builds the images before
// touching the swarm, so a bad file or a failed build deploys nothing.
func Stack(ctx context.Context, api engine.API, o StackOptions) (*Result, error) {
	progress := o.Progress
	if progress == nil {
		progress = io.Discard
	}
	p, name, err := LoadStack(ctx, o.File, o.Name)
	if err != nil {
		return nil, err
	}
	spec, err := stack.Convert(p, name)
	if err != nil {
		return nil, err
	}
	if o.Build {
		refs, err := BuildImages(ctx, api, p, BuildOptions{Progress: progress, Verbose: o.Verbose})
		if err != nil {
			return nil, err
		}
		pinImages(spec, name, refs)
	}
	if err := engine.EnsureSwarm(ctx, api, o.Init, o.AdvertiseAddr, progress); err != nil {
		return nil, err
	}
	changes, err := Apply(ctx, api, spec, Options{Prune: o.Prune, Out: progress})
	if err != nil {
		return nil, err
	}
	r := &Result{Stack: name, Changes: changes, URLs: URLs(spec)}
	var targets []WaitTarget
	for _, c := range changes {
		if c.Action != "removed" {
			r.Services = append(r.Services, c.Service)
			targets = append(targets, WaitTarget{Service: c.Service, SpecHash: c.SpecHash})
		}
	}
	if !o.Detach {
		fmt.Fprintln(progress, "Waiting for every replica to run and be healthy...")
		if err := Wait(ctx, api, targets, WaitOptions{Timeout: o.Timeout, Out: progress, Prefix: name + "_"}); err != nil {
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
