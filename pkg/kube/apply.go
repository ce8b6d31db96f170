package kube

import (
	"context"
	"fmt"
	"io"
	"sort"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
)

// kinds rscale creates, each with how to apply, list and delete it in a namespace.
type kind struct {
	name     string // for messages: "deployments"
	apply    func(ctx context.Context, c *Cluster, name string, body []byte, opts metav1.PatchOptions) error
	list     func(ctx context.Context, c *Cluster, selector string) ([]string, error)
	delete   func(ctx context.Context, c *Cluster, name string, opts metav1.DeleteOptions) error
	matchObj func(runtime.Object) (string, bool)
}

func sortedNames[T any](items []T, name func(*T) string) []string {
	out := make([]string, 0, len(items))
	for i := range items {
		out = append(out, name(&items[i]))
	}
	sort.Strings(out)
	return out
}

// kinds are in the order down deletes them: the pods' owners first.
var kinds = []kind{
	{
		name: "deployments",
		apply: func(ctx context.Context, c *Cluster, name string, body []byte, o metav1.PatchOptions) error {
			_, err := c.Client.AppsV1().Deployments(c.Namespace).Patch(ctx, name, types.ApplyPatchType, body, o)
			return err
		},
		list: func(ctx context.Context, c *Cluster, sel string) ([]string, error) {
			l, err := c.Client.AppsV1().Deployments(c.Namespace).List(ctx, metav1.ListOptions{LabelSelector: sel})
			if err != nil {
				return nil, err
			}
			return sortedNames(l.Items, func(x *appsv1.Deployment) string { return x.Name }), nil
		},
		delete: func(ctx context.Context, c *Cluster, name string, o metav1.DeleteOptions) error {
			return c.Client.AppsV1().Deployments(c.Namespace).Delete(ctx, name, o)
		},
		matchObj: func(o runtime.Object) (string, bool) { x, ok := o.(*appsv1.Deployment); return nameOf(x, ok) },
	},
	{
		name: "poddisruptionbudgets",
		apply: func(ctx context.Context, c *Cluster, name string, body []byte, o metav1.PatchOptions) error {
			_, err := c.Client.PolicyV1().PodDisruptionBudgets(c.Namespace).Patch(ctx, name, types.ApplyPatchType, body, o)
			return err
		},
		list: func(ctx context.Context, c *Cluster, sel string) ([]string, error) {
			l, err := c.Client.PolicyV1().PodDisruptionBudgets(c.Namespace).List(ctx, metav1.ListOptions{LabelSelector: sel})
			if err != nil {
				return nil, err
			}
			return sortedNames(l.Items, func(x *policyv1.PodDisruptionBudget) string { return x.Name }), nil
		},
		delete: func(ctx context.Context, c *Cluster, name string, o metav1.DeleteOptions) error {
			return c.Client.PolicyV1().PodDisruptionBudgets(c.Namespace).Delete(ctx, name, o)
		},
		matchObj: func(o runtime.Object) (string, bool) {
			x, ok := o.(*policyv1.PodDisruptionBudget)
			return nameOf(x, ok)
		},
	},
	{
		name: "services",
		apply: func(ctx context.Context, c *Cluster, name string, body []byte, o metav1.PatchOptions) error {
			_, err := c.Client.CoreV1().Services(c.Namespace).Patch(ctx, name, types.ApplyPatchType, body, o)
			return err
		},
		list: func(ctx context.Context, c *Cluster, sel string) ([]string, error) {
			l, err := c.Client.CoreV1().Services(c.Namespace).List(ctx, metav1.ListOptions{LabelSelector: sel})
			if err != nil {
				return nil, err
			}
			return sortedNames(l.Items, func(x *corev1.Service) string { return x.Name }), nil
		},
		delete: func(ctx context.Context, c *Cluster, name string, o metav1.DeleteOptions) error {
			return c.Client.CoreV1().Services(c.Namespace).Delete(ctx, name, o)
		},
		matchObj: func(o runtime.Object) (string, bool) { x, ok := o.(*corev1.Service); return nameOf(x, ok) },
	},
	{
		name: "configmaps",
		apply: func(ctx context.Context, c *Cluster, name string, body []byte, o metav1.PatchOptions) error {
			_, err := c.Client.CoreV1().ConfigMaps(c.Namespace).Patch(ctx, name, types.ApplyPatchType, body, o)
			return err
		},
		list: func(ctx context.Context, c *Cluster, sel string) ([]string, error) {
			l, err := c.Client.CoreV1().ConfigMaps(c.Namespace).List(ctx, metav1.ListOptions{LabelSelector: sel})
			if err != nil {
				return nil, err
			}
			return sortedNames(l.Items, func(x *corev1.ConfigMap) string { return x.Name }), nil
		},
		delete: func(ctx context.Context, c *Cluster, name string, o metav1.DeleteOptions) error {
			return c.Client.CoreV1().ConfigMaps(c.Namespace).Delete(ctx, name, o)
		},
		matchObj: func(o runtime.Object) (string, bool) { x, ok := o.(*corev1.ConfigMap); return nameOf(x, ok) },
	},
}

