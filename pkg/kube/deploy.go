package kube

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"sort"
	"strconv"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// DeployOptions tune Deploy.
type DeployOptions struct {
	Timeout time.Duration // for the rollout, and again for a rollback
	Detach  bool          // return once applied
	Out     io.Writer     // progress
}

// DeployResult is what a deploy did.
type DeployResult struct {
	Stack string
	URL   string // where the proxy answers, from this machine
}

// RolledBackError: the new version never became ready and the previous one runs again.
type RolledBackError struct {
	Failures    map[string]error // per service
	Restored    []string         // services rolled back
	NotRestored map[string]error
}

func (e *RolledBackError) Error() string {
	var b strings.Builder
	var services []string
	for s := range e.Failures {
		services = append(services, s)
	}
	sort.Strings(services)
	for i, s := range services {
		if i > 0 {
			b.WriteString("; ")
		}
		b.WriteString(e.Failures[s].Error())
	}
	if len(e.Restored) > 0 {
		fmt.Fprintf(&b, "; rolled back to the previous version: %s", strings.Join(e.Restored, ", "))
	}
	for _, s := range sortedKeys(e.NotRestored) {
		fmt.Fprintf(&b, "; %s not rolled back: %v", s, e.NotRestored[s])
	}
	return b.String()
}

func (e *RolledBackError) Unwrap() []error {
	var out []error
	for _, s := range sortedKeys(e.Failures) {
		out = append(out, e.Failures[s])
	}
	return out
}

func sortedKeys[V any](m map[string]V) []string {
	var k []string
	for s := range m {
		k = append(k, s)
	}
	sort.Strings(k)
	return k
}

// Deploy applies the stack's objects, removes those of the stack the file no longer has,
// waits for the rollout and, when a new version never becomes ready, rolls it back and
// returns a *RolledBackError.
func Deploy(ctx context.Context, c *Cluster, objs *Objects, o DeployOptions) (*DeployResult, error) {
	if o.Out == nil {
		o.Out = io.Discard
	}
	all := objs.All()
	if err := Apply(ctx, c, all, ApplyOptions{Out: o.Out}); err != nil {
		return nil, err
	}
	if err := Prune(ctx, c, objs.Stack, all, o.Out); err != nil {
		return nil, err
	}
	r := &DeployResult{Stack: objs.Stack}
	if !o.Detach {
		var names []string
		for _, d := range objs.Deployments {
			names = append(names, d.Name)
		}
		fmt.Fprintln(o.Out, "Waiting for the rollout: every pod of the new version ready...")
		failed := WaitRollout(ctx, c, names, WaitOptions{Timeout: o.Timeout, Out: o.Out, Components: objs.Components})
		if len(failed) > 0 {
			return r, rollback(ctx, c, objs, failed, o)
		}
	}
	url, err := URL(ctx, c, objs.Stack)
	if err != nil {
		return r, err
	}
	r.URL = url
	return r, nil
}

func rollback(ctx context.Context, c *Cluster, objs *Objects, failed map[string]error, o DeployOptions) error {
	e := &RolledBackError{Failures: map[string]error{}, NotRestored: map[string]error{}}
	var restored []string
	for _, d := range objs.Deployments {
		err, ok := failed[d.Name]
		if !ok {
			continue
		}
		service := label(objs.Components, d.Name)
		e.Failures[service] = err
		if ctx.Err() != nil {
			continue
		}
		fmt.Fprintf(o.Out, "%s: the new version is not ready (%v); rolling back\n", service, err)
		switch rerr := Rollback(ctx, c, d); {
		case errors.Is(rerr, ErrNoPreviousVersion):
			e.NotRestored[service] = fmt.Errorf("%w: it is the first version deployed", rerr)
		case rerr != nil:
			e.NotRestored[service] = rerr
		default:
			restored = append(restored, d.Name)
		}
	}
	if len(restored) > 0 {
		again := WaitRollout(ctx, c, restored, WaitOptions{Timeout: o.Timeout, Out: o.Out, Components: objs.Components})
		for _, name := range restored {
			service := label(objs.Components, name)
			if err, bad := again[name]; bad {
				e.NotRestored[service] = fmt.Errorf("the previous version did not come back: %w", err)
			} else {
				e.Restored = append(e.Restored, service)
			}
		}
	}
	return e
}

// URL is where the stack's proxy answers from this machine: its load balancer's address
// when the cluster gave it one, else a node's address and the Service's node port.
func URL(ctx context.Context, c *Cluster, stack string) (string, error) {
	name := ObjectName(stack, ProxyService)
	svc, err := c.Client.CoreV1().Services(c.Namespace).Get(ctx, name, metav1.GetOptions{})
	if err != nil {
		return "", c.explain(err, "get", "services "+name)
	}
	var port corev1.ServicePort
	for _, p := range svc.Spec.Ports {
		if p.Name == "http" {
			port = p
		}
	}
	for _, in := range svc.Status.LoadBalancer.Ingress {
		host := in.IP
		if host == "" {
			host = in.Hostname
		}
		if host != "" {
			return httpURL(host, port.Port), nil
		}
	}
	if port.NodePort == 0 {
		return "", fmt.Errorf("service %s has no load balancer address and no node port: kubectl get service %s -n %s", name, name, c.Namespace)
	}
	nodes, err := c.Client.CoreV1().Nodes().List(ctx, metav1.ListOptions{})
	if err != nil {
		return "", c.explain(err, "list", "nodes")
	}
	for _, want := range []corev1.NodeAddressType{corev1.NodeExternalIP, corev1.NodeInternalIP} {
		for _, n := range nodes.Items {
			for _, a := range n.Status.Addresses {
				if a.Type == want && a.Address != "" {
					return httpURL(a.Address, port.NodePort), nil
				}
			}
		}
	}
	return "", fmt.Errorf("no node of the cluster has an address: kubectl get nodes -o wide")
}

func httpURL(host string, port int32) string {
	hp := net.JoinHostPort(host, strconv.Itoa(int(port)))
	if port == 80 {
		hp = host
		if strings.Contains(host, ":") {
			hp = "[" + host + "]"
		}
	}
	return "http://" + hp + "/"
}
