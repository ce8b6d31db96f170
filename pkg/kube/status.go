package kube

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"sort"
	"strconv"
	"strings"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/rscale/rscale/pkg/engine"
	"github.com/rscale/rscale/pkg/stackname"
)

// Apply applies the plan's objects with server-side apply and, asked to, removes the
// stack's objects the plan no longer has. A Deployment's generation is its revision: the
// rollout of that generation is what Status waits for.
func (e *Engine) Apply(ctx context.Context, p engine.Plan, o engine.ApplyOptions) ([]engine.Change, error) {
	objs, err := planOf(p)
	if err != nil {
		return nil, err
	}
	c, err := e.clusterFor(ctx)
	if err != nil {
		return nil, err
	}
	deployments := c.Client.AppsV1().Deployments(c.Namespace)
	before := map[string]int64{}
	for _, d := range objs.Deployments {
		live, err := deployments.Get(ctx, d.Name, metav1.GetOptions{})
		switch {
		case err == nil:
			before[d.Name] = live.Generation
		case !apierrors.IsNotFound(err):
			return nil, c.explain(err, "get", "deployments "+d.Name)
		}
	}
	all := objs.All()
	if err := Apply(ctx, c, all, ApplyOptions{Out: o.Progress}); err != nil {
		return nil, err
	}
	if o.Prune {
		if err := Prune(ctx, c, objs.Stack, all, o.Progress); err != nil {
			return nil, err
		}
	}
	var changes []engine.Change
	for _, d := range objs.Deployments {
		live, err := deployments.Get(ctx, d.Name, metav1.GetOptions{})
		if err != nil {
			return nil, c.explain(err, "get", "deployments "+d.Name)
		}
		action := "updated"
		if gen, ok := before[d.Name]; !ok {
			action = "created"
		} else if gen == live.Generation {
			action = "unchanged"
		}
		changes = append(changes, engine.Change{Service: objs.Components[d.Name], Action: action,
			Revision: strconv.FormatInt(live.Generation, 10), Replicas: uint64(desiredReplicas(live))})
	}
	return changes, nil
}

func desiredReplicas(d *appsv1.Deployment) int32 {
	if d.Spec.Replicas != nil {
		return *d.Spec.Replicas
	}
	return 1
}

// Status reports each target's rollout: done when its Deployment's current version runs on
// every replica, ready, with no pod of an older one left. An image the nodes cannot pull or
// a new pod that keeps crashing is an Err: waiting will not fix it.
func (e *Engine) Status(ctx context.Context, stack string, targets []engine.Change) ([]engine.Status, error) {
	c, err := e.clusterFor(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]engine.Status, 0, len(targets))
	for _, t := range targets {
		name := ObjectName(stack, t.Service)
		d, err := c.Client.AppsV1().Deployments(c.Namespace).Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			return nil, c.explain(err, "get", "deployments "+name)
		}
		done, ready, desired := rolledOut(d)
		s := engine.Status{Service: t.Service, Desired: int(desired), Running: int(d.Status.Replicas), Ready: int(ready), Done: done}
		if gen, err := strconv.ParseInt(t.Revision, 10, 64); err == nil && d.Status.ObservedGeneration < gen {
			s.Done = false
		}
		if !done && d.Status.UpdatedReplicas < d.Status.Replicas {
			s.Updating, s.Detail = true, "rolling out the new version"
		}
		// Until the controller has seen the new template, the revision annotations (and so
		// which pods are the current version's) are the old ones.
		if !done && d.Status.ObservedGeneration >= d.Generation {
			s.Err = podTrouble(ctx, c, d)
		}
		out = append(out, s)
	}
	return out, nil
}

// RollBack puts the previous ReplicaSet's template back on each service's Deployment:
// Kubernetes does not roll back by itself.
func (e *Engine) RollBack(ctx context.Context, p engine.Plan, services []string) map[string]error {
	failed := map[string]error{}
	objs, err := planOf(p)
	if err == nil {
		_, err = e.clusterFor(ctx)
	}
	for _, service := range services {
		if err != nil {
			failed[service] = err
			continue
		}
		d := objs.deployment(service)
		if d == nil {
			failed[service] = fmt.Errorf("service %s is not in the plan", service)
			continue
		}
		if rerr := Rollback(ctx, e.cluster, d); rerr != nil {
			failed[service] = rerr
		}
	}
	return failed
}

// deployment is the Deployment of the stack file's service.
func (o *Objects) deployment(service string) *appsv1.Deployment {
	for _, d := range o.Deployments {
		if o.Components[d.Name] == service {
			return d
		}
	}
	return nil
}

