package docker

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"time"

	"github.com/docker/docker/api/types"
	"github.com/docker/docker/api/types/build"
	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/image"
	"github.com/docker/docker/api/types/network"
	"github.com/docker/docker/api/types/swarm"
	"github.com/docker/docker/api/types/system"
	"github.com/docker/docker/client"
)

// DefaultTimeout is how long rscale waits for an engine (the Docker engine or the Kubernetes
// API server) to start answering one request: ample for a busy engine, short enough that a
// hung one is reported instead of waited on forever. TimeoutEnv overrides it.
const DefaultTimeout = 30 * time.Second

// TimeoutEnv names the environment variable that sets the wait, a Go duration such as 30s,
// for engines on a slow link. It is read by every engine, so it lives beside the Docker one.
const TimeoutEnv = "RSCALE_ENGINE_TIMEOUT"

// Timeout is how long to wait for an engine's answer: TimeoutEnv's duration, else
// DefaultTimeout.
func Timeout() (time.Duration, error) {
	s := os.Getenv(TimeoutEnv)
	if s == "" {
		return DefaultTimeout, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil || d <= 0 {
		return 0, fmt.Errorf("%s=%q is not a duration rscale can wait: set it to one such as 30s or 2m, or unset it for the default of %s", TimeoutEnv, s, DefaultTimeout)
	}
	return d, nil
}

// withDeadlines bounds every request's wait for the engine to answer, but not the answer
// itself: an http.Client Timeout would also cut an image build, a push or logs --follow
// that stream for minutes. It changes the client's own transport, before any request.
func withDeadlines(wait time.Duration) client.Opt {
	return func(c *client.Client) error {
		tr, ok := c.HTTPClient().Transport.(*http.Transport)
		if !ok {
			return fmt.Errorf("the Docker client's transport is a %T, which rscale cannot give a deadline", c.HTTPClient().Transport)
		}
		tr.ResponseHeaderTimeout = wait
		tr.TLSHandshakeTimeout = wait
		// A local socket is dialled at once or refused; a TCP or SSH engine may not be, and
		// its dialer takes a context. (The SSH dialer keeps its connection past the context.)
		if dial := tr.DialContext; dial != nil {
			tr.DialContext = func(ctx context.Context, network, addr string) (net.Conn, error) {
				ctx, cancel := context.WithTimeout(ctx, wait)
				defer cancel()
				return dial(ctx, network, addr)
			}
		}
		return nil
	}
}

// answering is the Docker client that, when a request gets no answer within the wait, says
// which engine did not answer and what to do, as Connect does; the rest of the client (such
// as ImageInspect) is the client's own.
type answering struct {
	*client.Client
	ep   Endpoint
	wait time.Duration
}

var _ API = (*answering)(nil)

// explain names the engine in err when the wait ran out rather than the caller's context.
func (a *answering) explain(ctx context.Context, err error) error {
	if err == nil || ctx.Err() != nil || !errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	return a.ep.unreachable(err, true, a.wait)
}

func (a *answering) Info(ctx context.Context) (system.Info, error) {
	v, err := a.Client.Info(ctx)
	return v, a.explain(ctx, err)
}

func (a *answering) ServerVersion(ctx context.Context) (types.Version, error) {
	v, err := a.Client.ServerVersion(ctx)
	return v, a.explain(ctx, err)
}

func (a *answering) SwarmInit(ctx context.Context, req swarm.InitRequest) (string, error) {
	v, err := a.Client.SwarmInit(ctx, req)
	return v, a.explain(ctx, err)
}

func (a *answering) ImageTag(ctx context.Context, image, ref string) error {
	return a.explain(ctx, a.Client.ImageTag(ctx, image, ref))
}

func (a *answering) ImageBuild(ctx context.Context, context io.Reader, options build.ImageBuildOptions) (build.ImageBuildResponse, error) {
	v, err := a.Client.ImageBuild(ctx, context, options)
	return v, a.explain(ctx, err)
}

func (a *answering) ImagePush(ctx context.Context, image string, options image.PushOptions) (io.ReadCloser, error) {
	v, err := a.Client.ImagePush(ctx, image, options)
	return v, a.explain(ctx, err)
}

func (a *answering) NodeList(ctx context.Context, options swarm.NodeListOptions) ([]swarm.Node, error) {
	v, err := a.Client.NodeList(ctx, options)
	return v, a.explain(ctx, err)
}

func (a *answering) ServiceList(ctx context.Context, options swarm.ServiceListOptions) ([]swarm.Service, error) {
	v, err := a.Client.ServiceList(ctx, options)
	return v, a.explain(ctx, err)
}

func (a *answering) ServiceCreate(ctx context.Context, service swarm.ServiceSpec, options swarm.ServiceCreateOptions) (swarm.ServiceCreateResponse, error) {
	v, err := a.Client.ServiceCreate(ctx, service, options)
	return v, a.explain(ctx, err)
}

func (a *answering) ServiceInspectWithRaw(ctx context.Context, serviceID string, options swarm.ServiceInspectOptions) (swarm.Service, []byte, error) {
	v, raw, err := a.Client.ServiceInspectWithRaw(ctx, serviceID, options)
	return v, raw, a.explain(ctx, err)
}

func (a *answering) ServiceUpdate(ctx context.Context, serviceID string, version swarm.Version, service swarm.ServiceSpec, options swarm.ServiceUpdateOptions) (swarm.ServiceUpdateResponse, error) {
	v, err := a.Client.ServiceUpdate(ctx, serviceID, version, service, options)
	return v, a.explain(ctx, err)
}

func (a *answering) ServiceRemove(ctx context.Context, serviceID string) error {
	return a.explain(ctx, a.Client.ServiceRemove(ctx, serviceID))
}

func (a *answering) ServiceLogs(ctx context.Context, serviceID string, options container.LogsOptions) (io.ReadCloser, error) {
	v, err := a.Client.ServiceLogs(ctx, serviceID, options)
	return v, a.explain(ctx, err)
}

func (a *answering) TaskList(ctx context.Context, options swarm.TaskListOptions) ([]swarm.Task, error) {
	v, err := a.Client.TaskList(ctx, options)
	return v, a.explain(ctx, err)
}

func (a *answering) NetworkList(ctx context.Context, options network.ListOptions) ([]network.Summary, error) {
	v, err := a.Client.NetworkList(ctx, options)
	return v, a.explain(ctx, err)
}

func (a *answering) NetworkCreate(ctx context.Context, name string, options network.CreateOptions) (network.CreateResponse, error) {
	v, err := a.Client.NetworkCreate(ctx, name, options)
	return v, a.explain(ctx, err)
}

func (a *answering) NetworkRemove(ctx context.Context, network string) error {
	return a.explain(ctx, a.Client.NetworkRemove(ctx, network))
}

func (a *answering) ConfigList(ctx context.Context, options swarm.ConfigListOptions) ([]swarm.Config, error) {
	v, err := a.Client.ConfigList(ctx, options)
	return v, a.explain(ctx, err)
}

func (a *answering) ConfigCreate(ctx context.Context, config swarm.ConfigSpec) (swarm.ConfigCreateResponse, error) {
	v, err := a.Client.ConfigCreate(ctx, config)
	return v, a.explain(ctx, err)
}

func (a *answering) ConfigRemove(ctx context.Context, id string) error {
	return a.explain(ctx, a.Client.ConfigRemove(ctx, id))
}

func (a *answering) SecretList(ctx context.Context, options swarm.SecretListOptions) ([]swarm.Secret, error) {
	v, err := a.Client.SecretList(ctx, options)
	return v, a.explain(ctx, err)
}

func (a *answering) SecretCreate(ctx context.Context, secret swarm.SecretSpec) (swarm.SecretCreateResponse, error) {
	v, err := a.Client.SecretCreate(ctx, secret)
	return v, a.explain(ctx, err)
}

func (a *answering) SecretRemove(ctx context.Context, id string) error {
	return a.explain(ctx, a.Client.SecretRemove(ctx, id))
}
