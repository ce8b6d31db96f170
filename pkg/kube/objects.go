// Package kube deploys a stack file on Kubernetes: it turns the same Compose-format
// rscale.yml that Swarm reads into typed Kubernetes objects (a Deployment, headless Service
// and PodDisruptionBudget per API service; HAProxy in a Deployment with its ConfigMap,
// exposed by a Service), applies them with server-side apply, waits for the rollout, rolls
// back a version that never becomes ready, and scales, lists, streams logs and removes them.
package kube

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"math"
	"os"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/compose-spec/compose-go/v2/types"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/apimachinery/pkg/util/validation"

	"github.com/rscale/rscale/pkg/haproxy"
	"github.com/rscale/rscale/pkg/launcher"
)

// Labels rscale puts on everything it creates, so `kubectl get all -l app.kubernetes.io/instance=<stack>` finds the stack.
const (
	LabelName      = "app.kubernetes.io/name"
	LabelInstance  = "app.kubernetes.io/instance"
	LabelComponent = "app.kubernetes.io/component"
	LabelManagedBy = "app.kubernetes.io/managed-by"
	LabelPartOf    = "app.kubernetes.io/part-of"
	ManagedBy      = "rscale"
	// FieldManager owns the fields rscale sets through server-side apply.
	FieldManager = "rscale"
	// ConfigHashAnnotation on the proxy's pods changes with haproxy.cfg, so a new config rolls the proxy.
	ConfigHashAnnotation = "rscale.dev/config-hash"
)

// ProxyService is the stack file's service that runs the proxy; every other one is an API service.
const ProxyService = "proxy"

// Ports inside the pods. HAProxy listens above 1024 so it needs no capability.
const (
	haproxyDir   = "/usr/local/etc/haproxy"
	userID       = 10001
	clusterLocal = "cluster.local"
	// drainDelay is how long a stopping R pod keeps serving after it leaves the Service's
	// endpoints, so the proxy's DNS sees it gone before R stops.
	drainDelay = 10
)

// Options tune the objects.
type Options struct {
	// Images replaces a service's image (the digest-pinned reference just pushed).
	Images map[string]string
	// ServiceType of the proxy's Service: LoadBalancer (default) or NodePort.
	ServiceType corev1.ServiceType
}

// Objects are the stack's Kubernetes objects, in the order they are applied.
type Objects struct {
	Stack       string
	ConfigMaps  []*corev1.ConfigMap
	Services    []*corev1.Service
	PDBs        []*policyv1.PodDisruptionBudget
	Deployments []*appsv1.Deployment
	// Components maps each Deployment's name to the stack file's service it comes from.
	Components map[string]string
}

// All lists the objects in the order they are applied: what pods mount and reach first.
func (o *Objects) All() []runtime.Object {
	var all []runtime.Object
	for _, x := range o.ConfigMaps {
		all = append(all, x)
	}
	for _, x := range o.Services {
		all = append(all, x)
	}
	for _, x := range o.PDBs {
		all = append(all, x)
	}
	for _, x := range o.Deployments {
		all = append(all, x)
	}
	return all
}

// ObjectName is the Kubernetes name of a stack's service: "<stack>-<service>", with '_'
// (which Swarm accepts and Kubernetes does not) made '-'.
func ObjectName(stack, service string) string {
	return strings.ReplaceAll(stack+"-"+service, "_", "-")
}

// StackSelector selects every object of a stack that rscale manages.
func StackSelector(stack string) string {
	return LabelInstance + "=" + stack + "," + LabelManagedBy + "=" + ManagedBy
}

func stackLabels(stack, service, component string) map[string]string {
	return map[string]string{
		LabelName:      strings.ReplaceAll(service, "_", "-"),
		LabelInstance:  stack,
		LabelComponent: component,
		LabelManagedBy: ManagedBy,
		LabelPartOf:    stack,
	}
}

// selector is the part of the labels that picks a Deployment's pods; it never changes.
func selector(stack, service string) map[string]string {
	return map[string]string{LabelName: strings.ReplaceAll(service, "_", "-"), LabelInstance: stack}
}

func meta(kind, apiVersion string) metav1.TypeMeta {
	return metav1.TypeMeta{Kind: kind, APIVersion: apiVersion}
}

