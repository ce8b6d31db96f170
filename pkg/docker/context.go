package docker

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/docker/cli/cli/config"
	dcontext "github.com/docker/cli/cli/context/docker"
	"github.com/docker/cli/cli/context/store"
	"github.com/docker/docker/client"
	"github.com/docker/docker/errdefs"
)

// DefaultContext is the docker CLI's name for the engine DOCKER_HOST (or the local socket) names.
const DefaultContext = "default"

// Endpoint is the Docker engine a command talks to, as the docker CLI would choose it.
type Endpoint struct {
	Context string // the docker context's name; DefaultContext for DOCKER_HOST or the local socket
	Host    string // its address, such as unix:///var/run/docker.sock or tcp://10.0.0.5:2376
	Source  string // why this one, in words: "--context", "DOCKER_HOST", "DOCKER_CONTEXT", "docker context use"
	opts    []client.Opt
	timeout time.Duration // the wait for an answer; 0: Timeout()
}

// ResolveEndpoint chooses the engine as the docker CLI does: the --context flag (flag), else
// DOCKER_HOST, else DOCKER_CONTEXT, else the current context of the docker CLI's config
// (docker context use), else the local default. A named context is read from the docker
// CLI's context store with its TLS material, by the docker CLI's own code.
func ResolveEndpoint(flag string) (Endpoint, error) {
	name, source := flag, "--context"
	switch {
	case name != "":
	case os.Getenv(client.EnvOverrideHost) != "":
		name, source = DefaultContext, "DOCKER_HOST"
	case os.Getenv("DOCKER_CONTEXT") != "":
		name, source = os.Getenv("DOCKER_CONTEXT"), "DOCKER_CONTEXT"
	default:
		name, source = DefaultContext, ""
		cfg, err := config.Load(config.Dir())
		if err != nil {
			return Endpoint{}, fmt.Errorf("reading the docker CLI's configuration in %s: %w", config.Dir(), err)
		}
		if cfg.CurrentContext != "" && cfg.CurrentContext != DefaultContext {
			name, source = cfg.CurrentContext, "docker context use"
		}
	}
	if name == DefaultContext {
		return defaultEndpoint(source), nil
	}
	s := store.New(config.ContextStoreDir(), store.NewConfig(
		func() any { return &map[string]any{} },
		store.EndpointTypeGetter(dcontext.DockerEndpoint, func() any { return &dcontext.EndpointMeta{} }),
	))
	meta, err := s.GetMetadata(name)
	if err != nil {
		if errdefs.IsNotFound(err) {
			return Endpoint{}, fmt.Errorf("docker context %q (from %s) does not exist: 'docker context ls' lists them", name, source)
		}
		return Endpoint{}, fmt.Errorf("reading docker context %q (from %s): %w", name, source, err)
	}
	epMeta, err := dcontext.EndpointFromContext(meta)
	if err != nil {
		return Endpoint{}, fmt.Errorf("docker context %q: %w", name, err)
	}
	ep, err := dcontext.WithTLSData(s, name, epMeta)
	if err != nil {
		return Endpoint{}, fmt.Errorf("docker context %q: reading its TLS files: %w", name, err)
	}
	opts, err := ep.ClientOpts()
	if err != nil {
		return Endpoint{}, fmt.Errorf("docker context %q: %w", name, err)
	}
	return Endpoint{Context: name, Host: ep.Host, Source: source, opts: opts}, nil
}

// defaultEndpoint is the docker CLI's default context: DOCKER_HOST, else the local socket.
func defaultEndpoint(source string) Endpoint {
	host := os.Getenv(client.EnvOverrideHost)
	if host == "" {
		host = client.DefaultDockerHost
	}
	return Endpoint{Context: DefaultContext, Host: host, Source: source, opts: []client.Opt{client.FromEnv}}
}

// IsLocalDefault reports whether this is the engine a user gets with no setting at all, the
// one rscale need not name.
func (e Endpoint) IsLocalDefault() bool {
	return e.Context == DefaultContext && e.Host == client.DefaultDockerHost
}

