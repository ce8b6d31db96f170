package kube

import (
	"context"
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/rscale/rscale/pkg/engine"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
)

const revisionAnnotation = "deployment.kubernetes.io/revision"

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
var ErrNoPreviousVersion = engine.ErrNoPreviousVersion

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

func podNames(pods []corev1.Pod) string {
	var n []string
	for _, p := range pods {
		n = append(n, p.Name)
	}
	sort.Strings(n)
	return strings.Join(n, ", ")
}
