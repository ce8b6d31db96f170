// Package dockertest is a fake Docker engine for tests: it keeps services, networks, configs
// and tasks in memory, records the calls that change them, and can be saved to a file and
// loaded again, so that a series of rscale processes (a testscript) shares one engine.
package dockertest

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"reflect"
	"sort"
	"strings"
	"sync"

	"github.com/docker/docker/api/types"
	"github.com/docker/docker/api/types/build"
	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/filters"
	"github.com/docker/docker/api/types/image"
	"github.com/docker/docker/api/types/network"
	"github.com/docker/docker/api/types/swarm"
	"github.com/docker/docker/api/types/system"
	"github.com/docker/docker/pkg/stdcopy"

	"github.com/rscale/rscale/pkg/docker"
)

var _ docker.API = (*Engine)(nil)

// Engine is the fake. Its fields are what it holds; tests set and read them directly.
type Engine struct {
	mu         sync.Mutex
	SystemInfo system.Info                `json:"info"`
	Services   map[string]swarm.Service   `json:"services"` // by ID
	Networks   map[string]network.Summary `json:"networks"` // by ID
	Configs    map[string]swarm.Config    `json:"configs"`  // by ID
	Tasks      []swarm.Task               `json:"tasks"`
	Calls      []string                   `json:"calls"` // the calls that changed something, such as "update demo_api to 3"
	NextID     int                        `json:"next_id"`
	// Converge makes TaskList report, for each service, its replicas all running on its
	// current spec, as a swarm does once it has caught up; Tasks is then not used.
	Converge bool `json:"converge"`
	// Fail makes the named method (such as "ServiceUpdate") return an error with this text.
	Fail map[string]string `json:"fail,omitempty"`
	// LogLines is what every replica of a service (by full name) logs; by default one line,
	// "started".
	LogLines map[string][]string `json:"log_lines,omitempty"`
	// Nodes is what NodeList answers: none by default, which rscale reads as a one-node swarm.
	Nodes []swarm.Node `json:"nodes,omitempty"`
	// PushRefused is the registry's message in the stream of every image push; "" lets pushes
	// succeed, each with a digest made from the reference.
	PushRefused string `json:"push_refused,omitempty"`
}

// New returns an engine that manages a one-node swarm and holds nothing yet.
func New() *Engine {
	f := &Engine{Services: map[string]swarm.Service{}, Networks: map[string]network.Summary{}, Configs: map[string]swarm.Config{}}
	f.SystemInfo.NCPU = 2
	f.SystemInfo.Swarm.LocalNodeState = swarm.LocalNodeStateActive
	f.SystemInfo.Swarm.ControlAvailable = true
	return f
}

// Load reads an engine Save wrote; a file that does not exist yet gives New().
func Load(path string) (*Engine, error) {
	data, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return New(), nil
	}
	if err != nil {
		return nil, err
	}
	f := New()
	if err := json.Unmarshal(data, f); err != nil {
		return nil, fmt.Errorf("fake engine %s: %w", path, err)
	}
	return f, nil
}

