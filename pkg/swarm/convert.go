package swarm

import (
	"fmt"
	"os"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/compose-spec/compose-go/v2/types"
	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/mount"
	"github.com/docker/docker/api/types/network"
	"github.com/docker/docker/api/types/swarm"

	"github.com/rscale/rscale/pkg/stackname"
)

// Labels docker stack deploy puts on what it creates.
const (
	LabelNamespace = "com.docker.stack.namespace"
	LabelImage     = "com.docker.stack.image"
)

// Spec is everything a stack deploy creates, as Docker Engine API objects.
type Spec struct {
	Namespace string
	Services  []swarm.ServiceSpec // sorted by name
	Networks  []NetworkSpec       // only the networks services use, sorted by name
	Configs   []swarm.ConfigSpec  // sorted by name; Data holds the content
	Secrets   []swarm.SecretSpec  // sorted by name; Data holds the content
}

// NetworkSpec is a network of the stack.
type NetworkSpec struct {
	Name     string // "<stack>_<key>", the name: given, or an external network's own name
	External bool
	Options  network.CreateOptions
}

// Convert turns a loaded project into the specs docker stack deploy would create.
func Convert(p *types.Project, namespace string) (*Spec, error) {
	c := converter{p: p, ns: namespace}
	spec := &Spec{Namespace: namespace}
	used := map[string]bool{}
	for _, name := range p.ServiceNames() {
		svc, err := c.service(p.Services[name], used)
		if err != nil {
			return nil, fmt.Errorf("service %s: %w", name, err)
		}
		spec.Services = append(spec.Services, svc)
	}
	var err error
	if spec.Networks, err = c.networks(used); err != nil {
		return nil, err
	}
	if spec.Configs, err = c.configs(); err != nil {
		return nil, err
	}
	if spec.Secrets, err = c.secrets(); err != nil {
		return nil, err
	}
	return spec, nil
}

type converter struct {
	p  *types.Project
	ns string
}

func (c converter) scoped(name string) string { return stackname.Scoped(c.ns, name) }

func (c converter) labels(extra map[string]string) map[string]string {
	out := map[string]string{LabelNamespace: c.ns}
	for k, v := range extra {
		out[k] = v
	}
	return out
}

func (c converter) service(s types.ServiceConfig, usedNetworks map[string]bool) (swarm.ServiceSpec, error) {
	if s.NetworkMode != "" {
		return swarm.ServiceSpec{}, fmt.Errorf("network_mode %q is not available on Swarm: remove it and use networks:", s.NetworkMode)
	}
	deploy := s.Deploy
	if deploy == nil {
		deploy = &types.DeployConfig{}
	}
	serviceLabels := c.labels(deploy.Labels)
	serviceLabels[LabelImage] = s.Image

	cs, err := c.container(s)
	if err != nil {
		return swarm.ServiceSpec{}, err
	}
	attachments, err := c.attachments(s, usedNetworks)
	if err != nil {
		return swarm.ServiceSpec{}, err
	}
	endpoint, err := endpointSpec(deploy.EndpointMode, s.Ports)
	if err != nil {
		return swarm.ServiceSpec{}, err
	}
	mode, err := serviceMode(deploy)
	if err != nil {
		return swarm.ServiceSpec{}, err
	}
	restart, err := restartPolicy(s.Restart, deploy.RestartPolicy)
	if err != nil {
		return swarm.ServiceSpec{}, err
	}
	spec := swarm.ServiceSpec{
		Annotations: swarm.Annotations{Name: c.scoped(s.Name), Labels: serviceLabels},
		TaskTemplate: swarm.TaskSpec{
			ContainerSpec: cs,
			RestartPolicy: restart,
			Resources:     resources(deploy.Resources),
			Placement:     placement(deploy.Placement),
			Networks:      attachments,
			LogDriver:     logDriver(s.Logging),
		},
		Mode:           mode,
		UpdateConfig:   updateConfig(deploy.UpdateConfig),
		RollbackConfig: updateConfig(deploy.RollbackConfig),
		EndpointSpec:   endpoint,
	}
	return spec, nil
}

