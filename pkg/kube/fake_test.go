package kube

import (
	"bytes"
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/rscale/rscale/pkg/engine"
	"github.com/rscale/rscale/pkg/pipeline"
	"github.com/rscale/rscale/pkg/progress"
	"github.com/rscale/rscale/pkg/stack"
	appsv1 "k8s.io/api/apps/v1"
	autoscalingv1 "k8s.io/api/autoscaling/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/kubernetes/fake"
	k8stesting "k8s.io/client-go/testing"
)

func fakeCluster(objs ...runtime.Object) (*Cluster, *fake.Clientset) {
	cs := fake.NewClientset(objs...)
	return &Cluster{Client: cs, Namespace: "default", Host: "https://fake:6443", Context: "fake"}, cs
}

// randomforestStack is the randomforest example as the commands resolve it.
func randomforestStack(t *testing.T) *stack.Stack {
	t.Helper()
	p, name := initProject(t, "randomforest", exampleProjects["randomforest"])
	ext, err := stack.ReadExtension(p)
	if err != nil {
		t.Fatal(err)
	}
	return &stack.Stack{File: "rscale.yml", Name: name, Project: p, Ext: ext}
}

// pipelineOn is the shared pipeline over the engine on c, its progress as text in out.
func pipelineOn(c *Cluster, out *bytes.Buffer) *pipeline.Pipeline {
	e := NewFor(c, nil)
	e.Interval = 10 * time.Millisecond
	return pipeline.New(e, pipeline.Options{Sink: progress.NewRenderer(out, progress.Text), Interval: 10 * time.Millisecond})
}

func buildRandomforest(t *testing.T) *Objects {
	t.Helper()
	p, name := initProject(t, "randomforest", exampleProjects["randomforest"])
	objs, err := Build(p, name, Options{Images: map[string]string{"model_server": "127.0.0.1:5000/rf@sha256:1111"}})
	if err != nil {
		t.Fatal(err)
	}
	return objs
}

func TestApplyThenPrune(t *testing.T) {
	ctx := context.Background()
	c, cs := fakeCluster()
	objs := buildRandomforest(t)
	if err := Apply(ctx, c, objs.All(), ApplyOptions{}); err != nil {
		t.Fatal(err)
	}
	d, err := cs.AppsV1().Deployments("default").Get(ctx, "randomforest-model-server", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if got := d.Spec.Template.Spec.Containers[0].Image; got != "127.0.0.1:5000/rf@sha256:1111" {
		t.Errorf("image %s, want the pinned reference", got)
	}
	if d.Labels[LabelManagedBy] != "rscale" || d.Labels[LabelInstance] != "randomforest" {
		t.Errorf("labels %v", d.Labels)
	}
	found, err := Labelled(ctx, c, "randomforest")
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]int{"deployments": 2, "services": 2, "poddisruptionbudgets": 1, "configmaps": 1}
	for k, n := range want {
		if len(found[k]) != n {
			t.Errorf("%s: %v, want %d", k, found[k], n)
		}
	}

	// A service the file no longer has: its objects go, the others stay.
	gone := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "randomforest-old", Labels: stackLabels("randomforest", "old", "api")}}
	other := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "someone-else", Labels: stackLabels("another-stack", "old", "api")}}
	for _, cm := range []*corev1.ConfigMap{gone, other} {
		if _, err := cs.CoreV1().ConfigMaps("default").Create(ctx, cm, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	var out bytes.Buffer
	if err := Prune(ctx, c, "randomforest", objs.All(), &out); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "removed configmaps/randomforest-old") {
		t.Errorf("prune said %q", out.String())
	}
	cms, _ := cs.CoreV1().ConfigMaps("default").List(ctx, metav1.ListOptions{})
	var names []string
	for _, cm := range cms.Items {
		names = append(names, cm.Name)
	}
	if strings.Join(names, ",") != "randomforest-proxy,someone-else" {
		t.Errorf("config maps left: %v", names)
	}
}

