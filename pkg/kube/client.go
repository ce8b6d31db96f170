package kube

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sort"
	"strings"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/rscale/rscale/pkg/docker"
)

// ConnectOptions pick the cluster as kubectl does: KUBECONFIG (or ~/.kube/config), then
// --kubeconfig, --context and --namespace.
type ConnectOptions struct {
	Kubeconfig string
	Context    string
	Namespace  string
	// Timeout is how long to wait for the API server to start answering one request;
	// 0: RSCALE_ENGINE_TIMEOUT, else docker.DefaultTimeout.
	Timeout time.Duration
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
	wait := o.Timeout
	if wait == 0 {
		if wait, err = docker.Timeout(); err != nil {
			return nil, err
		}
	}
	cfg.UserAgent = "rscale"
	cfg.Wrap(func(rt http.RoundTripper) http.RoundTripper {
		return answerDeadline{next: rt, wait: wait, context: current, host: cfg.Host}
	})
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return nil, fmt.Errorf("kubeconfig context %q: %w", current, err)
	}
	c := &Cluster{Client: cs, Namespace: ns, Host: cfg.Host, Context: current}
	if _, err := cs.Discovery().ServerVersion(); err != nil {
		var late *lateError
		if errors.As(err, &late) {
			return nil, late
		}
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
	var late *lateError
	if errors.As(err, &late) {
		return fmt.Errorf("%s %s in namespace %q: %w", verb, resource, c.Namespace, late)
	}
	var status apierrors.APIStatus
	if errors.As(err, &status) {
		return fmt.Errorf("%s %s in namespace %q: %w", verb, resource, c.Namespace, err)
	}
	return fmt.Errorf("%s %s in namespace %q: %w (is the cluster at %s still reachable?)", verb, resource, c.Namespace, err, c.Host)
}

// answerDeadline bounds each request's wait for the API server to start answering, but not
// the answer itself: rest.Config's Timeout would also cut logs --follow. (Discovery's
// ServerVersion takes no context; this bounds it too.)
type answerDeadline struct {
	next    http.RoundTripper
	wait    time.Duration
	context string // the kubeconfig context and the API server's URL, for the message
	host    string
}

func (a answerDeadline) RoundTrip(req *http.Request) (*http.Response, error) {
	ctx, cancel := context.WithCancel(req.Context())
	timer := time.AfterFunc(a.wait, cancel)
	resp, err := a.next.RoundTrip(req.WithContext(ctx))
	if !timer.Stop() && req.Context().Err() == nil {
		if resp != nil {
			resp.Body.Close()
		}
		cancel()
		return nil, &lateError{context: a.context, host: a.host, wait: a.wait}
	}
	if err != nil {
		cancel()
		return nil, err
	}
	resp.Body = cancelOnClose{ReadCloser: resp.Body, cancel: cancel}
	return resp, nil
}

// cancelOnClose ends a response's request context once its body is done with.
type cancelOnClose struct {
	io.ReadCloser
	cancel context.CancelFunc
}

func (c cancelOnClose) Close() error {
	err := c.ReadCloser.Close()
	c.cancel()
	return err
}

// lateError is an API server that did not start answering a request within the wait.
type lateError struct {
	context, host string
	wait          time.Duration
}

func (e *lateError) Error() string {
	return fmt.Sprintf("the Kubernetes API server of context %q at %s did not answer within %s: is the cluster running and healthy? (kubectl cluster-info); on a slow link, allow it longer with %s=30s",
		e.context, e.host, e.wait, docker.TimeoutEnv)
}
