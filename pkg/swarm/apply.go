// Package swarm is engine.Engine on Docker Swarm: it creates and updates a stack the way
// `docker stack deploy` does (same names and labels, so the docker CLI sees rscale's stacks
// and the other way round), tells how far each service is from running all its replicas,
// healthy, and acts on the deployed stack for scale, ps, logs and down. What is Swarm's own
// stays here: the spec-hash label that makes an unchanged redeploy restart nothing, the
// replicas 'rscale scale' set surviving a redeploy, content-named configs and secrets, and
// the Ramp that starts many replicas a few at a time.
package swarm

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strconv"

	"github.com/docker/docker/api/types/filters"
	"github.com/docker/docker/api/types/swarm"

	"github.com/rscale/rscale/pkg/docker"
	"github.com/rscale/rscale/pkg/engine"
	"github.com/rscale/rscale/pkg/stackname"
)

// LabelSpecHash records, on each service, a hash of the spec rscale last deployed, so a
// redeploy of an unchanged file sends no update and restarts no task. It is the Revision of
// the service's Change.
const LabelSpecHash = "io.rscale.spec-hash"

// LabelFileReplicas records the replicas the stack file asked for at the last deploy: while
// the file keeps asking for that number, a redeploy keeps the count 'rscale scale' set.
const LabelFileReplicas = "io.rscale.file-replicas"

// LabelReplicasTarget records the replicas a deploy or scale is on its way to while Swarm is
// given them a few at a time: a deploy rerun after an interruption (Ctrl-C, a lost
// connection) finds fewer and adds the rest, rather than calling the stack unchanged.
const LabelReplicasTarget = "io.rscale.replicas-target"

// Apply makes the swarm hold the plan: networks, configs, secrets, then services.
func (e *Engine) Apply(ctx context.Context, p engine.Plan, o engine.ApplyOptions) ([]engine.Change, error) {
	plan, err := planOf(p)
	if err != nil {
		return nil, err
	}
	api, err := e.api(ctx)
	if err != nil {
		return nil, err
	}
	return apply(ctx, api, plan.Spec, o)
}

func apply(ctx context.Context, api docker.API, spec *Spec, o engine.ApplyOptions) ([]engine.Change, error) {
	out := o.Progress
	if out == nil {
		out = io.Discard
	}
	if err := ensureNetworks(ctx, api, spec, out); err != nil {
		return nil, err
	}
	configNames, err := ensureConfigs(ctx, api, spec, out)
	if err != nil {
		return nil, err
	}
	secretNames, err := ensureSecrets(ctx, api, spec, out)
	if err != nil {
		return nil, err
	}
	existing, err := servicesOf(ctx, api, spec.Namespace)
	if err != nil {
		return nil, err
	}
	var changes []engine.Change
	wanted := map[string]bool{}
	for _, s := range spec.Services {
		wanted[s.Name] = true
		refer(&s, configNames, secretNames)
		c, err := applyService(ctx, api, s, existing, o.Pacing, out)
		if err != nil {
			return changes, err
		}
		c.Service = stackname.Unscoped(spec.Namespace, s.Name)
		changes = append(changes, c)
	}
	if o.Prune {
		removed, err := prune(ctx, api, spec.Namespace, existing, wanted)
		changes = append(changes, removed...)
		if err != nil {
			return changes, err
		}
	}
	removeUnusedConfigs(ctx, api, spec.Namespace, configNames, existing, out)
	sort.Slice(changes, func(i, j int) bool { return changes[i].Service < changes[j].Service })
	for _, c := range changes {
		fmt.Fprintf(out, "service %s %s\n", stackname.Scoped(spec.Namespace, c.Service), c.Action)
	}
	return changes, nil
}