// markRolledOut plays the deployment controller: every Deployment's status (of those named,
// when any are) says its current version runs on every replica.
func markRolledOut(ctx context.Context, cs *fake.Clientset, only ...string) {
	l, _ := cs.AppsV1().Deployments("default").List(ctx, metav1.ListOptions{})
	for _, d := range l.Items {
		if len(only) > 0 && !slices.Contains(only, d.Name) {
			continue
		}
		n := *d.Spec.Replicas
		d.Status = appsv1.DeploymentStatus{ObservedGeneration: d.Generation, Replicas: n, UpdatedReplicas: n, ReadyReplicas: n, AvailableReplicas: n}
		cs.AppsV1().Deployments("default").UpdateStatus(ctx, &d, metav1.UpdateOptions{})
	}
}

func TestDeployWaitsThenPrintsNodePortURL(t *testing.T) {
	ctx := context.Background()
	node := &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: "n1"}, Status: corev1.NodeStatus{Addresses: []corev1.NodeAddress{{Type: corev1.NodeInternalIP, Address: "10.250.0.2"}}}}
	c, cs := fakeCluster(node)
	// The API server gives a LoadBalancer Service a node port; the fake does not.
	cs.PrependReactor("patch", "services", func(a k8stesting.Action) (bool, runtime.Object, error) {
		go func() {
			time.Sleep(5 * time.Millisecond)
			s, err := cs.CoreV1().Services("default").Get(ctx, "randomforest-proxy", metav1.GetOptions{})
			if err == nil && s.Spec.Ports[0].NodePort == 0 {
				s.Spec.Ports[0].NodePort = 31234
				cs.CoreV1().Services("default").Update(ctx, s, metav1.UpdateOptions{})
			}
		}()
		return false, nil, nil
	})
	stop := make(chan struct{})
	defer close(stop)
	go func() {
		for {
			select {
			case <-stop:
				return
			case <-time.After(20 * time.Millisecond):
				markRolledOut(ctx, cs)
			}
		}
	}()
	var out bytes.Buffer
	s := randomforestStack(t)
	r, err := pipelineOn(c, &out).Deploy(ctx, s, pipeline.DeployOptions{Timeout: 5 * time.Second})
	if err != nil {
		t.Fatalf("%v\n%s", err, out.String())
	}
	if len(r.URLs) != 1 || r.URLs[0] != "http://10.250.0.2:31234/" {
		t.Errorf("URLs %q", r.URLs)
	}
	for _, want := range []string{"Deploying stack randomforest to namespace default of context fake", "applied deployments/randomforest-model-server", "model_server         3/3 ready", "proxy                1/1 ready", "Stack randomforest is running."} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("progress lacks %q:\n%s", want, out.String())
		}
	}
}

func TestURLPrefersTheLoadBalancer(t *testing.T) {
	svc := &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Name: "s-proxy", Namespace: "default"},
		Spec:       corev1.ServiceSpec{Ports: []corev1.ServicePort{{Name: "http", Port: 80, NodePort: 30001}}},
		Status:     corev1.ServiceStatus{LoadBalancer: corev1.LoadBalancerStatus{Ingress: []corev1.LoadBalancerIngress{{IP: "192.0.2.7"}}}},
	}
	c, _ := fakeCluster(svc)
	if u, err := URL(context.Background(), c, "s"); err != nil || u != "http://192.0.2.7/" {
		t.Errorf("URL %q, %v", u, err)
	}
}

func deployment(name, image string, revision string) *appsv1.Deployment {
	lbl := map[string]string{LabelName: "model-server", LabelInstance: "s", LabelManagedBy: "rscale"}
	return &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "default", UID: "uid-1", Labels: lbl, Annotations: map[string]string{revisionAnnotation: revision}, Generation: 2},
		Spec: appsv1.DeploymentSpec{
			Replicas: ptr(int32(2)),
			Selector: &metav1.LabelSelector{MatchLabels: map[string]string{LabelName: "model-server", LabelInstance: "s"}},
			Template: corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: lbl}, Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "api", Image: image}}}},
		},
		Status: appsv1.DeploymentStatus{ObservedGeneration: 2, Replicas: 3, UpdatedReplicas: 1, AvailableReplicas: 2},
	}
}