func nameOf[T interface{ GetName() string }](x T, ok bool) (string, bool) {
	if !ok {
		return "", false
	}
	return x.GetName(), true
}

func kindOf(obj runtime.Object) (kind, string) {
	for _, k := range kinds {
		if name, ok := k.matchObj(obj); ok {
			return k, name
		}
	}
	panic(fmt.Sprintf("rscale does not apply %T", obj))
}

// ApplyOptions tune Apply.
type ApplyOptions struct {
	DryRun bool      // the API server checks and defaults every object, and stores nothing
	Out    io.Writer // a line per object
}

// Apply applies the objects with server-side apply, as field manager "rscale". With DryRun
// the API server validates them (admission included) without storing them.
func Apply(ctx context.Context, c *Cluster, objs []runtime.Object, o ApplyOptions) error {
	opts := metav1.PatchOptions{FieldManager: FieldManager, Force: ptr(true)}
	if o.DryRun {
		opts.DryRun = []string{metav1.DryRunAll}
	}
	for _, obj := range objs {
		k, name := kindOf(obj)
		body, err := applyBody(obj)
		if err != nil {
			return err
		}
		if err := k.apply(ctx, c, name, body, opts); err != nil {
			return c.explain(err, "patch", k.name+" "+name)
		}
		if o.Out != nil {
			fmt.Fprintf(o.Out, "applied %s/%s\n", k.name, name)
		}
	}
	return nil
}

// Labelled is every object of the stack rscale manages, by kind, in the order down deletes them.
func Labelled(ctx context.Context, c *Cluster, stack string) (map[string][]string, error) {
	out := map[string][]string{}
	for _, k := range kinds {
		found, err := k.list(ctx, c, StackSelector(stack))
		if err != nil {
			return nil, c.explain(err, "list", k.name)
		}
		if len(found) > 0 {
			out[k.name] = found
		}
	}
	return out, nil
}

// Prune deletes the stack's objects that objs no longer has (a service removed from the file).
func Prune(ctx context.Context, c *Cluster, stack string, objs []runtime.Object, out io.Writer) error {
	keep := map[string]bool{}
	for _, obj := range objs {
		k, name := kindOf(obj)
		keep[k.name+"/"+name] = true
	}
	for _, k := range kinds {
		found, err := k.list(ctx, c, StackSelector(stack))
		if err != nil {
			return c.explain(err, "list", k.name)
		}
		for _, name := range found {
			if keep[k.name+"/"+name] {
				continue
			}
			if err := k.delete(ctx, c, name, metav1.DeleteOptions{PropagationPolicy: ptr(metav1.DeletePropagationForeground)}); err != nil && !apierrors.IsNotFound(err) {
				return c.explain(err, "delete", k.name+" "+name)
			}
			if out != nil {
				fmt.Fprintf(out, "removed %s/%s (no longer in the stack file)\n", k.name, name)
			}
		}
	}
	return nil
}
