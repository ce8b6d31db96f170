package kube

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/util/wait"
)

// Pod is one pod of the stack, as ps shows it.
type Pod struct {
	Name     string    `json:"name"`
	Service  string    `json:"service"`
	Node     string    `json:"node"`
	Ready    bool      `json:"ready"`
	Status   string    `json:"status"`
	Restarts int32     `json:"restarts"`
	Started  time.Time `json:"created"`
	IP       string    `json:"ip,omitempty"`
}

// Pods lists the stack's pods, by service then name.
func Pods(ctx context.Context, c *Cluster, stack string) ([]Pod, error) {
	l, err := c.Client.CoreV1().Pods(c.Namespace).List(ctx, metav1.ListOptions{LabelSelector: StackSelector(stack)})
	if err != nil {
		return nil, c.explain(err, "list", "pods")
	}
	var out []Pod
	for _, p := range l.Items {
		x := Pod{
			Name: p.Name, Service: p.Labels[LabelName], Node: p.Spec.NodeName, Status: string(p.Status.Phase),
			Started: p.CreationTimestamp.Time, IP: p.Status.PodIP,
		}
		for _, cond := range p.Status.Conditions {
			if cond.Type == corev1.PodReady {
				x.Ready = cond.Status == corev1.ConditionTrue
			}
		}
		for _, cs := range p.Status.ContainerStatuses {
			x.Restarts += cs.RestartCount
			if cs.State.Waiting != nil && cs.State.Waiting.Reason != "" {
				x.Status = cs.State.Waiting.Reason
			}
		}
		if p.DeletionTimestamp != nil {
			x.Status = "Terminating"
		}
		out = append(out, x)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Service != out[j].Service {
			return out[i].Service < out[j].Service
		}
		return out[i].Name < out[j].Name
	})
	return out, nil
}

// LogOptions say which lines logs shows.
type LogOptions struct {
	Follow bool
	Since  time.Duration // 0: from the start
	Tail   int64         // lines per container from the end; negative: all
}

// Logs writes the logs of the stack's pods (of the named services only, if any), each line
// prefixed with its pod's name. Following, every pod streams at once until ctx ends.
func Logs(ctx context.Context, c *Cluster, stack string, services []string, o LogOptions, out io.Writer) error {
	pods, err := Pods(ctx, c, stack)
	if err != nil {
		return err
	}
	only := map[string]bool{}
	for _, s := range services {
		only[strings.ReplaceAll(s, "_", "-")] = true
	}
	var chosen []Pod
	for _, p := range pods {
		if len(only) == 0 || only[p.Service] {
			chosen = append(chosen, p)
		}
	}
	if len(chosen) == 0 {
		return fmt.Errorf("stack %s has no pods in namespace %q: is it deployed? ('rscale ps')", stack, c.Namespace)
	}
	var mu sync.Mutex
	stream := func(p Pod) error {
		opts := &corev1.PodLogOptions{Follow: o.Follow}
		if o.Since > 0 {
			s := int64(o.Since.Seconds())
			opts.SinceSeconds = &s
		}
		if o.Tail >= 0 {
			opts.TailLines = &o.Tail
		}
		rc, err := c.Client.CoreV1().Pods(c.Namespace).GetLogs(p.Name, opts).Stream(ctx)
		if err != nil {
			return c.explain(err, "get", "pods/log "+p.Name)
		}
		defer rc.Close()
		sc := bufio.NewScanner(rc)
		sc.Buffer(make([]byte, 64*1024), 1024*1024)
		for sc.Scan() {
			mu.Lock()
			fmt.Fprintf(out, "%s | %s\n", p.Name, sc.Text())
			mu.Unlock()
		}
		if ctx.Err() != nil {
			return nil
		}
		return sc.Err()
	}
	if !o.Follow {
		for _, p := range chosen {
			if err := stream(p); err != nil {
				return err
			}
		}
		return nil
	}
	errs := make(chan error, len(chosen))
	for _, p := range chosen {
		go func() { errs <- stream(p) }()
	}
	var first error
	for range chosen {
		if err := <-errs; err != nil && first == nil {
			first = err
		}
	}
	return first
}

// Down deletes every object of the stack that rscale manages and waits until its pods are
// gone. It reports false when there was nothing to remove.
func Down(ctx context.Context, c *Cluster, stack string, timeout, interval time.Duration, out io.Writer) (bool, error) {
	out = orDiscard(out)
	last := -1
	found, err := Labelled(ctx, c, stack)
	if err != nil {
		return false, err
	}
	sel, err := labels.Parse(StackSelector(stack))
	if err != nil {
		return false, err
	}
	pods, err := c.Client.CoreV1().Pods(c.Namespace).List(ctx, metav1.ListOptions{LabelSelector: sel.String()})
	if err != nil {
		return false, c.explain(err, "list", "pods")
	}
	if len(found) == 0 && len(pods.Items) == 0 {
		return false, nil
	}
	for _, k := range kinds {
		for _, name := range found[k.name] {
			err := k.delete(ctx, c, name, metav1.DeleteOptions{PropagationPolicy: ptr(metav1.DeletePropagationBackground)})
			if err != nil && !apierrors.IsNotFound(err) {
				return true, c.explain(err, "delete", k.name+" "+name)
			}
			fmt.Fprintf(out, "removed %s/%s\n", k.name, name)
		}
	}
	// The ReplicaSets carry the stack's labels too; the garbage collector removes them.
	left := ""
	err = wait.PollUntilContextTimeout(ctx, interval, timeout, true, func(ctx context.Context) (bool, error) {
		pods, err := c.Client.CoreV1().Pods(c.Namespace).List(ctx, metav1.ListOptions{LabelSelector: sel.String()})
		if err != nil {
			return false, c.explain(err, "list", "pods")
		}
		if n := len(pods.Items); n != last {
			if n > 0 {
				fmt.Fprintf(out, "waiting for %d pod(s) to stop: %s\n", n, podNames(pods.Items))
			}
			last = n
		}
		if len(pods.Items) > 0 {
			left = fmt.Sprintf("%d pod(s) of stack %s still there after %s: %s (kubectl get pods -l %s)", len(pods.Items), stack, timeout, podNames(pods.Items), sel)
			return false, nil
		}
		rs, err := c.Client.AppsV1().ReplicaSets(c.Namespace).List(ctx, metav1.ListOptions{LabelSelector: sel.String()})
		if err != nil {
			return false, c.explain(err, "list", "replicasets")
		}
		left = fmt.Sprintf("%d ReplicaSet(s) of stack %s still there after %s (kubectl get rs -l %s)", len(rs.Items), stack, timeout, sel)
		return len(rs.Items) == 0, nil
	})
	if err != nil && wait.Interrupted(err) && ctx.Err() == nil {
		return true, errors.New(left)
	}
	return true, err
}