func replicaSet(d *appsv1.Deployment, hash, image, revision string) *appsv1.ReplicaSet {
	lbl := map[string]string{appsv1.DefaultDeploymentUniqueLabelKey: hash}
	for k, v := range d.Spec.Template.Labels {
		lbl[k] = v
	}
	template := *d.Spec.Template.DeepCopy()
	template.Labels = lbl
	template.Spec.Containers[0].Image = image
	return &appsv1.ReplicaSet{
		ObjectMeta: metav1.ObjectMeta{
			Name: d.Name + "-" + hash, Namespace: "default", Labels: lbl,
			Annotations:     map[string]string{revisionAnnotation: revision},
			OwnerReferences: []metav1.OwnerReference{{Kind: "Deployment", Name: d.Name, UID: d.UID}},
		},
		Spec: appsv1.ReplicaSetSpec{Template: template},
	}
}

func pod(d *appsv1.Deployment, name, hash string, status corev1.ContainerStatus) *corev1.Pod {
	lbl := map[string]string{appsv1.DefaultDeploymentUniqueLabelKey: hash}
	for k, v := range d.Spec.Template.Labels {
		lbl[k] = v
	}
	return &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "default", Labels: lbl, CreationTimestamp: metav1.Now()},
		Spec:       corev1.PodSpec{NodeName: "n1"},
		Status:     corev1.PodStatus{Phase: corev1.PodPending, ContainerStatuses: []corev1.ContainerStatus{status}},
	}
}

func TestWaitStopsAtOnceOnAnImageNodesCannotPull(t *testing.T) {
	d := deployment("s-model-server", "nowhere/rf:1", "2")
	p := pod(d, "s-model-server-b-1", "b", corev1.ContainerStatus{Name: "api", Image: "nowhere/rf:1",
		State: corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{Reason: "ImagePullBackOff", Message: `Back-off pulling image "nowhere/rf:1"`}}})
	c, _ := fakeCluster(d, p)
	statuses, err := NewFor(c, nil).Status(context.Background(), "s", []engine.Change{{Service: "model_server"}})
	if err != nil {
		t.Fatal(err)
	}
	var pull *ImagePullError
	if !errors.As(statuses[0].Err, &pull) {
		t.Fatalf("got %+v, want an ImagePullError", statuses)
	}
	for _, want := range []string{"cannot pull image nowhere/rf:1", "ImagePullBackOff", "--registry"} {
		if !strings.Contains(pull.Error(), want) {
			t.Errorf("%q lacks %q", pull.Error(), want)
		}
	}
}

func TestWaitStopsWhenTheNewVersionKeepsCrashing(t *testing.T) {
	d := deployment("s-model-server", "rf:2", "2")
	rsOld, rsNew := replicaSet(d, "a", "rf:1", "1"), replicaSet(d, "b", "rf:2", "2")
	crash := corev1.ContainerStatus{Name: "api", RestartCount: 3,
		State:                corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{Reason: "CrashLoopBackOff"}},
		LastTerminationState: corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{ExitCode: 1}}}
	c, _ := fakeCluster(d, rsOld, rsNew, pod(d, "s-model-server-b-1", "b", crash))
	statuses, err := NewFor(c, nil).Status(context.Background(), "s", []engine.Change{{Service: "model_server"}})
	if err != nil {
		t.Fatal(err)
	}
	var crashed *CrashError
	if !errors.As(statuses[0].Err, &crashed) || crashed.ExitCode != 1 || !strings.Contains(crashed.Error(), "rscale logs") {
		t.Fatalf("got %+v, want a CrashError", statuses)
	}
}

