package deploy

import (
	"context"
	"fmt"
	"io"
	"reflect"
	"strings"

	"github.com/docker/docker/api/types/build"
	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/filters"
	"github.com/docker/docker/api/types/image"
	"github.com/docker/docker/api/types/network"
	"github.com/docker/docker/api/types/swarm"
	"github.com/docker/docker/api/types/system"
)

// fakeEngine keeps services, networks and configs in memory and records the calls that change them.
type fakeEngine struct {
	info     system.Info
	services map[string]swarm.Service // by ID
	networks map[string]network.Summary
	configs  map[string]swarm.Config
	tasks    []swarm.Task
	nodes    []swarm.Node
	// pushStream is what the engine streams back for an image push; "" fails the push.
	pushStream string
	calls      []string
	nextID     int
	// converge makes TaskList report, for each service, its replicas all running on its
	// current spec, as a swarm does once it has caught up.
	converge bool
}

func newFakeEngine() *fakeEngine {
	f := &fakeEngine{services: map[string]swarm.Service{}, networks: map[string]network.Summary{}, configs: map[string]swarm.Config{}}
	f.info.Swarm.LocalNodeState = swarm.LocalNodeStateActive
	f.info.Swarm.ControlAvailable = true
	return f
}

func (f *fakeEngine) id() string {
	f.nextID++
	return fmt.Sprintf("id%d", f.nextID)
}

func labelMatches(args filters.Args, labels map[string]string) bool {
	for _, l := range args.Get("label") {
		k, v, _ := strings.Cut(l, "=")
		if labels[k] != v {
			return false
		}
	}
	return true
}