// Build turns a stack file into the objects rscale applies for it.
func Build(p *types.Project, stack string, o Options) (*Objects, error) {
	if o.ServiceType == "" {
		o.ServiceType = corev1.ServiceTypeLoadBalancer
	}
	if errs := validation.IsDNS1035Label(ObjectName(stack, ProxyService)); len(errs) > 0 {
		return nil, fmt.Errorf("stack name %q cannot name Kubernetes objects (%s): choose a --name that starts with a letter", stack, strings.Join(errs, "; "))
	}
	proxy, ok := p.Services[ProxyService]
	if !ok {
		return nil, fmt.Errorf("the stack file has no %q service: Kubernetes needs the HAProxy proxy; run 'rscale init --force --target kubernetes'", ProxyService)
	}
	if len(proxy.Secrets) > 0 {
		var names []string
		for _, s := range proxy.Secrets {
			names = append(names, s.Source)
		}
		return nil, fmt.Errorf("the proxy has secrets (%s), which rscale does not deliver on Kubernetes yet (the dashboard's users file is one): run 'rscale init --force --target kubernetes' without --dashboard", strings.Join(names, ", "))
	}
	objs := &Objects{Stack: stack, Components: map[string]string{}}
	var apis []string
	for _, name := range p.ServiceNames() {
		if name != ProxyService {
			apis = append(apis, name)
		}
	}
	sort.Strings(apis)
	for _, name := range apis {
		svc := p.Services[name]
		n, err := replicas(svc)
		if err != nil {
			return nil, fmt.Errorf("service %s: %w", name, err)
		}
		d, err := apiDeployment(stack, svc, n, o.Images[name])
		if err != nil {
			return nil, fmt.Errorf("service %s: %w", name, err)
		}
		objs.Deployments = append(objs.Deployments, d)
		objs.Components[d.Name] = name
		objs.Services = append(objs.Services, headlessService(stack, svc))
		objs.PDBs = append(objs.PDBs, disruptionBudget(stack, name))
	}
	// HAProxy serves one API: the one service beside it, whose headless Service the proxy's
	// pod names in RSCALE_BACKEND.
	if len(apis) != 1 {
		return nil, fmt.Errorf("the stack file has %d services beside %q (%s), and on Kubernetes the proxy serves exactly one, the API: keep the one rscale init wrote, or run 'rscale init --force --target kubernetes'", len(apis), ProxyService, strings.Join(apis, ", "))
	}
	backend := apis[0]
	cfg, err := proxyConfig(p, proxy)
	if err != nil {
		return nil, err
	}
	cm := &corev1.ConfigMap{
		TypeMeta:   meta("ConfigMap", "v1"),
		ObjectMeta: metav1.ObjectMeta{Name: ObjectName(stack, ProxyService), Labels: stackLabels(stack, ProxyService, "proxy")},
		Data:       map[string]string{"haproxy.cfg": cfg},
	}
	objs.ConfigMaps = append(objs.ConfigMaps, cm)
	d, svc, err := proxyObjects(stack, proxy, p.Services[backend], cfg, o)
	if err != nil {
		return nil, fmt.Errorf("service %s: %w", ProxyService, err)
	}
	objs.Services = append(objs.Services, svc)
	objs.Deployments = append(objs.Deployments, d)
	objs.Components[d.Name] = ProxyService
	return objs, nil
}

// replicas is the service's deploy.replicas (1 when unset), refused when a Deployment's
// int32 cannot hold it rather than wrapped to another count.
func replicas(svc types.ServiceConfig) (int32, error) {
	if svc.Deploy == nil || svc.Deploy.Replicas == nil {
		return 1, nil
	}
	n := *svc.Deploy.Replicas
	if n < 0 || n > math.MaxInt32 {
		return 0, fmt.Errorf("deploy.replicas %d: a Kubernetes Deployment holds 0 to %d replicas; give fewer", n, math.MaxInt32)
	}
	return int32(n), nil
}