func TestStatusCountsTheCurrentVersionsReadyPods(t *testing.T) {
	d := deployment("s-model-server", "rf:2", "2")
	c, _ := fakeCluster(d)
	statuses, err := NewFor(c, nil).Status(context.Background(), "s", []engine.Change{{Service: "model_server", Revision: "2"}})
	if err != nil {
		t.Fatal(err)
	}
	want := engine.Status{Service: "model_server", Desired: 2, Running: 3, Ready: 1, Updating: true, Detail: "rolling out the new version"}
	if statuses[0] != want {
		t.Errorf("status %+v, want %+v", statuses[0], want)
	}
	// A generation the controller has not seen yet is not done, whatever the counts say.
	d.Status = appsv1.DeploymentStatus{ObservedGeneration: 2, Replicas: 2, UpdatedReplicas: 2, AvailableReplicas: 2}
	c, _ = fakeCluster(d)
	statuses, _ = NewFor(c, nil).Status(context.Background(), "s", []engine.Change{{Service: "model_server", Revision: "3"}})
	if statuses[0].Done {
		t.Errorf("done before the controller saw revision 3: %+v", statuses[0])
	}
	statuses, _ = NewFor(c, nil).Status(context.Background(), "s", []engine.Change{{Service: "model_server", Revision: "2"}})
	if !statuses[0].Done {
		t.Errorf("not done on a rolled-out revision 2: %+v", statuses[0])
	}
}

func TestRollbackRestoresThePreviousTemplate(t *testing.T) {
	ctx := context.Background()
	d := deployment("s-model-server", "rf:2", "2")
	c, cs := fakeCluster(d, replicaSet(d, "a", "rf:1", "1"), replicaSet(d, "b", "rf:2", "2"))
	desired := d.DeepCopy()
	desired.TypeMeta = meta("Deployment", "apps/v1")
	desired.ObjectMeta = metav1.ObjectMeta{Name: d.Name, Labels: d.Labels}
	desired.Status = appsv1.DeploymentStatus{}
	if err := Rollback(ctx, c, desired); err != nil {
		t.Fatal(err)
	}
	got, _ := cs.AppsV1().Deployments("default").Get(ctx, d.Name, metav1.GetOptions{})
	if img := got.Spec.Template.Spec.Containers[0].Image; img != "rf:1" {
		t.Errorf("image after rollback %s, want rf:1", img)
	}
	if _, ok := got.Spec.Template.Labels[appsv1.DefaultDeploymentUniqueLabelKey]; ok {
		t.Errorf("the template kept the old ReplicaSet's pod-template-hash: %v", got.Spec.Template.Labels)
	}

	first := deployment("t-model-server", "rf:1", "1")
	c2, _ := fakeCluster(first, replicaSet(first, "a", "rf:1", "1"))
	if err := Rollback(ctx, c2, first); !errors.Is(err, ErrNoPreviousVersion) {
		t.Errorf("first version: %v, want ErrNoPreviousVersion", err)
	}
}

func TestDeployRollsBackANewVersionThatNeverGetsReady(t *testing.T) {
	ctx := context.Background()
	objs := buildRandomforest(t)
	d := objs.Deployments[0].DeepCopy()
	d.Namespace, d.UID = "default", "uid-9"
	d.Annotations = map[string]string{revisionAnnotation: "2"}
	old := replicaSet(d, "a", "rf:previous", "1")
	proxy := objs.Deployments[1].DeepCopy()
	proxy.Namespace = "default"
	c, cs := fakeCluster(d, old, replicaSet(d, "b", "rf:new", "2"), proxy)
	// The controller never rolls the new version out; the previous one comes back at once.
	// The proxy's version rolls out.
	stop := make(chan struct{})
	defer close(stop)
	go func() {
		for {
			select {
			case <-stop:
				return
			case <-time.After(10 * time.Millisecond):
				markRolledOut(ctx, cs, proxy.Name)
				if got, err := cs.AppsV1().Deployments("default").Get(ctx, d.Name, metav1.GetOptions{}); err == nil && got.Spec.Template.Spec.Containers[0].Image == "rf:previous" {
					markRolledOut(ctx, cs)
				}
			}
		}
	}()
	var out bytes.Buffer
	_, err := pipelineOn(c, &out).Deploy(ctx, randomforestStack(t), pipeline.DeployOptions{Timeout: 300 * time.Millisecond})
	var rb *pipeline.RolledBackError
	if !errors.As(err, &rb) || !errors.Is(err, engine.ErrRolledBack) {
		t.Fatalf("got %v, want a RolledBackError\n%s", err, out.String())
	}
	var notReady *pipeline.NotReadyError
	if !errors.As(err, &notReady) || notReady.Timeout == 0 {
		t.Errorf("%v does not say the new version timed out", err)
	}
	got, _ := cs.AppsV1().Deployments("default").Get(ctx, d.Name, metav1.GetOptions{})
	if img := got.Spec.Template.Spec.Containers[0].Image; img != "rf:previous" {
		t.Errorf("image after the failed deploy %s, want the previous rf:previous (%v)", img, err)
	}
	if !strings.Contains(out.String(), "model_server: the new version never became ready: rolling back") {
		t.Errorf("progress: %s", out.String())
	}
}