func (f *fakeEngine) Info(context.Context) (system.Info, error) { return f.info, nil }
func (f *fakeEngine) SwarmInit(context.Context, swarm.InitRequest) (string, error) {
	f.calls = append(f.calls, "swarm init")
	f.info.Swarm.LocalNodeState = swarm.LocalNodeStateActive
	f.info.Swarm.ControlAvailable = true
	return "node", nil
}
func (f *fakeEngine) ImageTag(_ context.Context, image, ref string) error {
	f.calls = append(f.calls, "tag "+ref)
	return nil
}
func (f *fakeEngine) ImageBuild(context.Context, io.Reader, build.ImageBuildOptions) (build.ImageBuildResponse, error) {
	return build.ImageBuildResponse{}, fmt.Errorf("no builds in the fake")
}
func (f *fakeEngine) ImagePush(_ context.Context, ref string, _ image.PushOptions) (io.ReadCloser, error) {
	f.calls = append(f.calls, "push "+ref)
	if f.pushStream == "" {
		return nil, fmt.Errorf("no registry in the fake")
	}
	return io.NopCloser(strings.NewReader(f.pushStream)), nil
}
func (f *fakeEngine) NodeList(context.Context, swarm.NodeListOptions) ([]swarm.Node, error) {
	return f.nodes, nil
}
func (f *fakeEngine) ServiceList(_ context.Context, o swarm.ServiceListOptions) ([]swarm.Service, error) {
	var out []swarm.Service
	for _, s := range f.services {
		if labelMatches(o.Filters, s.Spec.Labels) {
			out = append(out, s)
		}
	}
	return out, nil
}
func (f *fakeEngine) ServiceCreate(_ context.Context, spec swarm.ServiceSpec, _ swarm.ServiceCreateOptions) (swarm.ServiceCreateResponse, error) {
	id := f.id()
	f.services[id] = swarm.Service{ID: id, Spec: spec, Meta: swarm.Meta{Version: swarm.Version{Index: 1}}}
	f.calls = append(f.calls, "create "+spec.Name)
	return swarm.ServiceCreateResponse{ID: id}, nil
}
func (f *fakeEngine) ServiceInspectWithRaw(_ context.Context, idOrName string, _ swarm.ServiceInspectOptions) (swarm.Service, []byte, error) {
	for _, s := range f.services {
		if s.ID == idOrName || s.Spec.Name == idOrName {
			return s, nil, nil
		}
	}
	return swarm.Service{}, nil, fmt.Errorf("service %s not found", idOrName)
}
func (f *fakeEngine) ServiceUpdate(_ context.Context, id string, v swarm.Version, spec swarm.ServiceSpec, _ swarm.ServiceUpdateOptions) (swarm.ServiceUpdateResponse, error) {
	s, ok := f.services[id]
	if !ok || s.Version != v {
		return swarm.ServiceUpdateResponse{}, fmt.Errorf("update out of sequence")
	}
	s.Spec, s.Version.Index = spec, v.Index+1
	f.services[id] = s
	call := "update " + spec.Name
	if r := spec.Mode.Replicated; r != nil && r.Replicas != nil {
		call += fmt.Sprintf(" to %d", *r.Replicas)
	}
	f.calls = append(f.calls, call)
	return swarm.ServiceUpdateResponse{}, nil
}
func (f *fakeEngine) ServiceRemove(_ context.Context, id string) error {
	f.calls = append(f.calls, "remove "+f.services[id].Spec.Name)
	delete(f.services, id)
	return nil
}
func (f *fakeEngine) ServiceLogs(context.Context, string, container.LogsOptions) (io.ReadCloser, error) {
	return nil, fmt.Errorf("no logs in the fake")
}
func (f *fakeEngine) TaskList(_ context.Context, o swarm.TaskListOptions) ([]swarm.Task, error) {
	var out []swarm.Task
	tasks := f.tasks
	if f.converge {
		tasks = nil
		for _, svc := range f.services {
			for slot := 1; slot <= int(*svc.Spec.Mode.Replicated.Replicas); slot++ {
				tasks = append(tasks, swarm.Task{ServiceID: svc.ID, Slot: slot, DesiredState: swarm.TaskStateRunning,
					Spec: svc.Spec.TaskTemplate, Status: swarm.TaskStatus{State: swarm.TaskStateRunning}})
			}
		}
	}
	for _, t := range tasks {
		if ids := o.Filters.Get("service"); len(ids) > 0 {
			// As the engine does: a filter naming a service that does not exist is an error.
			if _, ok := f.services[ids[0]]; !ok {
				return nil, fmt.Errorf("service %s not found", ids[0])
			}
			if ids[0] != t.ServiceID {
				continue
			}
		}
		// As the engine does: a task is up to date when its spec is the service's task template.
		if o.Filters.Contains("_up-to-date") && !reflect.DeepEqual(t.Spec, f.services[t.ServiceID].Spec.TaskTemplate) {
			continue
		}
		out = append(out, t)
	}
	return out, nil
}
func (f *fakeEngine) NetworkList(_ context.Context, o network.ListOptions) ([]network.Summary, error) {
	var out []network.Summary
	for _, n := range f.networks {
		if labelMatches(o.Filters, n.Labels) {
			out = append(out, n)
		}
	}
	return out, nil
}
func (f *fakeEngine) NetworkCreate(_ context.Context, name string, o network.CreateOptions) (network.CreateResponse, error) {
	id := f.id()
	f.networks[id] = network.Summary{ID: id, Name: name, Labels: o.Labels}
	f.calls = append(f.calls, "create network "+name)
	return network.CreateResponse{ID: id}, nil
}
func (f *fakeEngine) NetworkRemove(_ context.Context, id string) error {
	f.calls = append(f.calls, "remove network "+f.networks[id].Name)
	delete(f.networks, id)
	return nil
}
func (f *fakeEngine) ConfigList(_ context.Context, o swarm.ConfigListOptions) ([]swarm.Config, error) {
	var out []swarm.Config
	for _, c := range f.configs {
		if labelMatches(o.Filters, c.Spec.Labels) {
			out = append(out, c)
		}
	}
	return out, nil
}
func (f *fakeEngine) ConfigCreate(_ context.Context, spec swarm.ConfigSpec) (swarm.ConfigCreateResponse, error) {
	id := f.id()
	f.configs[id] = swarm.Config{ID: id, Spec: spec}
	f.calls = append(f.calls, "create config "+spec.Name)
	return swarm.ConfigCreateResponse{ID: id}, nil
}
func (f *fakeEngine) ConfigRemove(_ context.Context, id string) error {
	f.calls = append(f.calls, "remove config "+f.configs[id].Spec.Name)
	delete(f.configs, id)
	return nil
}
func (f *fakeEngine) SecretList(context.Context, swarm.SecretListOptions) ([]swarm.Secret, error) {
	return nil, nil
}
func (f *fakeEngine) SecretCreate(context.Context, swarm.SecretSpec) (swarm.SecretCreateResponse, error) {
	return swarm.SecretCreateResponse{}, fmt.Errorf("no secrets in the fake")
}
func (f *fakeEngine) SecretRemove(context.Context, string) error { return nil }
func (f *fakeEngine) Close() error                               { return nil }