// applyService creates s, or updates the service of that name in existing unless it already
// carries s's spec hash; pacing caps the replicas it gains at once.
func applyService(ctx context.Context, api docker.API, s swarm.ServiceSpec, existing map[string]swarm.Service, pacing engine.Pacing, out io.Writer) (engine.Change, error) {
	hash, err := specHash(s)
	if err != nil {
		return engine.Change{}, err
	}
	s.Labels = withLabel(s.Labels, LabelSpecHash, hash)
	current, ok := existing[s.Name]
	switch {
	case !ok:
		s.Labels = withLabel(s.Labels, LabelFileReplicas, fileReplicas(s))
		target := startReplicas(&s, 0, pacing)
		if _, err := api.ServiceCreate(ctx, s, swarm.ServiceCreateOptions{}); err != nil {
			return engine.Change{}, fmt.Errorf("creating service %s: %w", s.Name, err)
		}
		return engine.Change{Action: "created", Revision: hash, Replicas: target}, nil
	case current.Spec.Labels[LabelSpecHash] == hash:
		return unchanged(current, hash, out), nil
	}
	if kept, n := keepScaledReplicas(&s, current); kept {
		fmt.Fprintf(out, "service %s keeps its %d replicas from 'rscale scale' (change replicas: in the stack file to set another number)\n", s.Name, n)
	}
	target := startReplicas(&s, currentReplicas(current), pacing)
	if _, err := api.ServiceUpdate(ctx, current.ID, current.Version, s, swarm.ServiceUpdateOptions{}); err != nil {
		return engine.Change{}, fmt.Errorf("updating service %s: %w", s.Name, err)
	}
	return engine.Change{Action: "updated", Revision: hash, Replicas: target}, nil
}

// unchanged is the Change of a service that already carries the plan's spec: nothing to
// update, unless an interrupted ramp left it short of its target, which the wait then adds.
func unchanged(current swarm.Service, hash string, out io.Writer) engine.Change {
	have := currentReplicas(current)
	target, err := strconv.ParseUint(current.Spec.Labels[LabelReplicasTarget], 10, 64)
	if err != nil || target <= have || current.Spec.Mode.Replicated == nil {
		return engine.Change{Action: "unchanged", Revision: hash, Replicas: have}
	}
	fmt.Fprintf(out, "service %s has %d of the %d replicas an interrupted deploy or scale was adding: adding the rest\n", current.Spec.Name, have, target)
	return engine.Change{Action: "resumed", Revision: hash, Replicas: target}
}

// prune removes the services of existing that the stack file no longer has (not in wanted).
func prune(ctx context.Context, api docker.API, namespace string, existing map[string]swarm.Service, wanted map[string]bool) ([]engine.Change, error) {
	var removed []engine.Change
	for name, svc := range existing {
		if wanted[name] {
			continue
		}
		if err := api.ServiceRemove(ctx, svc.ID); err != nil {
			return removed, fmt.Errorf("removing service %s, which the stack file no longer has: %w", name, err)
		}
		removed = append(removed, engine.Change{Service: stackname.Unscoped(namespace, name), Action: "removed"})
	}
	return removed, nil
}

func namespaceFilter(namespace string) filters.Args {
	return filters.NewArgs(filters.Arg("label", LabelNamespace+"="+namespace))
}

func servicesOf(ctx context.Context, api docker.API, namespace string) (map[string]swarm.Service, error) {
	list, err := api.ServiceList(ctx, swarm.ServiceListOptions{Filters: namespaceFilter(namespace)})
	if err != nil {
		// An engine in no swarm holds no stack: nothing is deployed, which is not an error.
		if manager, serr := docker.SwarmManager(ctx, api); serr == nil && !manager {
			return map[string]swarm.Service{}, nil
		}
		return nil, fmt.Errorf("listing the services of stack %s: %w", namespace, err)
	}
	m := make(map[string]swarm.Service, len(list))
	for _, s := range list {
		m[s.Spec.Name] = s
	}
	return m, nil
}