func TestFirstDeployThatNeverGetsReadySaysThereIsNothingToRollBackTo(t *testing.T) {
	c, _ := fakeCluster()
	var out bytes.Buffer
	_, err := pipelineOn(c, &out).Deploy(context.Background(), randomforestStack(t), pipeline.DeployOptions{Timeout: 100 * time.Millisecond})
	if err == nil || errors.Is(err, engine.ErrRolledBack) || !strings.Contains(err.Error(), "no previous version to roll back to") {
		t.Errorf("got %v, want the timeout and no previous version", err)
	}
}

// scaleReactors play the API server's scale subresource, which the fake does not have.
func scaleReactors(cs *fake.Clientset) *[]int32 {
	var asked []int32
	cs.PrependReactor("get", "deployments", func(a k8stesting.Action) (bool, runtime.Object, error) {
		if a.GetSubresource() != "scale" {
			return false, nil, nil
		}
		name := a.(k8stesting.GetAction).GetName()
		d, err := cs.Tracker().Get(schema.GroupVersionResource{Group: "apps", Version: "v1", Resource: "deployments"}, "default", name)
		if err != nil {
			return true, nil, err
		}
		return true, &autoscalingv1.Scale{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "default"}, Spec: autoscalingv1.ScaleSpec{Replicas: *d.(*appsv1.Deployment).Spec.Replicas}}, nil
	})
	cs.PrependReactor("update", "deployments", func(a k8stesting.Action) (bool, runtime.Object, error) {
		if a.GetSubresource() != "scale" {
			return false, nil, nil
		}
		s := a.(k8stesting.UpdateAction).GetObject().(*autoscalingv1.Scale)
		gvr := schema.GroupVersionResource{Group: "apps", Version: "v1", Resource: "deployments"}
		obj, err := cs.Tracker().Get(gvr, "default", s.Name)
		if err != nil {
			return true, nil, err
		}
		d := obj.(*appsv1.Deployment).DeepCopy()
		d.Spec.Replicas = &s.Spec.Replicas
		d.Generation++
		asked = append(asked, s.Spec.Replicas)
		return true, s, cs.Tracker().Update(gvr, d, "default")
	})
	return &asked
}

func TestScaleThroughTheScaleSubresource(t *testing.T) {
	ctx := context.Background()
	d := deployment("s-model-server", "rf:1", "1")
	c, cs := fakeCluster(d)
	asked := scaleReactors(cs)
	go func() {
		time.Sleep(50 * time.Millisecond)
		markRolledOut(ctx, cs)
	}()
	var out bytes.Buffer
	p := pipelineOn(c, &out)
	if err := p.Scale(ctx, "s", []pipeline.ScaleTarget{{Service: "s_model_server", Replicas: 5}}, pipeline.ScaleOptions{Timeout: 5 * time.Second}); err != nil {
		t.Fatalf("%v\n%s", err, out.String())
	}
	if len(*asked) != 1 || (*asked)[0] != 5 {
		t.Errorf("scale subresource asked for %v, want [5]", *asked)
	}
	if !strings.Contains(out.String(), "model_server         5/5 ready") {
		t.Errorf("progress lacks the service ready:\n%s", out.String())
	}
	err := p.Scale(ctx, "s", []pipeline.ScaleTarget{{Service: "web", Replicas: 2}}, pipeline.ScaleOptions{Detach: true})
	if err == nil || !strings.Contains(err.Error(), `stack s has no service "web": it has model-server`) {
		t.Errorf("unknown service: %v", err)
	}
	if err := p.Scale(ctx, "other", []pipeline.ScaleTarget{{Service: "web", Replicas: 2}}, pipeline.ScaleOptions{Detach: true}); !errors.Is(err, engine.ErrNotDeployed) {
		t.Errorf("a stack not deployed: %v", err)
	}
}