// apiPort is the port R listens on: the service's PORT variable, which init sets and the launcher reads.
func apiPort(svc types.ServiceConfig) (int32, error) {
	v, ok := svc.Environment["PORT"]
	if !ok || v == nil {
		return 8000, nil
	}
	n, err := strconv.Atoi(*v)
	if err != nil || n < 1 || n > 65535 {
		return 0, fmt.Errorf("PORT %q is not a port number", *v)
	}
	return int32(n), nil
}

func rollingUpdate() appsv1.DeploymentStrategy {
	surge, unavailable := intstr.FromInt32(1), intstr.FromInt32(0)
	return appsv1.DeploymentStrategy{
		Type:          appsv1.RollingUpdateDeploymentStrategyType,
		RollingUpdate: &appsv1.RollingUpdateDeployment{MaxSurge: &surge, MaxUnavailable: &unavailable},
	}
}

// restricted is a security context that passes Pod Security's "restricted" profile.
func restricted() (*corev1.PodSecurityContext, *corev1.SecurityContext) {
	pod := &corev1.PodSecurityContext{
		RunAsNonRoot:   ptr(true),
		RunAsUser:      ptr(int64(userID)),
		RunAsGroup:     ptr(int64(userID)),
		SeccompProfile: &corev1.SeccompProfile{Type: corev1.SeccompProfileTypeRuntimeDefault},
	}
	container := &corev1.SecurityContext{
		AllowPrivilegeEscalation: ptr(false),
		RunAsNonRoot:             ptr(true),
		Capabilities:             &corev1.Capabilities{Drop: []corev1.Capability{"ALL"}},
	}
	return pod, container
}

// apiDeployment runs n replicas of the API service svc.
func apiDeployment(stack string, svc types.ServiceConfig, n int32, image string) (*appsv1.Deployment, error) {
	if image == "" {
		image = svc.Image
	}
	if image == "" {
		return nil, fmt.Errorf("no image: give the service an image: name")
	}
	port, err := apiPort(svc)
	if err != nil {
		return nil, err
	}
	res, err := resources(svc)
	if err != nil {
		return nil, err
	}
	health := healthTimes(svc.HealthCheck)
	podSec, sec := restricted()
	c := corev1.Container{
		Name:            strings.ReplaceAll(svc.Name, "_", "-"),
		Image:           image,
		ImagePullPolicy: corev1.PullIfNotPresent,
		Command:         svc.Entrypoint,
		Args:            svc.Command,
		Env:             env(svc.Environment),
		Ports:           []corev1.ContainerPort{{Name: "http", ContainerPort: port, Protocol: corev1.ProtocolTCP}},
		// R listens once the API is loaded.
		StartupProbe: &corev1.Probe{
			ProbeHandler:     corev1.ProbeHandler{TCPSocket: &corev1.TCPSocketAction{Port: intstr.FromString("http")}},
			PeriodSeconds:    2,
			FailureThreshold: max(int32(health.start/(2*time.Second)), 1) + 1,
		},
		// The file the launcher has httpuv's I/O thread serve, without R's main loop: it
		// answers while R is busy with a request, so a long request never makes the pod
		// unready, and stops once R is gone (the proxy's own check is the same).
		ReadinessProbe: &corev1.Probe{
			ProbeHandler:     corev1.ProbeHandler{HTTPGet: &corev1.HTTPGetAction{Path: launcher.AlivePath, Port: intstr.FromString("http")}},
			PeriodSeconds:    2,
			TimeoutSeconds:   2,
			FailureThreshold: 2,
		},
		// The image's health check: the health endpoint answers, or R is busy with a request
		// younger than REQUEST_TIMEOUT. Only a stuck or dead R fails it.
		LivenessProbe: &corev1.Probe{
			ProbeHandler:     corev1.ProbeHandler{Exec: &corev1.ExecAction{Command: []string{"sh", "/app/.rscale/healthcheck.sh"}}},
			PeriodSeconds:    int32(health.interval / time.Second),
			TimeoutSeconds:   int32(health.timeout / time.Second),
			FailureThreshold: health.retries,
		},
		// Leave the Service's endpoints first, then let the request in flight finish: the
		// health endpoint times out (curl's exit 28) while R is busy.
		Lifecycle: &corev1.Lifecycle{PreStop: &corev1.LifecycleHandler{Exec: &corev1.ExecAction{Command: []string{"sh", "-c",
			fmt.Sprintf(`sleep %d; while curl -fsS -o /dev/null --max-time 2 "http://127.0.0.1:${PORT}${HEALTH_PATH}"; [ $? -eq 28 ]; do :; done`, drainDelay)}}}},
		Resources:       res,
		SecurityContext: sec,
	}
	lbl := stackLabels(stack, svc.Name, "api")
	return &appsv1.Deployment{
		TypeMeta:   meta("Deployment", "apps/v1"),
		ObjectMeta: metav1.ObjectMeta{Name: ObjectName(stack, svc.Name), Labels: lbl},
		Spec: appsv1.DeploymentSpec{
			Replicas: ptr(n),
			Selector: &metav1.LabelSelector{MatchLabels: selector(stack, svc.Name)},
			Strategy: rollingUpdate(),
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: lbl},
				Spec: corev1.PodSpec{
					Containers: []corev1.Container{c},
					// R ignores SIGTERM as PID 1; with the pause process as PID 1 (Compose's
					// init: true) it stops at once once drained.
					ShareProcessNamespace:         ptr(true),
					TerminationGracePeriodSeconds: ptr(int64(drainDelay) + requestTimeout(svc) + 5),
					SecurityContext:               podSec,
					EnableServiceLinks:            ptr(false),
				},
			},
		},
	}, nil
}