func ensureNetworks(ctx context.Context, api docker.API, spec *Spec, out io.Writer) error {
	have, err := networkNames(ctx, api)
	if err != nil {
		return err
	}
	for _, n := range spec.Networks {
		if have[n.Name] {
			continue
		}
		if n.External {
			return fmt.Errorf("network %s is declared external but does not exist: create it with 'docker network create --driver overlay --attachable %s'", n.Name, n.Name)
		}
		if _, err := api.NetworkCreate(ctx, n.Name, n.Options); err != nil {
			return fmt.Errorf("creating network %s: %w", n.Name, err)
		}
		fmt.Fprintf(out, "network %s created\n", n.Name)
	}
	return nil
}

// contentName gives a config or secret a name that changes with its content: Swarm cannot
// update a config in place, and a new name makes the services using it roll over.
func contentName(name string, data []byte) string {
	sum := sha256.Sum256(data)
	return name + "-" + hex.EncodeToString(sum[:])[:10]
}

// objectRef is the name and ID a service's config or secret reference must carry.
type objectRef struct{ name, id string }

// contentObject is a config or secret of the stack as the file names it, with its content.
type contentObject struct {
	name   string
	data   []byte
	create func(name string) (id string, err error)
}

// ensureContentNamed creates, under content-derived names, the configs or secrets (kind) the
// swarm does not have yet, and returns each one's reference by the name the file gives it.
func ensureContentNamed(kind string, have map[string]string, objects []contentObject, out io.Writer) (map[string]objectRef, error) {
	refs := map[string]objectRef{}
	for _, o := range objects {
		name := contentName(o.name, o.data)
		id, ok := have[name]
		if !ok {
			var err error
			if id, err = o.create(name); err != nil {
				return nil, fmt.Errorf("creating %s %s: %w", kind, name, err)
			}
			fmt.Fprintf(out, "%s %s created\n", kind, name)
		}
		refs[o.name] = objectRef{name, id}
	}
	return refs, nil
}

func ensureConfigs(ctx context.Context, api docker.API, spec *Spec, out io.Writer) (map[string]objectRef, error) {
	list, err := api.ConfigList(ctx, swarm.ConfigListOptions{})
	if err != nil {
		return nil, fmt.Errorf("listing configs: %w", err)
	}
	have := map[string]string{}
	for _, c := range list {
		have[c.Spec.Name] = c.ID
	}
	objects := make([]contentObject, len(spec.Configs))
	for i, c := range spec.Configs {
		objects[i] = contentObject{name: c.Name, data: c.Data, create: func(name string) (string, error) {
			c.Name = name
			resp, err := api.ConfigCreate(ctx, c)
			return resp.ID, err
		}}
	}
	return ensureContentNamed("config", have, objects, out)
}

func ensureSecrets(ctx context.Context, api docker.API, spec *Spec, out io.Writer) (map[string]objectRef, error) {
	if len(spec.Secrets) == 0 {
		return nil, nil
	}
	list, err := api.SecretList(ctx, swarm.SecretListOptions{})
	if err != nil {
		return nil, fmt.Errorf("listing secrets: %w", err)
	}
	have := map[string]string{}
	for _, s := range list {
		have[s.Spec.Name] = s.ID
	}
	objects := make([]contentObject, len(spec.Secrets))
	for i, s := range spec.Secrets {
		objects[i] = contentObject{name: s.Name, data: s.Data, create: func(name string) (string, error) {
			s.Name = name
			resp, err := api.SecretCreate(ctx, s)
			return resp.ID, err
		}}
	}
	return ensureContentNamed("secret", have, objects, out)
}