// String names the engine for the user, such as `docker context "prod" (tcp://10.0.0.5:2376)`.
func (e Endpoint) String() string {
	if e.Context == DefaultContext {
		return "the Docker engine at " + e.Host
	}
	return fmt.Sprintf("docker context %q (%s)", e.Context, e.Host)
}

// WithTimeout is the endpoint waiting wait for each answer instead of RSCALE_ENGINE_TIMEOUT's.
func (e Endpoint) WithTimeout(wait time.Duration) Endpoint {
	e.timeout = wait
	return e
}

// Connect opens a client to the endpoint, agrees on an API version with the engine, and
// checks that the engine answers. Connecting, and every request after it, waits for the
// engine's answer no longer than RSCALE_ENGINE_TIMEOUT (DefaultTimeout).
func (e Endpoint) Connect(ctx context.Context) (*client.Client, error) {
	a, err := e.connect(ctx)
	if err != nil {
		return nil, err
	}
	return a.Client, nil
}

// connect is Connect, giving the client that names the engine when a later answer is late.
func (e Endpoint) connect(ctx context.Context) (*answering, error) {
	wait := e.timeout
	if wait == 0 {
		var err error
		if wait, err = Timeout(); err != nil {
			return nil, err
		}
	}
	opts := append(append([]client.Opt{}, e.opts...), client.WithAPIVersionNegotiation(), withDeadlines(wait))
	c, err := client.NewClientWithOpts(opts...)
	if err != nil {
		return nil, fmt.Errorf("configuring the Docker client for %s: %w (check DOCKER_HOST and DOCKER_CERT_PATH)", e, err)
	}
	pingCtx, cancel := context.WithTimeout(ctx, wait)
	defer cancel()
	if _, err := c.Ping(pingCtx); err != nil {
		c.Close()
		// The wait ran out, not the caller's context: the engine is there but does not answer.
		late := ctx.Err() == nil && errors.Is(pingCtx.Err(), context.DeadlineExceeded)
		return nil, e.unreachable(err, late, wait)
	}
	return &answering{Client: c, ep: e, wait: wait}, nil
}

// unreachable says why the engine did not answer (the Ping, or a request after it), and what
// to do; late means it took the request but did not answer within wait.
func (e Endpoint) unreachable(err error, late bool, wait time.Duration) error {
	named := e.Context != DefaultContext
	switch {
	case late && named:
		return fmt.Errorf("the Docker engine of docker context %q at %s (chosen by %s) did not answer within %s: is it running and healthy? Check it, choose another engine with --context or 'docker context use', or on a slow link allow it longer with %s=30s (%w)", e.Context, e.Host, e.Source, wait, TimeoutEnv, err)
	case late:
		return fmt.Errorf("the Docker engine at %s did not answer within %s: is dockerd running and healthy? (systemctl status docker); on a slow link, allow it longer with %s=30s (%w)", e.Host, wait, TimeoutEnv, err)
	case named:
		return fmt.Errorf("cannot reach the Docker engine of docker context %q at %s (chosen by %s): start it, or choose another engine with --context or 'docker context use' (%w)", e.Context, e.Host, e.Source, err)
	}
	return fmt.Errorf("cannot reach the Docker engine at %s: is Docker running? Start it, or point DOCKER_HOST at it (%w)", e.Host, err)
}

// ConnectChosen connects to the engine the docker CLI would choose (ResolveEndpoint, with
// flag the --context value) and, when that is not the local default, says which one and why
// to notices, so nobody deploys to a remote engine without being told.
func ConnectChosen(ctx context.Context, flag string, notices io.Writer) (API, error) {
	ep, err := ResolveEndpoint(flag)
	if err != nil {
		return nil, err
	}
	if !ep.IsLocalDefault() && notices != nil {
		source := ""
		if ep.Source != "" {
			source = " (from " + ep.Source + ")"
		}
		fmt.Fprintf(notices, "Using %s%s.\n", ep, source)
	}
	a, err := ep.connect(ctx)
	if err != nil {
		return nil, err // not a nil *answering in a non-nil API
	}
	return a, nil
}