// A count a Deployment's int32 cannot hold is refused before the cluster is asked.
func TestSetReplicasRefusesWhatAnInt32CannotHold(t *testing.T) {
	c, cs := fakeCluster(deployment("s-model-server", "rf:1", "1"))
	asked := scaleReactors(cs)
	err := NewFor(c, nil).SetReplicas(context.Background(), "s", "model_server", 3000000000, 3000000000)
	if err == nil || !strings.Contains(err.Error(), "3000000000 replicas of model_server: a Kubernetes Deployment holds at most 2147483647") {
		t.Errorf("got %v", err)
	}
	if len(*asked) > 0 || len(cs.Actions()) > 0 {
		t.Errorf("the cluster was asked %v (scale %v)", cs.Actions(), *asked)
	}
}

func TestPsListsEveryPod(t *testing.T) {
	d := deployment("s-model-server", "rf:1", "1")
	ready := pod(d, "s-model-server-a-1", "a", corev1.ContainerStatus{Name: "api", RestartCount: 2, Ready: true,
		State: corev1.ContainerState{Running: &corev1.ContainerStateRunning{}}})
	ready.Status.Phase = corev1.PodRunning
	ready.Status.Conditions = []corev1.PodCondition{{Type: corev1.PodReady, Status: corev1.ConditionTrue}}
	waiting := pod(d, "s-model-server-a-2", "a", corev1.ContainerStatus{Name: "api",
		State: corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{Reason: "ContainerCreating"}}})
	c, _ := fakeCluster(d, ready, waiting)
	pods, err := Pods(context.Background(), c, "s")
	if err != nil {
		t.Fatal(err)
	}
	if len(pods) != 2 {
		t.Fatalf("pods %+v", pods)
	}
	if p := pods[0]; !p.Ready || p.Restarts != 2 || p.Node != "n1" || p.Status != "Running" || p.Service != "model-server" {
		t.Errorf("first pod %+v", p)
	}
	if p := pods[1]; p.Ready || p.Status != "ContainerCreating" {
		t.Errorf("second pod %+v", p)
	}
}

func TestDownRemovesEverythingAndSaysWhenNothingIsLeft(t *testing.T) {
	ctx := context.Background()
	c, cs := fakeCluster()
	objs := buildRandomforest(t)
	if err := Apply(ctx, c, objs.All(), ApplyOptions{}); err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	removed, err := Down(ctx, c, "randomforest", time.Second, 10*time.Millisecond, &out)
	if err != nil || !removed {
		t.Fatalf("down: %v %v", removed, err)
	}
	if left, _ := Labelled(ctx, c, "randomforest"); len(left) > 0 {
		t.Errorf("left after down: %v", left)
	}
	if !strings.Contains(out.String(), "removed deployments/randomforest-model-server") {
		t.Errorf("down said %q", out.String())
	}
	if removed, err := Down(ctx, c, "randomforest", time.Second, 10*time.Millisecond, nil); err != nil || removed {
		t.Errorf("second down: removed=%v err=%v, want nothing to remove", removed, err)
	}
	_ = cs
}

