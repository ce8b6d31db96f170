package kube

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
)

const revisionAnnotation = "deployment.kubernetes.io/revision"

// pollInterval is how often a wait looks at the cluster; tests shorten it.
var pollInterval = 500 * time.Millisecond

// ImagePullError: the nodes cannot pull a pod's image, which waiting will not fix.
type ImagePullError struct {
	Deployment, Pod, Image, Reason, Message string
}

func (e *ImagePullError) Error() string {
	return fmt.Sprintf("the cluster's nodes cannot pull image %s for %s (%s: %s): push it to a registry the nodes can reach (rscale deploy --registry HOST:PORT), or load it into the nodes",
		e.Image, e.Deployment, e.Reason, e.Message)
}

// CrashError: a pod of the new version keeps failing, so it will never be ready.
type CrashError struct {
	Deployment, Pod, Container string
	ExitCode                   int32
	Restarts                   int32
}

func (e *CrashError) Error() string {
	return fmt.Sprintf("%s: container %s of pod %s exits (code %d, restarted %d times) before it is ready: 'rscale logs' shows why",
		e.Deployment, e.Container, e.Pod, e.ExitCode, e.Restarts)
}

// TimeoutError: the rollout did not finish in time.
type TimeoutError struct {
	Deployment     string
	Ready, Desired int32
	Timeout        time.Duration
}

func (e *TimeoutError) Error() string {
	return fmt.Sprintf("%s: %d of %d pods of the new version ready after %s", e.Deployment, e.Ready, e.Desired, e.Timeout)
}

// WaitOptions tune a wait.
type WaitOptions struct {
	Timeout time.Duration // 0: no limit but ctx's
	Out     io.Writer     // progress, one line per change
	// Components maps Deployment names to the service names shown in progress.
	Components map[string]string
}

// rolledOut says whether the Deployment's current version runs on every replica, ready,
// with no pod of an older one left; ready counts the current version's ready pods.
func rolledOut(d *appsv1.Deployment) (done bool, ready, desired int32) {
	desired = 1
	if d.Spec.Replicas != nil {
		desired = *d.Spec.Replicas
	}
	s := d.Status
	ready = min(s.UpdatedReplicas, s.AvailableReplicas)
	if s.ObservedGeneration < d.Generation {
		return false, 0, desired
	}
	return s.UpdatedReplicas == desired && s.Replicas == desired && s.AvailableReplicas == desired, ready, desired
}

// WaitRollout waits until every named Deployment has rolled out, showing progress. It stops
// at once when a pod's image cannot be pulled or a new pod keeps crashing; it returns, per
// Deployment that failed, its error.
func WaitRollout(ctx context.Context, c *Cluster, deployments []string, o WaitOptions) map[string]error {
	if o.Out == nil {
		o.Out = io.Discard
	}
	var deadline time.Time
	if o.Timeout > 0 {
		deadline = time.Now().Add(o.Timeout)
	}
	failed := map[string]error{}
	pending := append([]string(nil), deployments...)
	shown := map[string]string{}
	for {
		var still []string
		for _, name := range pending {
			d, err := c.Client.AppsV1().Deployments(c.Namespace).Get(ctx, name, metav1.GetOptions{})
			if err != nil {
				failed[name] = c.explain(err, "get", "deployments "+name)
				continue
			}
			done, ready, desired := rolledOut(d)
			line := fmt.Sprintf("%s  %d/%d ready", label(o.Components, name), ready, desired)
			if done {
				line += ", rolled out"
			}
			if shown[name] != line {
				fmt.Fprintln(o.Out, line)
				shown[name] = line
			}
			if done {
				continue
			}
			// Until the controller has seen the new template, the revision annotations (and
			// so which pods are the current version's) are the old ones.
			if d.Status.ObservedGeneration >= d.Generation {
				if err := podTrouble(ctx, c, d); err != nil {
					failed[name] = err
					continue
				}
			}
			if !deadline.IsZero() && time.Now().After(deadline) {
				failed[name] = &TimeoutError{Deployment: label(o.Components, name), Ready: ready, Desired: desired, Timeout: o.Timeout}
				continue
			}
			still = append(still, name)
		}
		pending = still
		if len(pending) == 0 {
			return failed
		}
		select {
		case <-ctx.Done():
			for _, name := range pending {
				failed[name] = ctx.Err()
			}
			return failed
		case <-time.After(pollInterval):
		}
	}
}

func label(components map[string]string, name string) string {
	if s, ok := components[name]; ok {
		return s
	}
	return name
}

