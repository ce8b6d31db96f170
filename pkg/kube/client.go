package kube

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"
)

// ConnectOptions pick the cluster as kubectl does: KUBECONFIG (or ~/.kube/config), then
// --kubeconfig, --context and --namespace.
type ConnectOptions struct {
	Kubeconfig string
	Context    string
	Namespace  string
}

// Cluster is a connection to a cluster and the namespace rscale works in.
type Cluster struct {
	Client    kubernetes.Interface
	Namespace string
	Host      string // the API server's URL, for messages
	Context   string
}

// Connect reads the kubeconfig, checks that the cluster answers and that the namespace
// exists, and says what to do when any of it fails.
func Connect(ctx context.Context, o ConnectOptions) (*Cluster, error) {
	rules := clientcmd.NewDefaultClientConfigLoadingRules()
	rules.ExplicitPath = o.Kubeconfig
	overrides := &clientcmd.ConfigOverrides{CurrentContext: o.Context}
	overrides.Context.Namespace = o.Namespace
	loader := clientcmd.NewNonInteractiveDeferredLoadingClientConfig(rules, overrides)
	raw, err := loader.RawConfig()
	if err != nil {
		return nil, fmt.Errorf("reading the kubeconfig: %w", err)
	}
	if len(raw.Contexts) == 0 && o.Kubeconfig == "" {
		where := "~/.kube/config"
		if paths := rules.Precedence; len(paths) > 0 {
			where = strings.Join(paths, ", ")
		}
		return nil, fmt.Errorf("no Kubernetes cluster configured: no kubeconfig with a context at %s; point KUBECONFIG or --kubeconfig at your cluster's kubeconfig (as for kubectl), or deploy on Docker Swarm with --target swarm", where)
	}
	current := raw.CurrentContext
	if o.Context != "" {
		current = o.Context
	}
	if _, ok := raw.Contexts[current]; !ok {
		var known []string
		for name := range raw.Contexts {
			known = append(known, name)
		}
		sort.Strings(known)
		if current == "" {
			return nil, fmt.Errorf("the kubeconfig names no current context: pass --context (one of %s), or run 'kubectl config use-context NAME'", strings.Join(known, ", "))
		}
		return nil, fmt.Errorf("context %q is not in the kubeconfig: pass one of %s to --context (kubectl config get-contexts lists them)", current, strings.Join(known, ", "))
	}
	cfg, err := loader.ClientConfig()
	if err != nil {
		return nil, fmt.Errorf("kubeconfig context %q: %w", current, err)
	}
	ns, _, err := loader.Namespace()
	if err != nil {
		return nil, fmt.Errorf("kubeconfig context %q: %w", current, err)
	}
	cfg.UserAgent = "rscale"
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return nil, fmt.Errorf("kubeconfig context %q: %w", current, err)
	}
	c := &Cluster{Client: cs, Namespace: ns, Host: cfg.Host, Context: current}
	if _, err := cs.Discovery().ServerVersion(); err != nil {
		return nil, fmt.Errorf("cannot reach the Kubernetes cluster of context %q at %s: is it running, and is this the right context? (kubectl cluster-info tells the same) (%w)", current, cfg.Host, err)
	}
	if err := c.checkNamespace(ctx); err != nil {
		return nil, err
	}
	return c, nil
}

// checkNamespace makes a namespace that does not exist an error up front, not a confusing
// one from the first object. A user not allowed to read namespaces is not stopped here.
func (c *Cluster) checkNamespace(ctx context.Context) error {
	_, err := c.Client.CoreV1().Namespaces().Get(ctx, c.Namespace, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return fmt.Errorf("namespace %q does not exist in the cluster of context %q: create it (kubectl create namespace %s) or pass another --namespace", c.Namespace, c.Context, c.Namespace)
	}
	if err != nil && !apierrors.IsForbidden(err) {
		return fmt.Errorf("reading namespace %q: %w", c.Namespace, err)
	}
	return nil
}

// explain turns an API error into one that says what to do; verb and resource name the call.
func (c *Cluster) explain(err error, verb, resource string) error {
	if err == nil {
		return nil
	}
	if apierrors.IsForbidden(err) {
		return fmt.Errorf("not allowed to %s %s in namespace %q: ask your cluster's admin for a Role that grants it (check with 'kubectl auth can-i %s %s -n %s'): %w",
			verb, resource, c.Namespace, verb, resource, c.Namespace, err)
	}
	var status apierrors.APIStatus
	if errors.As(err, &status) {
		return fmt.Errorf("%s %s in namespace %q: %w", verb, resource, c.Namespace, err)
	}
	return fmt.Errorf("%s %s in namespace %q: %w (is the cluster at %s still reachable?)", verb, resource, c.Namespace, err, c.Host)
}