func (c converter) container(s types.ServiceConfig) (*swarm.ContainerSpec, error) {
	mounts, err := c.mounts(s.Volumes)
	if err != nil {
		return nil, err
	}
	configs, err := c.configRefs(s.Configs)
	if err != nil {
		return nil, err
	}
	secrets, err := c.secretRefs(s.Secrets)
	if err != nil {
		return nil, err
	}
	cs := &swarm.ContainerSpec{
		Image:          s.Image,
		Command:        s.Entrypoint,
		Args:           s.Command,
		Hostname:       s.Hostname,
		Env:            environment(s.Environment),
		Labels:         c.labels(s.Labels),
		Dir:            s.WorkingDir,
		User:           s.User,
		Mounts:         mounts,
		StopSignal:     s.StopSignal,
		TTY:            s.Tty,
		OpenStdin:      s.StdinOpen,
		ReadOnly:       s.ReadOnly,
		Init:           s.Init,
		Configs:        configs,
		Secrets:        secrets,
		Healthcheck:    healthcheck(s.HealthCheck),
		Sysctls:        s.Sysctls,
		CapabilityAdd:  s.CapAdd,
		CapabilityDrop: s.CapDrop,
		Ulimits:        ulimits(s.Ulimits),
	}
	if len(s.ExtraHosts) > 0 {
		// Swarm takes "IP hostname", the order of /etc/hosts.
		for _, h := range s.ExtraHosts.AsList(" ") {
			host, ip, _ := strings.Cut(h, " ")
			cs.Hosts = append(cs.Hosts, ip+" "+host)
		}
		sort.Strings(cs.Hosts)
	}
	if len(s.DNS)+len(s.DNSSearch)+len(s.DNSOpts) > 0 {
		cs.DNSConfig = &swarm.DNSConfig{Nameservers: s.DNS, Search: s.DNSSearch, Options: s.DNSOpts}
	}
	if s.StopGracePeriod != nil {
		d := time.Duration(*s.StopGracePeriod)
		cs.StopGracePeriod = &d
	}
	return cs, nil
}

func environment(env types.MappingWithEquals) []string {
	var out []string
	for k, v := range env {
		if v != nil {
			out = append(out, k+"="+*v)
		}
	}
	sort.Strings(out)
	return out
}

func healthcheck(h *types.HealthCheckConfig) *container.HealthConfig {
	if h == nil {
		return nil
	}
	if h.Disable {
		return &container.HealthConfig{Test: []string{"NONE"}}
	}
	hc := &container.HealthConfig{Test: h.Test}
	if h.Interval != nil {
		hc.Interval = time.Duration(*h.Interval)
	}
	if h.Timeout != nil {
		hc.Timeout = time.Duration(*h.Timeout)
	}
	if h.StartPeriod != nil {
		hc.StartPeriod = time.Duration(*h.StartPeriod)
	}
	if h.StartInterval != nil {
		hc.StartInterval = time.Duration(*h.StartInterval)
	}
	if h.Retries != nil {
		hc.Retries = int(*h.Retries)
	}
	return hc
}

func (c converter) mounts(volumes []types.ServiceVolumeConfig) ([]mount.Mount, error) {
	var out []mount.Mount
	for _, v := range volumes {
		m := mount.Mount{Target: v.Target, ReadOnly: v.ReadOnly, Source: v.Source}
		switch v.Type {
		case types.VolumeTypeBind:
			m.Type = mount.TypeBind
			if v.Bind != nil && v.Bind.Propagation != "" {
				m.BindOptions = &mount.BindOptions{Propagation: mount.Propagation(v.Bind.Propagation)}
			}
		case types.VolumeTypeVolume:
			m.Type = mount.TypeVolume
			if v.Source != "" {
				if top, ok := c.p.Volumes[v.Source]; ok && top.Name != "" {
					m.Source = top.Name
				} else if ok && bool(top.External) {
					m.Source = v.Source
				} else {
					m.Source = c.scoped(v.Source)
				}
				m.VolumeOptions = &mount.VolumeOptions{Labels: c.labels(nil)}
				if v.Volume != nil {
					m.VolumeOptions.NoCopy = v.Volume.NoCopy
				}
			}
		case types.VolumeTypeTmpfs:
			m.Type = mount.TypeTmpfs
			m.Source = ""
			if v.Tmpfs != nil {
				m.TmpfsOptions = &mount.TmpfsOptions{SizeBytes: int64(v.Tmpfs.Size)}
			}
		default:
			return nil, fmt.Errorf("volume %s: type %q is not available on Swarm: use bind, volume or tmpfs", v.Target, v.Type)
		}
		out = append(out, m)
	}
	return out, nil
}