// removeUnusedConfigs removes the stack's configs that newer content replaced, keeping those
// the services used before this deploy: Swarm needs them to roll back. The next deploy, or
// down, removes those.
func removeUnusedConfigs(ctx context.Context, api docker.API, namespace string, inUse map[string]objectRef, before map[string]swarm.Service, out io.Writer) {
	list, err := api.ConfigList(ctx, swarm.ConfigListOptions{Filters: namespaceFilter(namespace)})
	if err != nil {
		return
	}
	keep := map[string]bool{}
	for _, r := range inUse {
		keep[r.id] = true
	}
	for _, svc := range before {
		if cs := svc.Spec.TaskTemplate.ContainerSpec; cs != nil {
			for _, c := range cs.Configs {
				keep[c.ConfigID] = true
			}
		}
	}
	for _, c := range list {
		if !keep[c.ID] && api.ConfigRemove(ctx, c.ID) == nil {
			fmt.Fprintf(out, "config %s removed (replaced)\n", c.Spec.Name)
		}
	}
}

// refer points a service's config and secret references at what ensureConfigs and ensureSecrets made.
func refer(s *swarm.ServiceSpec, configs, secrets map[string]objectRef) {
	cs := s.TaskTemplate.ContainerSpec
	if cs == nil {
		return
	}
	if len(cs.Configs) > 0 {
		refs := make([]*swarm.ConfigReference, len(cs.Configs))
		for i, c := range cs.Configs {
			r := *c
			if got, ok := configs[c.ConfigName]; ok {
				r.ConfigName, r.ConfigID = got.name, got.id
			}
			refs[i] = &r
		}
		copied := *cs
		copied.Configs = refs
		cs = &copied
	}
	if len(cs.Secrets) > 0 {
		refs := make([]*swarm.SecretReference, len(cs.Secrets))
		for i, sec := range cs.Secrets {
			r := *sec
			if got, ok := secrets[sec.SecretName]; ok {
				r.SecretName, r.SecretID = got.name, got.id
			}
			refs[i] = &r
		}
		copied := *cs
		copied.Secrets = refs
		cs = &copied
	}
	s.TaskTemplate.ContainerSpec = cs
}

// startReplicas caps the replicas s asks for as pacing says (nil: no cap), and returns the
// number it is to reach.
func startReplicas(s *swarm.ServiceSpec, current uint64, pacing engine.Pacing) uint64 {
	r := s.Mode.Replicated
	if r == nil || r.Replicas == nil {
		return 0
	}
	wanted := *r.Replicas
	s.Labels = withLabel(s.Labels, LabelReplicasTarget, strconv.FormatUint(wanted, 10))
	if pacing == nil {
		return wanted
	}
	if first := pacing.First(current, wanted); first != wanted {
		mode := *r
		mode.Replicas = &first
		s.Mode.Replicated = &mode
	}
	return wanted
}

func fileReplicas(s swarm.ServiceSpec) string {
	if r := s.Mode.Replicated; r != nil && r.Replicas != nil {
		return strconv.FormatUint(*r.Replicas, 10)
	}
	return ""
}

// keepScaledReplicas gives s the live replica count of current when the stack file still
// asks for what it asked at the last deploy: 'rscale scale model_server=100' then a deploy of
// new code must not drop back to the file's 2 replicas. It records the file's number either way.
func keepScaledReplicas(s *swarm.ServiceSpec, current swarm.Service) (bool, uint64) {
	want := fileReplicas(*s)
	s.Labels = withLabel(s.Labels, LabelFileReplicas, want)
	live := current.Spec.Mode.Replicated
	if want == "" || live == nil || live.Replicas == nil || current.Spec.Labels[LabelFileReplicas] != want {
		return false, 0
	}
	if strconv.FormatUint(*live.Replicas, 10) == want {
		return false, 0
	}
	n := *live.Replicas
	mode := *s.Mode.Replicated
	mode.Replicas = &n
	s.Mode.Replicated = &mode
	return true, n
}

func specHash(s swarm.ServiceSpec) (string, error) {
	b, err := json.Marshal(s)
	if err != nil {
		return "", fmt.Errorf("hashing the spec of %s: %w", s.Name, err)
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:16]), nil
}

func withLabel(labels map[string]string, key, value string) map[string]string {
	out := make(map[string]string, len(labels)+1)
	for k, v := range labels {
		out[k] = v
	}
	out[key] = value
	return out
}