// podTrouble finds what waiting will not fix in a Deployment's pods: an image the nodes
// cannot pull, or a container of the current version that keeps crashing.
func podTrouble(ctx context.Context, c *Cluster, d *appsv1.Deployment) error {
	sel, err := metav1.LabelSelectorAsSelector(d.Spec.Selector)
	if err != nil {
		return err
	}
	pods, err := c.Client.CoreV1().Pods(c.Namespace).List(ctx, metav1.ListOptions{LabelSelector: sel.String()})
	if err != nil {
		return c.explain(err, "list", "pods")
	}
	current := currentHash(ctx, c, d)
	for _, p := range pods.Items {
		for _, cs := range p.Status.ContainerStatuses {
			w := cs.State.Waiting
			if w == nil {
				continue
			}
			switch w.Reason {
			case "ErrImagePull", "ImagePullBackOff", "InvalidImageName", "ErrImageNeverPull":
				return &ImagePullError{Deployment: d.Name, Pod: p.Name, Image: cs.Image, Reason: w.Reason, Message: w.Message}
			case "CrashLoopBackOff":
				if current != "" && p.Labels[appsv1.DefaultDeploymentUniqueLabelKey] == current && cs.RestartCount >= 2 {
					e := &CrashError{Deployment: d.Name, Pod: p.Name, Container: cs.Name, Restarts: cs.RestartCount}
					if t := cs.LastTerminationState.Terminated; t != nil {
						e.ExitCode = t.ExitCode
					}
					return e
				}
			}
		}
	}
	return nil
}

// replicaSets are a Deployment's ReplicaSets, newest revision first.
func replicaSets(ctx context.Context, c *Cluster, d *appsv1.Deployment) ([]appsv1.ReplicaSet, error) {
	sel, err := metav1.LabelSelectorAsSelector(d.Spec.Selector)
	if err != nil {
		return nil, err
	}
	l, err := c.Client.AppsV1().ReplicaSets(c.Namespace).List(ctx, metav1.ListOptions{LabelSelector: sel.String()})
	if err != nil {
		return nil, c.explain(err, "list", "replicasets")
	}
	var out []appsv1.ReplicaSet
	for _, rs := range l.Items {
		if owned(rs.OwnerReferences, d) {
			out = append(out, rs)
		}
	}
	sort.Slice(out, func(i, j int) bool { return revision(&out[i].ObjectMeta) > revision(&out[j].ObjectMeta) })
	return out, nil
}

func owned(refs []metav1.OwnerReference, d *appsv1.Deployment) bool {
	for _, r := range refs {
		if r.Kind == "Deployment" && (r.UID == d.UID || (d.UID == "" && r.Name == d.Name)) {
			return true
		}
	}
	return false
}

func revision(m *metav1.ObjectMeta) int64 {
	n, _ := strconv.ParseInt(m.Annotations[revisionAnnotation], 10, 64)
	return n
}

// currentHash is the pod-template-hash of the Deployment's current ReplicaSet.
func currentHash(ctx context.Context, c *Cluster, d *appsv1.Deployment) string {
	rss, err := replicaSets(ctx, c, d)
	if err != nil || len(rss) == 0 {
		return ""
	}
	want := d.Annotations[revisionAnnotation]
	for _, rs := range rss {
		if want != "" && rs.Annotations[revisionAnnotation] == want {
			return rs.Labels[appsv1.DefaultDeploymentUniqueLabelKey]
		}
	}
	return rss[0].Labels[appsv1.DefaultDeploymentUniqueLabelKey]
}

// ErrNoPreviousVersion: a Deployment has no earlier version to roll back to (its first deploy).
var ErrNoPreviousVersion = errors.New("no previous version to roll back to")

// Rollback applies desired with the pod template of the Deployment's previous ReplicaSet:
// Kubernetes does not roll back by itself.
func Rollback(ctx context.Context, c *Cluster, desired *appsv1.Deployment) error {
	live, err := c.Client.AppsV1().Deployments(c.Namespace).Get(ctx, desired.Name, metav1.GetOptions{})
	if err != nil {
		return c.explain(err, "get", "deployments "+desired.Name)
	}
	rss, err := replicaSets(ctx, c, live)
	if err != nil {
		return err
	}
	current := revision(&live.ObjectMeta)
	var previous *appsv1.ReplicaSet
	for i := range rss {
		if r := revision(&rss[i].ObjectMeta); r > 0 && r < current {
			previous = &rss[i]
			break
		}
	}
	if previous == nil {
		return ErrNoPreviousVersion
	}
	d := desired.DeepCopy()
	d.Spec.Template = *previous.Spec.Template.DeepCopy()
	delete(d.Spec.Template.Labels, appsv1.DefaultDeploymentUniqueLabelKey)
	return Apply(ctx, c, []runtime.Object{d}, ApplyOptions{})
}

// podsGone waits until no pod matches the selector.
func podsGone(ctx context.Context, c *Cluster, selector labels.Selector, timeout time.Duration, out io.Writer) error {
	deadline := time.Now().Add(timeout)
	last := -1
	for {
		pods, err := c.Client.CoreV1().Pods(c.Namespace).List(ctx, metav1.ListOptions{LabelSelector: selector.String()})
		if err != nil {
			return c.explain(err, "list", "pods")
		}
		if n := len(pods.Items); n != last && out != nil {
			if n > 0 {
				fmt.Fprintf(out, "waiting for %d pod(s) to stop: %s\n", n, podNames(pods.Items))
			}
			last = n
		}
		if len(pods.Items) == 0 {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%d pod(s) still there after %s: %s (kubectl get pods -l %s)", len(pods.Items), timeout, podNames(pods.Items), selector)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(pollInterval):
		}
	}
}

func podNames(pods []corev1.Pod) string {
	var n []string
	for _, p := range pods {
		n = append(n, p.Name)
	}
	sort.Strings(n)
	return strings.Join(n, ", ")
}
