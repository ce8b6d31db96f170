package swarm

import (
	"context"
	"fmt"
	"sync"

	"github.com/spf13/pflag"

	"github.com/rscale/rscale/pkg/docker"
	"github.com/rscale/rscale/pkg/engine"
	"github.com/rscale/rscale/pkg/haproxy"
)

// Engine is engine.Engine on Docker Swarm. It connects on the first call that needs the
// Docker engine, so a stack file that does not convert is refused before any connection.
type Engine struct {
	// NoInit makes Prepare refuse an engine in no swarm instead of making it a one-node swarm.
	NoInit bool
	// AdvertiseAddr is the address a swarm Prepare makes advertises; "" lets Docker choose.
	AdvertiseAddr string

	connect func(context.Context) (docker.API, error)
	once    sync.Once
	conn    docker.API
	err     error
}

var (
	_ engine.Engine   = (*Engine)(nil)
	_ engine.Pacer    = (*Engine)(nil)
	_ engine.Renderer = (*Engine)(nil)
)

// New returns an Engine that connects with connect when it first needs the Docker engine.
func New(connect func(context.Context) (docker.API, error)) *Engine {
	return &Engine{connect: connect}
}

// Registration is Docker Swarm as the commands know it.
var Registration = engine.Registration{
	Name:      "swarm",
	Bind:      bind,
	Proxies:   nil,
	HAProxy:   haproxy.Swarm,
	Dashboard: true,
}

// bind adds deploy's Swarm-only flags, and makes an Engine on the Docker engine the docker
// CLI would choose (the global --context names a docker context).
func bind(command string, fs *pflag.FlagSet) func(engine.Options) (engine.Engine, error) {
	var noInit bool
	var advertiseAddr string
	if command == "deploy" {
		fs.BoolVar(&noInit, "no-init", false, "refuse, instead of making a one-node swarm, when this machine is in no swarm")
		fs.StringVar(&advertiseAddr, "advertise-addr", "", "address a new swarm advertises to other nodes (default: Docker's choice, else 127.0.0.1)")
	}
	return func(o engine.Options) (engine.Engine, error) {
		e := New(func(ctx context.Context) (docker.API, error) { return docker.ConnectChosen(ctx, o.Context, o.Notices) })
		e.NoInit, e.AdvertiseAddr = noInit, advertiseAddr
		return e, nil
	}
}

func (e *Engine) api(ctx context.Context) (docker.API, error) {
	e.once.Do(func() { e.conn, e.err = e.connect(ctx) })
	return e.conn, e.err
}

// Images is the Docker engine itself: Swarm runs the images built on it, or pushed from it.
func (e *Engine) Images(ctx context.Context) (docker.API, error) {
	return e.api(ctx)
}

// Close closes the connection, if one was made.
func (e *Engine) Close() error {
	if e.conn == nil {
		return nil
	}
	return e.conn.Close()
}

// Version asks the Docker engine for its version.
func (e *Engine) Version(ctx context.Context) (engine.Version, error) {
	api, err := e.api(ctx)
	if err != nil {
		return engine.Version{}, err
	}
	v, err := api.ServerVersion(ctx)
	if err != nil {
		return engine.Version{}, fmt.Errorf("asking the Docker engine for its version: %w", err)
	}
	return engine.Version{Engine: "Docker Engine", Version: v.Version, APIVersion: v.APIVersion, MinAPIVersion: v.MinAPIVersion, OS: v.Os, Arch: v.Arch}, nil
}