func fileMode(m *types.FileMode) os.FileMode {
	if m == nil {
		return 0o444
	}
	return os.FileMode(*m)
}

func orZero(s string) string {
	if s == "" {
		return "0"
	}
	return s
}

func (c converter) configRefs(refs []types.ServiceConfigObjConfig) ([]*swarm.ConfigReference, error) {
	var out []*swarm.ConfigReference
	for _, r := range refs {
		top, ok := c.p.Configs[r.Source]
		if !ok {
			return nil, fmt.Errorf("config %q is not declared under the top-level configs:", r.Source)
		}
		target := r.Target
		if target == "" {
			target = "/" + r.Source
		}
		out = append(out, &swarm.ConfigReference{
			ConfigName: c.objectName(r.Source, top.Name, bool(top.External)),
			File:       &swarm.ConfigReferenceFileTarget{Name: target, UID: orZero(r.UID), GID: orZero(r.GID), Mode: fileMode(r.Mode)},
		})
	}
	return out, nil
}

func (c converter) secretRefs(refs []types.ServiceSecretConfig) ([]*swarm.SecretReference, error) {
	var out []*swarm.SecretReference
	for _, r := range refs {
		top, ok := c.p.Secrets[r.Source]
		if !ok {
			return nil, fmt.Errorf("secret %q is not declared under the top-level secrets:", r.Source)
		}
		target := r.Target
		if target == "" {
			target = r.Source
		}
		out = append(out, &swarm.SecretReference{
			SecretName: c.objectName(r.Source, top.Name, bool(top.External)),
			File:       &swarm.SecretReferenceFileTarget{Name: target, UID: orZero(r.UID), GID: orZero(r.GID), Mode: fileMode(r.Mode)},
		})
	}
	return out, nil
}

// objectName is a config's or secret's name on the swarm: its name: if set, the key for an
// external one, else <stack>_<key>. compose-go fills an unset name: with <project>_<key>,
// which is not a name the user chose.
func (c converter) objectName(key, name string, external bool) string {
	if !external && name == stackname.Scoped(c.p.Name, key) {
		name = ""
	}
	switch {
	case name != "" && (external || name != key):
		return name
	case external:
		return key
	}
	return c.scoped(key)
}

func (c converter) attachments(s types.ServiceConfig, used map[string]bool) ([]swarm.NetworkAttachmentConfig, error) {
	networks := s.Networks
	if len(networks) == 0 {
		networks = map[string]*types.ServiceNetworkConfig{"default": nil}
	}
	var out []swarm.NetworkAttachmentConfig
	for key, cfg := range networks {
		target, err := c.networkName(key)
		if err != nil {
			return nil, err
		}
		used[key] = true
		aliases := []string{s.Name}
		if cfg != nil {
			aliases = append(aliases, cfg.Aliases...)
		}
		out = append(out, swarm.NetworkAttachmentConfig{Target: target, Aliases: aliases})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Target < out[j].Target })
	return out, nil
}

func (c converter) networkName(key string) (string, error) {
	n, ok := c.p.Networks[key]
	if !ok {
		if key == "default" {
			return c.scoped("default"), nil
		}
		return "", fmt.Errorf("network %q is not declared under the top-level networks:", key)
	}
	if bool(n.External) {
		if n.Name != "" {
			return n.Name, nil
		}
		return key, nil
	}
	if n.Name != "" && n.Name != stackname.Scoped(c.p.Name, key) && n.Name != key {
		return n.Name, nil
	}
	return c.scoped(key), nil
}