func TestForbiddenNamesTheVerbAndResource(t *testing.T) {
	c, cs := fakeCluster()
	cs.PrependReactor("patch", "deployments", func(a k8stesting.Action) (bool, runtime.Object, error) {
		return true, nil, apierrors.NewForbidden(schema.GroupResource{Group: "apps", Resource: "deployments"}, "randomforest-model-server",
			errors.New(`User "jane" cannot patch resource "deployments" in API group "apps" in the namespace "default"`))
	})
	err := Apply(context.Background(), c, buildRandomforest(t).All(), ApplyOptions{})
	if err == nil {
		t.Fatal("no error")
	}
	for _, want := range []string{"not allowed to patch deployments randomforest-model-server in namespace \"default\"", "kubectl auth can-i patch deployments"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("%q lacks %q", err, want)
		}
	}
}

func TestServicesShowEachPodUnderItsService(t *testing.T) {
	ctx := context.Background()
	c, cs := fakeCluster(&corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: "n1"}, Status: corev1.NodeStatus{Addresses: []corev1.NodeAddress{{Type: corev1.NodeInternalIP, Address: "10.0.0.9"}}}})
	objs := buildRandomforest(t)
	if err := Apply(ctx, c, objs.All(), ApplyOptions{}); err != nil {
		t.Fatal(err)
	}
	markRolledOut(ctx, cs)
	d := objs.Deployments[0]
	p := pod(d, "randomforest-model-server-a-1", "a", corev1.ContainerStatus{Name: "model-server", RestartCount: 1, State: corev1.ContainerState{Running: &corev1.ContainerStateRunning{}}})
	p.Status.Phase = corev1.PodRunning
	p.Status.Conditions = []corev1.PodCondition{{Type: corev1.PodReady, Status: corev1.ConditionTrue}}
	if _, err := cs.CoreV1().Pods("default").Create(ctx, p, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	svc, _ := cs.CoreV1().Services("default").Get(ctx, "randomforest-proxy", metav1.GetOptions{})
	svc.Spec.Ports[0].NodePort = 30080
	cs.CoreV1().Services("default").Update(ctx, svc, metav1.UpdateOptions{})

	infos, err := NewFor(c, nil).Services(ctx, "randomforest")
	if err != nil {
		t.Fatal(err)
	}
	if len(infos) != 2 {
		t.Fatalf("%+v", infos)
	}
	api, proxy := infos[0], infos[1]
	if api.Name != "model-server" || api.Desired != 3 || *api.Healthy != 3 || api.Image != "127.0.0.1:5000/rf@sha256:1111" || len(api.Tasks) != 1 {
		t.Errorf("API service %+v", api)
	}
	if task := api.Tasks[0]; task.Name != p.Name || !*task.Ready || *task.Restarts != 1 || task.Node != "n1" || task.State != "Running" {
		t.Errorf("pod %+v", task)
	}
	if proxy.Name != "proxy" || len(proxy.Ports) != 1 || proxy.Ports[0] != "http://10.0.0.9:30080/" {
		t.Errorf("proxy %+v", proxy)
	}
}

func TestLogsPrefixEveryLineWithItsPod(t *testing.T) {
	d := deployment("s-model-server", "rf:1", "1")
	running := corev1.ContainerStatus{Name: "api", State: corev1.ContainerState{Running: &corev1.ContainerStateRunning{}}}
	c, _ := fakeCluster(d, pod(d, "s-model-server-a-1", "a", running), pod(d, "s-model-server-a-2", "a", running))
	var out bytes.Buffer
	if err := Logs(context.Background(), c, "s", nil, LogOptions{Tail: 10}, &out); err != nil {
		t.Fatal(err)
	}
	// The fake clientset answers every pod's logs with "fake logs".
	if got := out.String(); got != "s-model-server-a-1 | fake logs\ns-model-server-a-2 | fake logs\n" {
		t.Errorf("logs:\n%s", got)
	}
	if err := Logs(context.Background(), c, "s", []string{"web"}, LogOptions{}, &out); err == nil || !strings.Contains(err.Error(), "stack s has no pods") {
		t.Errorf("logs of a service with no pods: %v", err)
	}
}
