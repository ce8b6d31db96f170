package swarm

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync"

	"github.com/compose-spec/compose-go/v2/types"

	"github.com/rscale/rscale/pkg/backend"
	"github.com/rscale/rscale/pkg/docker"
	"github.com/rscale/rscale/pkg/stackname"
)

// Backend is backend.Backend on Docker Swarm. It connects on the first call that needs the
// engine, so a stack file that does not convert is refused before any connection.
type Backend struct {
	connect func(context.Context) (docker.API, error)
	once    sync.Once
	api     docker.API
	err     error
}

var (
	_ backend.Backend   = (*Backend)(nil)
	_ backend.Versioner = (*Backend)(nil)
)

// NewBackend returns a Backend that connects with connect when it first needs the engine.
func NewBackend(connect func(context.Context) (docker.API, error)) *Backend {
	return &Backend{connect: connect}
}

func (b *Backend) engine(ctx context.Context) (docker.API, error) {
	b.once.Do(func() { b.api, b.err = b.connect(ctx) })
	return b.api, b.err
}

// Close closes the connection, if one was made.
func (b *Backend) Close() error {
	if b.api == nil {
		return nil
	}
	return b.api.Close()
}

// EngineVersion asks the engine for its version.
func (b *Backend) EngineVersion(ctx context.Context) (backend.EngineVersion, error) {
	api, err := b.engine(ctx)
	if err != nil {
		return backend.EngineVersion{}, err
	}
	v, err := api.ServerVersion(ctx)
	if err != nil {
		return backend.EngineVersion{}, fmt.Errorf("asking the Docker engine for its version: %w", err)
	}
	return backend.EngineVersion{Engine: "Docker Engine", Version: v.Version, APIVersion: v.APIVersion, MinAPIVersion: v.MinAPIVersion, OS: v.Os, Arch: v.Arch}, nil
}

// Build builds the project's images.
func (b *Backend) Build(ctx context.Context, p *types.Project, o backend.BuildOptions) ([]backend.BuiltImage, error) {
	api, err := b.engine(ctx)
	if err != nil {
		return nil, err
	}
	refs, err := BuildImages(ctx, api, p, BuildOptions{Progress: o.Progress, Verbose: o.Verbose})
	if err != nil {
		return nil, err
	}
	var built []backend.BuiltImage
	for _, name := range p.ServiceNames() {
		if ref, ok := refs[name]; ok {
			built = append(built, backend.BuiltImage{Service: name, Ref: ref})
		}
	}
	return built, nil
}

// Deploy converts p into the stack's Swarm objects, then deploys them (Stack).
func (b *Backend) Deploy(ctx context.Context, p *types.Project, name string, o backend.DeployOptions) (*backend.DeployResult, error) {
	plan, err := NewPlan(p, name)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", stackFile(p), err)
	}
	api, err := b.engine(ctx)
	if err != nil {
		return nil, err
	}
	r, err := Stack(ctx, api, plan, StackOptions{
		Build: o.Build, Init: o.Init, AdvertiseAddr: o.AdvertiseAddr, Prune: o.Prune, Detach: o.Detach,
		Timeout: o.Timeout, Verbose: o.Verbose, Batch: o.Batch, Progress: o.Progress, Registry: o.Registry,
	})
	if r == nil {
		return nil, err
	}
	return &backend.DeployResult{Stack: r.Stack, URLs: r.URLs}, err
}

// stackFile names the project's stack file as the user would: relative to the current
// folder when it is below it.
func stackFile(p *types.Project) string {
	if len(p.ComposeFiles) == 0 {
		return "the stack file"
	}
	file := p.ComposeFiles[0]
	if wd, err := os.Getwd(); err == nil {
		if rel, err := filepath.Rel(wd, file); err == nil && filepath.IsLocal(rel) {
			return rel
		}
	}
	return file
}

// Scale finds every target's service, then scales them (Scale).
func (b *Backend) Scale(ctx context.Context, stack string, targets []backend.ScaleTarget, o backend.ScaleOptions) error {
	api, err := b.engine(ctx)
	if err != nil {
		return err
	}
	resolved, err := ResolveScale(ctx, api, stack, targets)
	if err != nil {
		return err
	}
	return Scale(ctx, api, resolved, o.Detach, WaitOptions{Timeout: o.Timeout, Out: o.Progress, Prefix: stackname.Scoped(stack, ""), Batch: o.Batch})
}

// Ps describes the stack's services (Describe).
func (b *Backend) Ps(ctx context.Context, stack string) ([]backend.ServiceInfo, error) {
	api, err := b.engine(ctx)
	if err != nil {
		return nil, err
	}
	return Describe(ctx, api, stack)
}

// Logs writes the services' logs (Logs).
func (b *Backend) Logs(ctx context.Context, stack string, services []string, o backend.LogOptions, out io.Writer) error {
	api, err := b.engine(ctx)
	if err != nil {
		return err
	}
	return Logs(ctx, api, stack, services, o, out)
}

// Down removes the stack (Remove).
func (b *Backend) Down(ctx context.Context, stack string, o backend.DownOptions) (bool, error) {
	api, err := b.engine(ctx)
	if err != nil {
		return false, err
	}
	return Remove(ctx, api, stack, o.Progress, o.Timeout)
}