// Save writes the engine's state to path, for Load.
func (f *Engine) Save(path string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	data, err := json.MarshalIndent(f, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(path, data, 0o644)
}

func (f *Engine) id() string {
	f.NextID++
	return fmt.Sprintf("id%d", f.NextID)
}

func (f *Engine) failure(method string) error {
	if msg, ok := f.Fail[method]; ok {
		return errors.New(msg)
	}
	return nil
}

func (f *Engine) record(call string) { f.Calls = append(f.Calls, call) }

func labelMatches(args filters.Args, labels map[string]string) bool {
	for _, l := range args.Get("label") {
		k, v, _ := strings.Cut(l, "=")
		if labels[k] != v {
			return false
		}
	}
	return true
}

func (f *Engine) Info(context.Context) (system.Info, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.SystemInfo, f.failure("Info")
}

// ServerVersion answers as Docker Engine 20.10.24 does.
func (f *Engine) ServerVersion(context.Context) (types.Version, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return types.Version{Version: "20.10.24", APIVersion: "1.41", MinAPIVersion: "1.12", Os: "linux", Arch: "amd64"}, f.failure("ServerVersion")
}

func (f *Engine) SwarmInit(context.Context, swarm.InitRequest) (string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.failure("SwarmInit"); err != nil {
		return "", err
	}
	f.record("swarm init")
	f.SystemInfo.Swarm.LocalNodeState = swarm.LocalNodeStateActive
	f.SystemInfo.Swarm.ControlAvailable = true
	return "node", nil
}

func (f *Engine) ImageTag(_ context.Context, image, ref string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.failure("ImageTag"); err != nil {
		return err
	}
	f.record("tag " + ref)
	return nil
}

// ImageBuild reads the build context and answers as the classic builder does, with one step
// and an image ID made from the context, so the same context gives the same ID.
func (f *Engine) ImageBuild(_ context.Context, buildContext io.Reader, o build.ImageBuildOptions) (build.ImageBuildResponse, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.failure("ImageBuild"); err != nil {
		return build.ImageBuildResponse{}, err
	}
	h := sha256.New()
	if _, err := io.Copy(h, buildContext); err != nil {
		return build.ImageBuildResponse{}, err
	}
	id := "sha256:" + hex.EncodeToString(h.Sum(nil))
	f.record("build " + strings.Join(o.Tags, ","))
	var body bytes.Buffer
	enc := json.NewEncoder(&body)
	enc.Encode(map[string]string{"stream": "Step 1/1 : FROM scratch\n"})
	enc.Encode(map[string]any{"aux": map[string]string{"ID": id}})
	return build.ImageBuildResponse{Body: io.NopCloser(&body)}, nil
}

// ImagePush answers as the engine does: a line per layer, then the digest (or the
// registry's refusal, with PushRefused).
func (f *Engine) ImagePush(_ context.Context, ref string, _ image.PushOptions) (io.ReadCloser, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.failure("ImagePush"); err != nil {
		return nil, err
	}
	f.record("push " + ref)
	var body bytes.Buffer
	enc := json.NewEncoder(&body)
	enc.Encode(map[string]string{"status": "Preparing", "id": "layer1"})
	if f.PushRefused != "" {
		enc.Encode(map[string]any{"error": f.PushRefused, "errorDetail": map[string]string{"message": f.PushRefused}})
		return io.NopCloser(&body), nil
	}
	sum := sha256.Sum256([]byte(ref))
	enc.Encode(map[string]string{"status": "Pushed", "id": "layer1"})
	enc.Encode(map[string]any{"aux": map[string]any{"Tag": ref[strings.LastIndex(ref, ":")+1:], "Digest": "sha256:" + hex.EncodeToString(sum[:]), "Size": 1}})
	return io.NopCloser(&body), nil
}

func (f *Engine) NodeList(context.Context, swarm.NodeListOptions) ([]swarm.Node, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.Nodes, f.failure("NodeList")
}

func (f *Engine) ServiceList(_ context.Context, o swarm.ServiceListOptions) ([]swarm.Service, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.failure("ServiceList"); err != nil {
		return nil, err
	}
	var out []swarm.Service
	for _, s := range f.Services {
		if labelMatches(o.Filters, s.Spec.Labels) {
			out = append(out, s)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Spec.Name < out[j].Spec.Name })
	return out, nil
}

func (f *Engine) ServiceCreate(_ context.Context, spec swarm.ServiceSpec, _ swarm.ServiceCreateOptions) (swarm.ServiceCreateResponse, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.failure("ServiceCreate"); err != nil {
		return swarm.ServiceCreateResponse{}, err
	}
	id := f.id()
	f.Services[id] = swarm.Service{ID: id, Spec: spec, Meta: swarm.Meta{Version: swarm.Version{Index: 1}}}
	f.record("create " + spec.Name)
	return swarm.ServiceCreateResponse{ID: id}, nil
}

func (f *Engine) ServiceInspectWithRaw(_ context.Context, idOrName string, _ swarm.ServiceInspectOptions) (swarm.Service, []byte, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, s := range f.Services {
		if s.ID == idOrName || s.Spec.Name == idOrName {
			return s, nil, nil
		}
	}
	return swarm.Service{}, nil, fmt.Errorf("service %s not found", idOrName)
}

func (f *Engine) ServiceUpdate(_ context.Context, id string, v swarm.Version, spec swarm.ServiceSpec, _ swarm.ServiceUpdateOptions) (swarm.ServiceUpdateResponse, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.failure("ServiceUpdate"); err != nil {
		return swarm.ServiceUpdateResponse{}, err
	}
	s, ok := f.Services[id]
	if !ok || s.Version != v {
		return swarm.ServiceUpdateResponse{}, fmt.Errorf("update out of sequence")
	}
	s.Spec, s.Version.Index = spec, v.Index+1
	f.Services[id] = s
	call := "update " + spec.Name
	if r := spec.Mode.Replicated; r != nil && r.Replicas != nil {
		call += fmt.Sprintf(" to %d", *r.Replicas)
	}
	f.record(call)
	return swarm.ServiceUpdateResponse{}, nil
}

func (f *Engine) ServiceRemove(_ context.Context, id string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.failure("ServiceRemove"); err != nil {
		return err
	}
	f.record("remove " + f.Services[id].Spec.Name)
	delete(f.Services, id)
	return nil
}

// ServiceLogs sends, for each task of the service, its LogLines, multiplexed as the engine
// does and with the details (task ID) rscale asks for.
func (f *Engine) ServiceLogs(_ context.Context, id string, o container.LogsOptions) (io.ReadCloser, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.failure("ServiceLogs"); err != nil {
		return nil, err
	}
	svc, ok := f.Services[id]
	if !ok {
		return nil, fmt.Errorf("service %s not found", id)
	}
	lines, ok := f.LogLines[svc.Spec.Name]
	if !ok {
		lines = []string{"started"}
	}
	var body bytes.Buffer
	w := stdcopy.NewStdWriter(&body, stdcopy.Stdout)
	for _, t := range f.tasksLocked() {
		if t.ServiceID != id {
			continue
		}
		for _, line := range lines {
			details := ""
			if o.Details {
				details = fmt.Sprintf("com.docker.swarm.node.id=node,com.docker.swarm.service.id=%s,com.docker.swarm.task.id=%s ", id, t.ID)
			}
			fmt.Fprintf(w, "%s%s\n", details, line)
		}
	}
	return io.NopCloser(&body), nil
}

// tasksLocked is every task the engine has now: Tasks, or with Converge, every replica of
// every service running on its current spec.
func (f *Engine) tasksLocked() []swarm.Task {
	if !f.Converge {
		return f.Tasks
	}
	var tasks []swarm.Task
	for _, svc := range f.Services {
		if svc.Spec.Mode.Replicated == nil || svc.Spec.Mode.Replicated.Replicas == nil {
			continue
		}
		for slot := 1; slot <= int(*svc.Spec.Mode.Replicated.Replicas); slot++ {
			tasks = append(tasks, swarm.Task{ID: fmt.Sprintf("%s-task%d", svc.ID, slot), ServiceID: svc.ID, Slot: slot, DesiredState: swarm.TaskStateRunning,
				Spec: svc.Spec.TaskTemplate, Status: swarm.TaskStatus{State: swarm.TaskStateRunning}})
		}
	}
	sort.Slice(tasks, func(i, j int) bool { return tasks[i].ID < tasks[j].ID })
	return tasks
}

func (f *Engine) TaskList(_ context.Context, o swarm.TaskListOptions) ([]swarm.Task, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.failure("TaskList"); err != nil {
		return nil, err
	}
	var out []swarm.Task
	for _, t := range f.tasksLocked() {
		if ids := o.Filters.Get("service"); len(ids) > 0 {
			// As the engine does: a filter naming a service that does not exist is an error.
			if _, ok := f.Services[ids[0]]; !ok {
				return nil, fmt.Errorf("service %s not found", ids[0])
			}
			if ids[0] != t.ServiceID {
				continue
			}
		}
		// As the engine does: a task is up to date when its spec is the service's task template.
		if o.Filters.Contains("_up-to-date") && !reflect.DeepEqual(t.Spec, f.Services[t.ServiceID].Spec.TaskTemplate) {
			continue
		}
		out = append(out, t)
	}
	return out, nil
}

func (f *Engine) NetworkList(_ context.Context, o network.ListOptions) ([]network.Summary, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.failure("NetworkList"); err != nil {
		return nil, err
	}
	var out []network.Summary
	for _, n := range f.Networks {
		if labelMatches(o.Filters, n.Labels) {
			out = append(out, n)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

func (f *Engine) NetworkCreate(_ context.Context, name string, o network.CreateOptions) (network.CreateResponse, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.failure("NetworkCreate"); err != nil {
		return network.CreateResponse{}, err
	}
	id := f.id()
	f.Networks[id] = network.Summary{ID: id, Name: name, Labels: o.Labels}
	f.record("create network " + name)
	return network.CreateResponse{ID: id}, nil
}

func (f *Engine) NetworkRemove(_ context.Context, id string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.failure("NetworkRemove"); err != nil {
		return err
	}
	f.record("remove network " + f.Networks[id].Name)
	delete(f.Networks, id)
	return nil
}

func (f *Engine) ConfigList(_ context.Context, o swarm.ConfigListOptions) ([]swarm.Config, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.failure("ConfigList"); err != nil {
		return nil, err
	}
	var out []swarm.Config
	for _, c := range f.Configs {
		if labelMatches(o.Filters, c.Spec.Labels) {
			out = append(out, c)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Spec.Name < out[j].Spec.Name })
	return out, nil
}

func (f *Engine) ConfigCreate(_ context.Context, spec swarm.ConfigSpec) (swarm.ConfigCreateResponse, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.failure("ConfigCreate"); err != nil {
		return swarm.ConfigCreateResponse{}, err
	}
	id := f.id()
	f.Configs[id] = swarm.Config{ID: id, Spec: spec}
	f.record("create config " + spec.Name)
	return swarm.ConfigCreateResponse{ID: id}, nil
}

func (f *Engine) ConfigRemove(_ context.Context, id string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.failure("ConfigRemove"); err != nil {
		return err
	}
	f.record("remove config " + f.Configs[id].Spec.Name)
	delete(f.Configs, id)
	return nil
}

func (f *Engine) SecretList(context.Context, swarm.SecretListOptions) ([]swarm.Secret, error) {
	return nil, nil
}

func (f *Engine) SecretCreate(context.Context, swarm.SecretSpec) (swarm.SecretCreateResponse, error) {
	return swarm.SecretCreateResponse{}, fmt.Errorf("no secrets in the fake")
}

func (f *Engine) SecretRemove(context.Context, string) error { return nil }

func (f *Engine) Close() error { return nil }
