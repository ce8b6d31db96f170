package swarm

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"strconv"

	"github.com/docker/docker/api/types/network"
	"github.com/docker/docker/api/types/swarm"
	"sigs.k8s.io/yaml"

	"github.com/rscale/rscale/pkg/engine"
	"github.com/rscale/rscale/pkg/stack"
	"github.com/rscale/rscale/pkg/stackname"
)

// Plan is a stack converted into the Swarm objects a deploy creates, checked before the
// Docker engine is asked anything.
type Plan struct {
	Name string
	Spec *Spec
}

var _ engine.Plan = (*Plan)(nil)

// Stack is the stack's name.
func (p *Plan) Stack() string { return p.Name }

// Services are the short names of the services the plan deploys, sorted.
func (p *Plan) Services() []string {
	names := make([]string, len(p.Spec.Services))
	for i, s := range p.Spec.Services {
		names[i] = stackname.Unscoped(p.Name, s.Name)
	}
	return sorted(names)
}

// Plan converts the stack into its Swarm objects, each service running the image images
// gives it (by short name), or the one the stack file names.
func (e *Engine) Plan(s *stack.Stack, images map[string]string) (engine.Plan, error) {
	spec, err := Convert(s.Project, s.Name)
	if err != nil {
		return nil, err // the pipeline names the file, for every engine
	}
	pinImages(spec, s.Name, images)
	return &Plan{Name: s.Name, Spec: spec}, nil
}

// planOf is the Swarm plan inside p, which the pipeline got from Plan.
func planOf(p engine.Plan) (*Plan, error) {
	plan, ok := p.(*Plan)
	if !ok {
		return nil, fmt.Errorf("the plan of stack %s was made for another engine than Docker Swarm", p.Stack())
	}
	return plan, nil
}

// pinImages makes each service in refs (by short name) run the image refs gives it; the
// stack label records it, as docker stack deploy records the image it deployed.
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

// rendered is what `deploy --dry-run` prints of a plan: the objects Apply would create, in
// the Docker Engine API's own words, with configs and secrets under the content-derived names
// Apply gives them, and no secret's data.
type rendered struct {
	Services []swarm.ServiceSpec
	Networks []renderedNetwork `json:",omitempty"`
	Configs  []renderedObject  `json:",omitempty"`
	Secrets  []renderedObject  `json:",omitempty"`
}

type renderedNetwork struct {
	Name       string
	External   bool              `json:",omitempty"` // rscale creates it not: it must exist
	Driver     string            `json:",omitempty"`
	Options    map[string]string `json:",omitempty"`
	Internal   bool              `json:",omitempty"`
	Attachable bool              `json:",omitempty"`
	IPAM       *network.IPAM     `json:",omitempty"`
	Labels     map[string]string `json:",omitempty"`
}

type renderedObject struct {
	Name   string
	Labels map[string]string `json:",omitempty"`
	Data   string            `json:",omitempty"` // a config's content, as text
}

// Render prints the objects the plan would create, as YAML or JSON (format).
func (e *Engine) Render(p engine.Plan, format string) ([]byte, error) {
	plan, err := planOf(p)
	if err != nil {
		return nil, err
	}
	spec := plan.Spec
	var out rendered
	configs, secrets := map[string]objectRef{}, map[string]objectRef{}
	for _, c := range spec.Configs {
		name := contentName(c.Name, c.Data)
		configs[c.Name] = objectRef{name: name}
		out.Configs = append(out.Configs, renderedObject{Name: name, Labels: c.Labels, Data: string(c.Data)})
	}
	for _, s := range spec.Secrets {
		name := contentName(s.Name, s.Data)
		secrets[s.Name] = objectRef{name: name}
		out.Secrets = append(out.Secrets, renderedObject{Name: name, Labels: s.Labels})
	}
	for _, n := range spec.Networks {
		o := n.Options
		out.Networks = append(out.Networks, renderedNetwork{Name: n.Name, External: n.External, Driver: o.Driver, Options: o.Options,
			Internal: o.Internal, Attachable: o.Attachable, IPAM: o.IPAM, Labels: o.Labels})
	}
	for _, s := range spec.Services {
		refer(&s, configs, secrets)
		out.Services = append(out.Services, s)
	}
	switch format {
	case "yaml":
		return yaml.Marshal(out)
	case "json":
		data, err := json.MarshalIndent(out, "", "  ")
		return append(data, '\n'), err
	}
	return nil, fmt.Errorf("unknown format %q: choose yaml or json", format)
}

// urls are the addresses a stack's services serve: each port published on the nodes, from
// this machine.
func urls(services []swarm.ServiceSpec) []string {
	var out []string
	for _, s := range services {
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
			out = append(out, u+"/")
		}
	}
	sort.Strings(out)
	return out
}

// URLs are where the deployed stack serves, from this machine: each port its services
// publish on the nodes (the proxy's); none when it is not deployed.
func (e *Engine) URLs(ctx context.Context, stack string) ([]string, error) {
	api, err := e.api(ctx)
	if err != nil {
		return nil, err
	}
	services, err := servicesOf(ctx, api, stack)
	if err != nil {
		return nil, err
	}
	specs := make([]swarm.ServiceSpec, 0, len(services))
	for _, svc := range services {
		specs = append(specs, svc.Spec)
	}
	return urls(specs), nil
}