// Resolve finds the stack's Deployment for every SERVICE=N argument, with its replicas now.
func (e *Engine) Resolve(ctx context.Context, stack string, services []string) ([]engine.Change, error) {
	c, err := e.clusterFor(ctx)
	if err != nil {
		return nil, err
	}
	l, err := c.Client.AppsV1().Deployments(c.Namespace).List(ctx, metav1.ListOptions{LabelSelector: StackSelector(stack)})
	if err != nil {
		return nil, c.explain(err, "list", "deployments")
	}
	if len(l.Items) == 0 {
		return nil, fmt.Errorf("stack %s is %w in namespace %q: run 'rscale deploy' first", stack, engine.ErrNotDeployed, c.Namespace)
	}
	have := map[string]*appsv1.Deployment{} // by object name: a service's '_' is '-' there
	var known []string
	for i := range l.Items {
		have[l.Items[i].Name] = &l.Items[i]
		known = append(known, l.Items[i].Labels[LabelName])
	}
	sort.Strings(known)
	var out []engine.Change
	for _, s := range services {
		short := stackname.Unscoped(stack, s)
		d, ok := have[ObjectName(stack, short)]
		if !ok {
			return nil, fmt.Errorf("stack %s has no service %q: it has %s", stack, s, strings.Join(known, ", "))
		}
		out = append(out, engine.Change{Service: short, Replicas: uint64(desiredReplicas(d))})
	}
	return out, nil
}

// SetReplicas sets a Deployment's replicas through the scale subresource. Kubernetes starts
// them at its own pace (it is no engine.Pacer), so n is always the target.
func (e *Engine) SetReplicas(ctx context.Context, stack, service string, n, _ uint64) error {
	// A Deployment's scale is an int32: a larger count would wrap to another one.
	if n > math.MaxInt32 {
		return fmt.Errorf("%d replicas of %s: a Kubernetes Deployment holds at most %d; give fewer", n, service, math.MaxInt32)
	}
	c, err := e.clusterFor(ctx)
	if err != nil {
		return err
	}
	name := ObjectName(stack, service)
	deployments := c.Client.AppsV1().Deployments(c.Namespace)
	s, err := deployments.GetScale(ctx, name, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return fmt.Errorf("service %s of stack %s is not deployed in namespace %q: run 'rscale deploy' first", service, stack, c.Namespace)
	}
	if err != nil {
		return c.explain(err, "get", "deployments/scale "+name)
	}
	s.Spec.Replicas = int32(n)
	if _, err := deployments.UpdateScale(ctx, name, s, metav1.UpdateOptions{FieldManager: FieldManager}); err != nil {
		return c.explain(err, "update", "deployments/scale "+name)
	}
	return nil
}

// Services reports each Deployment of the stack, with its pods as tasks.
func (e *Engine) Services(ctx context.Context, stack string) ([]engine.ServiceInfo, error) {
	c, err := e.clusterFor(ctx)
	if err != nil {
		return nil, err
	}
	deployments, err := c.Client.AppsV1().Deployments(c.Namespace).List(ctx, metav1.ListOptions{LabelSelector: StackSelector(stack)})
	if err != nil {
		return nil, c.explain(err, "list", "deployments")
	}
	pods, err := Pods(ctx, c, stack)
	if err != nil {
		return nil, err
	}
	var out []engine.ServiceInfo
	for _, d := range deployments.Items {
		ready := int(d.Status.ReadyReplicas)
		info := engine.ServiceInfo{
			Name: d.Labels[LabelName], Desired: int(desiredReplicas(&d)), Running: int(d.Status.Replicas),
			Healthy: &ready, Image: d.Spec.Template.Spec.Containers[0].Image,
		}
		for _, pod := range pods {
			if pod.Service == info.Name {
				info.Tasks = append(info.Tasks, engine.TaskInfo{
					Name: pod.Name, State: pod.Status, Desired: "Running", Node: pod.Node, Since: pod.Started,
					Ready: ptr(pod.Ready), Restarts: ptr(pod.Restarts),
				})
			}
		}
		if d.Spec.Template.Labels[LabelComponent] == "proxy" {
			if url, err := URL(ctx, c, stack); err == nil {
				info.Ports = []string{url}
			}
		}
		out = append(out, info)
	}
	return out, nil
}

// Logs streams the logs of the stack's pods (Tail "all" or a count, Since a duration or an
// RFC 3339 time).
func (e *Engine) Logs(ctx context.Context, stack string, services []string, o engine.LogOptions, out io.Writer) error {
	lo, err := logOptions(o)
	if err != nil {
		return err
	}
	c, err := e.clusterFor(ctx)
	if err != nil {
		return err
	}
	var short []string
	for _, s := range services {
		short = append(short, stackname.Unscoped(stack, s))
	}
	return Logs(ctx, c, stack, short, lo, out)
}

func logOptions(o engine.LogOptions) (LogOptions, error) {
	lo := LogOptions{Follow: o.Follow, Tail: -1}
	if o.Tail != "" && o.Tail != "all" {
		n, err := strconv.ParseInt(o.Tail, 10, 64)
		if err != nil || n < 0 {
			return lo, fmt.Errorf("--tail %q: give a number of lines, or all", o.Tail)
		}
		lo.Tail = n
	}
	if o.Since != "" {
		d, err := time.ParseDuration(o.Since)
		if err != nil {
			t, terr := time.Parse(time.RFC3339, o.Since)
			if terr != nil {
				return lo, errors.New("--since " + strconv.Quote(o.Since) + ": give a duration such as 10m, or a time such as 2026-11-25T18:00:00Z")
			}
			d = time.Since(t)
		}
		lo.Since = d
	}
	return lo, nil
}