// requestTimeout is how long one request may keep R busy (REQUEST_TIMEOUT, set in the image).
func requestTimeout(svc types.ServiceConfig) int64 {
	if v, ok := svc.Environment["REQUEST_TIMEOUT"]; ok && v != nil {
		if n, err := strconv.ParseInt(*v, 10, 64); err == nil && n > 0 {
			return n
		}
	}
	return 300
}

type healthSettings struct {
	interval, timeout, start time.Duration
	retries                  int32
}

// healthTimes are the stack file's health check timings, with Docker's defaults.
func healthTimes(h *types.HealthCheckConfig) healthSettings {
	s := healthSettings{interval: 30 * time.Second, timeout: 30 * time.Second, retries: 3}
	if h == nil {
		return s
	}
	if h.Interval != nil {
		s.interval = max(time.Duration(*h.Interval), time.Second)
	}
	if h.Timeout != nil {
		s.timeout = max(time.Duration(*h.Timeout), time.Second)
	}
	if h.StartPeriod != nil {
		s.start = time.Duration(*h.StartPeriod)
	}
	if h.Retries != nil && *h.Retries > 0 {
		s.retries = int32(*h.Retries)
	}
	return s
}

func env(m types.MappingWithEquals) []corev1.EnvVar {
	var out []corev1.EnvVar
	for k, v := range m {
		if v != nil {
			out = append(out, corev1.EnvVar{Name: k, Value: *v})
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// resources maps deploy.resources: limits to limits, reservations to requests.
func resources(svc types.ServiceConfig) (corev1.ResourceRequirements, error) {
	var r corev1.ResourceRequirements
	if svc.Deploy == nil {
		return r, nil
	}
	conv := func(x *types.Resource) corev1.ResourceList {
		if x == nil {
			return nil
		}
		l := corev1.ResourceList{}
		if x.NanoCPUs > 0 {
			l[corev1.ResourceCPU] = *resource.NewMilliQuantity(int64(float64(x.NanoCPUs)*1000+0.5), resource.DecimalSI)
		}
		if x.MemoryBytes > 0 {
			l[corev1.ResourceMemory] = *resource.NewQuantity(int64(x.MemoryBytes), resource.BinarySI)
		}
		if len(l) == 0 {
			return nil
		}
		return l
	}
	r.Limits = conv(svc.Deploy.Resources.Limits)
	r.Requests = conv(svc.Deploy.Resources.Reservations)
	return r, nil
}

func headlessService(stack string, svc types.ServiceConfig) *corev1.Service {
	port, _ := apiPort(svc)
	return &corev1.Service{
		TypeMeta:   meta("Service", "v1"),
		ObjectMeta: metav1.ObjectMeta{Name: ObjectName(stack, svc.Name), Labels: stackLabels(stack, svc.Name, "api")},
		Spec: corev1.ServiceSpec{
			// Headless: the proxy resolves every ready pod's own address, as tasks.<service> on Swarm.
			ClusterIP: corev1.ClusterIPNone,
			Selector:  selector(stack, svc.Name),
			Ports:     []corev1.ServicePort{{Name: "http", Port: port, TargetPort: intstr.FromString("http"), Protocol: corev1.ProtocolTCP}},
		},
	}
}

func disruptionBudget(stack, service string) *policyv1.PodDisruptionBudget {
	one := intstr.FromInt32(1)
	return &policyv1.PodDisruptionBudget{
		TypeMeta:   meta("PodDisruptionBudget", "policy/v1"),
		ObjectMeta: metav1.ObjectMeta{Name: ObjectName(stack, service), Labels: stackLabels(stack, service, "api")},
		Spec: policyv1.PodDisruptionBudgetSpec{
			// A node drain takes one R pod at a time.
			MaxUnavailable: &one,
			Selector:       &metav1.LabelSelector{MatchLabels: selector(stack, service)},
		},
	}
}

// proxyConfig is the stack's haproxy.cfg as rscale init wrote it for Kubernetes (the
// cluster's DNS, the API's headless Service, a port above 1024); one written for another
// engine is refused, as it would find no replica here.
func proxyConfig(p *types.Project, proxy types.ServiceConfig) (string, error) {
	var file string
	for _, c := range proxy.Configs {
		if strings.HasSuffix(c.Target, "/haproxy.cfg") {
			if cfg, ok := p.Configs[c.Source]; ok {
				file = cfg.File
			}
		}
	}
	if file == "" {
		return "", fmt.Errorf("the proxy has no haproxy.cfg: on Kubernetes rscale runs HAProxy; run 'rscale init --force --target kubernetes' to write it")
	}
	data, err := os.ReadFile(file)
	if err != nil {
		return "", fmt.Errorf("reading the proxy's config: %w", err)
	}
	if err := haproxy.Fits(data, haproxy.Kubernetes); err != nil {
		return "", fmt.Errorf("%w; run 'rscale init --force --target kubernetes' to rewrite it for Kubernetes", err)
	}
	return string(data), nil
}

// proxyObjects are HAProxy's Deployment, sending to the api service's headless Service, and
// the Service that publishes it.
func proxyObjects(stack string, proxy, api types.ServiceConfig, cfg string, o Options) (*appsv1.Deployment, *corev1.Service, error) {
	if proxy.Image == "" {
		return nil, nil, fmt.Errorf("no image: give the proxy an image: name")
	}
	image := proxy.Image
	if ref := o.Images[ProxyService]; ref != "" {
		image = ref
	}
	containerPorts, servicePorts := proxyPorts(proxy)
	if len(servicePorts) == 0 {
		return nil, nil, fmt.Errorf("the proxy publishes no port")
	}
	n, err := replicas(proxy)
	if err != nil {
		return nil, nil, err
	}
	c := proxyContainer(stack, proxy, api, image, containerPorts)
	return proxyDeployment(stack, n, c, cfg), proxyService(stack, servicePorts, o.ServiceType), nil
}

// proxyPorts are the proxy's ports in its pod and on its Service. The stack file's port 80
// is haproxy.Kubernetes.Bind in the pod, where HAProxy runs without root.
func proxyPorts(proxy types.ServiceConfig) ([]corev1.ContainerPort, []corev1.ServicePort) {
	var containerPorts []corev1.ContainerPort
	var servicePorts []corev1.ServicePort
	for _, pc := range proxy.Ports {
		published, _ := strconv.Atoi(pc.Published)
		if published == 0 {
			published = int(pc.Target)
		}
		target := int32(pc.Target)
		name := "http"
		if target == 80 {
			target = int32(haproxy.Kubernetes.Bind)
		} else {
			name = "port-" + strconv.Itoa(int(target))
		}
		containerPorts = append(containerPorts, corev1.ContainerPort{Name: name, ContainerPort: target, Protocol: corev1.ProtocolTCP})
		servicePorts = append(servicePorts, corev1.ServicePort{Name: name, Port: int32(published), TargetPort: intstr.FromString(name), Protocol: corev1.ProtocolTCP})
	}
	return containerPorts, servicePorts
}

// proxyContainer runs HAProxy on the mounted haproxy.cfg; RSCALE_BACKEND, which the config
// resolves, is the api service's headless Service in the pod's namespace.
func proxyContainer(stack string, proxy, api types.ServiceConfig, image string, ports []corev1.ContainerPort) corev1.Container {
	command := []string(proxy.Command)
	if len(command) == 0 {
		command = []string{"haproxy", "-db", "-f", haproxyDir + "/haproxy.cfg"}
	}
	_, sec := restricted()
	return corev1.Container{
		Name:            "haproxy",
		Image:           image,
		ImagePullPolicy: corev1.PullIfNotPresent,
		Command:         command,
		Env: []corev1.EnvVar{
			{Name: "POD_NAMESPACE", ValueFrom: &corev1.EnvVarSource{FieldRef: &corev1.ObjectFieldSelector{FieldPath: "metadata.namespace"}}},
			{Name: "CLUSTER_DOMAIN", Value: clusterLocal},
			{Name: "RSCALE_BACKEND", Value: ObjectName(stack, api.Name) + ".$(POD_NAMESPACE).svc.$(CLUSTER_DOMAIN)"},
		},
		Ports:           ports,
		ReadinessProbe:  &corev1.Probe{ProbeHandler: corev1.ProbeHandler{TCPSocket: &corev1.TCPSocketAction{Port: intstr.FromString("http")}}, PeriodSeconds: 2},
		LivenessProbe:   &corev1.Probe{ProbeHandler: corev1.ProbeHandler{TCPSocket: &corev1.TCPSocketAction{Port: intstr.FromString("http")}}, PeriodSeconds: 10, FailureThreshold: 3},
		VolumeMounts:    []corev1.VolumeMount{{Name: "config", MountPath: haproxyDir, ReadOnly: true}},
		SecurityContext: sec,
	}
}

// proxyDeployment runs n replicas of c with the proxy's ConfigMap mounted; the pods carry
// cfg's hash, so a new haproxy.cfg rolls them.
func proxyDeployment(stack string, n int32, c corev1.Container, cfg string) *appsv1.Deployment {
	sum := sha256.Sum256([]byte(cfg))
	podSec, _ := restricted()
	lbl := stackLabels(stack, ProxyService, "proxy")
	return &appsv1.Deployment{
		TypeMeta:   meta("Deployment", "apps/v1"),
		ObjectMeta: metav1.ObjectMeta{Name: ObjectName(stack, ProxyService), Labels: lbl},
		Spec: appsv1.DeploymentSpec{
			Replicas: ptr(n),
			Selector: &metav1.LabelSelector{MatchLabels: selector(stack, ProxyService)},
			Strategy: rollingUpdate(),
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: lbl, Annotations: map[string]string{ConfigHashAnnotation: hex.EncodeToString(sum[:8])}},
				Spec: corev1.PodSpec{
					Containers: []corev1.Container{c},
					// HAProxy as PID 1 leaves SIGTERM to the grace period's end; behind the
					// pause process it stops at once.
					ShareProcessNamespace: ptr(true),
					SecurityContext:       podSec,
					Volumes: []corev1.Volume{{Name: "config", VolumeSource: corev1.VolumeSource{ConfigMap: &corev1.ConfigMapVolumeSource{
						LocalObjectReference: corev1.LocalObjectReference{Name: ObjectName(stack, ProxyService)},
					}}}},
					EnableServiceLinks: ptr(false),
				},
			},
		},
	}
}

func proxyService(stack string, ports []corev1.ServicePort, serviceType corev1.ServiceType) *corev1.Service {
	return &corev1.Service{
		TypeMeta:   meta("Service", "v1"),
		ObjectMeta: metav1.ObjectMeta{Name: ObjectName(stack, ProxyService), Labels: stackLabels(stack, ProxyService, "proxy")},
		Spec: corev1.ServiceSpec{
			Type:     serviceType,
			Selector: selector(stack, ProxyService),
			Ports:    ports,
		},
	}
}

func ptr[T any](v T) *T { return &v }