func (c converter) networks(used map[string]bool) ([]NetworkSpec, error) {
	var out []NetworkSpec
	for key := range used {
		name, err := c.networkName(key)
		if err != nil {
			return nil, err
		}
		n, declared := c.p.Networks[key]
		if declared && bool(n.External) {
			out = append(out, NetworkSpec{Name: name, External: true})
			continue
		}
		driver := n.Driver
		if driver == "" {
			driver = "overlay"
		}
		opts := network.CreateOptions{
			Driver:     driver,
			Options:    n.DriverOpts,
			Internal:   n.Internal,
			Attachable: n.Attachable,
			Labels:     c.labels(n.Labels),
		}
		if n.Ipam.Driver != "" || len(n.Ipam.Config) > 0 {
			opts.IPAM = &network.IPAM{Driver: n.Ipam.Driver}
			for _, pool := range n.Ipam.Config {
				opts.IPAM.Config = append(opts.IPAM.Config, network.IPAMConfig{Subnet: pool.Subnet, Gateway: pool.Gateway, IPRange: pool.IPRange})
			}
		}
		out = append(out, NetworkSpec{Name: name, Options: opts})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

func (c converter) configs() ([]swarm.ConfigSpec, error) {
	var out []swarm.ConfigSpec
	for key, cfg := range c.p.Configs {
		if bool(cfg.External) {
			continue
		}
		data, err := objectData(types.FileObjectConfig(cfg))
		if err != nil {
			return nil, fmt.Errorf("config %s: %w", key, err)
		}
		out = append(out, swarm.ConfigSpec{
			Annotations: swarm.Annotations{Name: c.objectName(key, cfg.Name, false), Labels: c.labels(cfg.Labels)},
			Data:        data,
		})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

func (c converter) secrets() ([]swarm.SecretSpec, error) {
	var out []swarm.SecretSpec
	for key, sec := range c.p.Secrets {
		if bool(sec.External) {
			continue
		}
		data, err := objectData(types.FileObjectConfig(sec))
		if err != nil {
			return nil, fmt.Errorf("secret %s: %w", key, err)
		}
		out = append(out, swarm.SecretSpec{
			Annotations: swarm.Annotations{Name: c.objectName(key, sec.Name, false), Labels: c.labels(sec.Labels)},
			Data:        data,
		})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

func objectData(o types.FileObjectConfig) ([]byte, error) {
	switch {
	case o.File != "":
		data, err := os.ReadFile(o.File)
		if err != nil {
			return nil, fmt.Errorf("reading %s: %w", o.File, err)
		}
		return data, nil
	case o.Content != "":
		return []byte(o.Content), nil
	case o.Environment != "":
		v, ok := os.LookupEnv(o.Environment)
		if !ok {
			return nil, fmt.Errorf("environment variable %s is not set", o.Environment)
		}
		return []byte(v), nil
	}
	return nil, fmt.Errorf("give it a file:, content: or environment:")
}

func serviceMode(d *types.DeployConfig) (swarm.ServiceMode, error) {
	switch d.Mode {
	case "", "replicated":
		replicas := uint64(1)
		if d.Replicas != nil {
			if *d.Replicas < 0 {
				return swarm.ServiceMode{}, fmt.Errorf("deploy.replicas %d: must be 0 or more", *d.Replicas)
			}
			replicas = uint64(*d.Replicas)
		}
		return swarm.ServiceMode{Replicated: &swarm.ReplicatedService{Replicas: &replicas}}, nil
	case "global":
		return swarm.ServiceMode{Global: &swarm.GlobalService{}}, nil
	case "replicated-job":
		return swarm.ServiceMode{ReplicatedJob: &swarm.ReplicatedJob{}}, nil
	case "global-job":
		return swarm.ServiceMode{GlobalJob: &swarm.GlobalJob{}}, nil
	}
	return swarm.ServiceMode{}, fmt.Errorf("deploy.mode %q: use replicated or global", d.Mode)
}

func restartPolicy(restart string, p *types.RestartPolicy) (*swarm.RestartPolicy, error) {
	if p == nil {
		switch restart {
		case "":
			return nil, nil
		case "no":
			return &swarm.RestartPolicy{Condition: swarm.RestartPolicyConditionNone}, nil
		case "always", "unless-stopped":
			return &swarm.RestartPolicy{Condition: swarm.RestartPolicyConditionAny}, nil
		case "on-failure":
			return &swarm.RestartPolicy{Condition: swarm.RestartPolicyConditionOnFailure}, nil
		}
		return nil, fmt.Errorf("restart %q: use deploy.restart_policy instead", restart)
	}
	rp := &swarm.RestartPolicy{Condition: swarm.RestartPolicyCondition(p.Condition), MaxAttempts: p.MaxAttempts}
	if p.Delay != nil {
		d := time.Duration(*p.Delay)
		rp.Delay = &d
	}
	if p.Window != nil {
		w := time.Duration(*p.Window)
		rp.Window = &w
	}
	return rp, nil
}

func resources(r types.Resources) *swarm.ResourceRequirements {
	if r.Limits == nil && r.Reservations == nil {
		return nil
	}
	out := &swarm.ResourceRequirements{}
	if l := r.Limits; l != nil {
		out.Limits = &swarm.Limit{NanoCPUs: int64(float64(l.NanoCPUs) * 1e9), MemoryBytes: int64(l.MemoryBytes), Pids: l.Pids}
	}
	if res := r.Reservations; res != nil {
		out.Reservations = &swarm.Resources{NanoCPUs: int64(float64(res.NanoCPUs) * 1e9), MemoryBytes: int64(res.MemoryBytes)}
	}
	return out
}

func placement(p types.Placement) *swarm.Placement {
	if len(p.Constraints) == 0 && len(p.Preferences) == 0 && p.MaxReplicas == 0 {
		return nil
	}
	out := &swarm.Placement{Constraints: p.Constraints, MaxReplicas: p.MaxReplicas}
	for _, pref := range p.Preferences {
		out.Preferences = append(out.Preferences, swarm.PlacementPreference{Spread: &swarm.SpreadOver{SpreadDescriptor: pref.Spread}})
	}
	return out
}

func updateConfig(u *types.UpdateConfig) *swarm.UpdateConfig {
	if u == nil {
		return nil
	}
	parallelism := uint64(1)
	if u.Parallelism != nil {
		parallelism = *u.Parallelism
	}
	return &swarm.UpdateConfig{
		Parallelism:     parallelism,
		Delay:           time.Duration(u.Delay),
		FailureAction:   u.FailureAction,
		Monitor:         time.Duration(u.Monitor),
		MaxFailureRatio: u.MaxFailureRatio,
		Order:           u.Order,
	}
}

func logDriver(l *types.LoggingConfig) *swarm.Driver {
	if l == nil || l.Driver == "" {
		return nil
	}
	return &swarm.Driver{Name: l.Driver, Options: l.Options}
}

func ulimits(u map[string]*types.UlimitsConfig) []*container.Ulimit {
	var out []*container.Ulimit
	for name, l := range u {
		soft, hard := int64(l.Soft), int64(l.Hard)
		if l.Single != 0 {
			soft, hard = int64(l.Single), int64(l.Single)
		}
		out = append(out, &container.Ulimit{Name: name, Soft: soft, Hard: hard})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

func endpointSpec(mode string, ports []types.ServicePortConfig) (*swarm.EndpointSpec, error) {
	spec := &swarm.EndpointSpec{Mode: swarm.ResolutionModeVIP}
	switch mode {
	case "", "vip":
	case "dnsrr":
		spec.Mode = swarm.ResolutionModeDNSRR
	default:
		return nil, fmt.Errorf("deploy.endpoint_mode %q: use vip or dnsrr", mode)
	}
	for _, p := range ports {
		published := uint32(0)
		if p.Published != "" {
			if strings.Contains(p.Published, "-") {
				return nil, fmt.Errorf("published port range %s: Swarm publishes single ports; list each port", p.Published)
			}
			n, err := strconv.ParseUint(p.Published, 10, 16)
			if err != nil {
				return nil, fmt.Errorf("published port %q is not a port number", p.Published)
			}
			published = uint32(n)
		}
		protocol := p.Protocol
		if protocol == "" {
			protocol = "tcp"
		}
		publishMode := swarm.PortConfigPublishModeIngress
		if p.Mode == "host" {
			publishMode = swarm.PortConfigPublishModeHost
		}
		spec.Ports = append(spec.Ports, swarm.PortConfig{
			Name: p.Name, Protocol: swarm.PortConfigProtocol(protocol), TargetPort: p.Target,
			PublishedPort: published, PublishMode: publishMode,
		})
	}
	sort.Slice(spec.Ports, func(i, j int) bool {
		a, b := spec.Ports[i], spec.Ports[j]
		if a.TargetPort != b.TargetPort {
			return a.TargetPort < b.TargetPort
		}
		return a.PublishedPort < b.PublishedPort
	})
	return spec, nil
}
