package images

import (
	"context"
	"fmt"
	"io"
	"path/filepath"
	"strings"

	"github.com/compose-spec/compose-go/v2/types"
	cerrdefs "github.com/containerd/errdefs"
	"github.com/distribution/reference"
	"github.com/docker/docker/api/types/image"
	"github.com/docker/docker/client"

	"github.com/rscale/rscale/pkg/registry"
)

// API is the part of the Docker Engine API building and pushing a stack's images needs.
// docker.API (and so *client.Client) implements it.
type API interface {
	Builder
	Pusher
}

// Buildable are the services of p that have a build: section, sorted.
func Buildable(p *types.Project) []string {
	var out []string
	for _, name := range p.ServiceNames() {
		if p.Services[name].Build != nil {
			out = append(out, name)
		}
	}
	return out
}

// BuildService builds the image of p's service name (which has a build: section), tags it
// with its name from the file and with a tag made from its ID, and returns that second
// reference: <image name>:rscale-<12 hex of the ID>. Deploying the ID-derived tag makes
// the engine roll the replicas over exactly when the image changed, with no registry.
func BuildService(ctx context.Context, api API, p *types.Project, name string, o BuildOptions) (string, error) {
	svc, ok := p.Services[name]
	if !ok || svc.Build == nil {
		return "", fmt.Errorf("service %s has no build: section", name)
	}
	if svc.Image == "" {
		return "", fmt.Errorf("service %s has a build: section but no image: name; add one such as image: %s/%s:latest", name, p.Name, name)
	}
	named, err := reference.ParseNormalizedNamed(svc.Image)
	if err != nil {
		return "", fmt.Errorf("service %s: image %q is not a valid image name: %w", name, svc.Image, err)
	}
	dockerfile := svc.Build.Dockerfile
	if dockerfile == "" {
		dockerfile = "Dockerfile"
	}
	if filepath.IsAbs(dockerfile) {
		if rel, err := filepath.Rel(svc.Build.Context, dockerfile); err == nil {
			dockerfile = rel
		}
	}
	id, err := BuildImage(ctx, api, BuildOptions{
		Dir: svc.Build.Context, Dockerfile: dockerfile, Tag: svc.Image, Progress: o.Progress, Verbose: o.Verbose,
	})
	if err != nil {
		return "", fmt.Errorf("building the image of %s: %w", name, err)
	}
	pinned := reference.FamiliarName(named) + ":rscale-" + shortID(id)
	if err := api.ImageTag(ctx, id, pinned); err != nil {
		return "", fmt.Errorf("tagging the image of %s: %w", name, err)
	}
	return pinned, nil
}

func shortID(id string) string {
	id = strings.TrimPrefix(id, "sha256:")
	if len(id) > 12 {
		id = id[:12]
	}
	return id
}

// inspector is a Docker engine that can tell whether it holds an image.
type inspector interface {
	ImageInspect(ctx context.Context, ref string, opts ...client.ImageInspectOption) (image.InspectResponse, error)
}

// Held reports whether the Docker engine holds the image ref. An engine that cannot tell
// holds none.
func Held(ctx context.Context, api any, ref string) (bool, error) {
	i, ok := api.(inspector)
	if !ok || ref == "" {
		return false, nil
	}
	_, err := i.ImageInspect(ctx, ref)
	if cerrdefs.IsNotFound(err) {
		return false, nil
	}
	return err == nil, err
}

// ToPush are the images to push for a stack, service → local reference: every built one
// (built: service → local reference) and every image the stack file names that the Docker
// engine holds (such as the proxy's), since a cluster's nodes cannot see this engine's images.
func ToPush(ctx context.Context, api any, p *types.Project, built map[string]string) (map[string]string, error) {
	out := map[string]string{}
	for _, service := range p.ServiceNames() {
		if ref, ok := built[service]; ok {
			out[service] = ref
			continue
		}
		ref := p.Services[service].Image
		held, err := Held(ctx, api, ref)
		if err != nil {
			return nil, fmt.Errorf("asking the Docker engine for image %s of %s: %w", ref, service, err)
		}
		if held {
			out[service] = ref
		}
	}
	return out, nil
}

// Remote is where one service's local image goes: REGISTRY/<stack>/<service>:<its tag>
// (latest when it has none).
func Remote(reg, stack, service, local string) (string, error) {
	tag := "latest"
	if named, err := reference.ParseNormalizedNamed(local); err == nil {
		if t, ok := named.(reference.Tagged); ok {
			tag = t.Tag()
		}
	}
	return registry.Ref(reg, stack, service, tag)
}

// PushService pushes local to the registry reg as the image of stack's service and returns
// the pushed reference pinned by digest.
func PushService(ctx context.Context, api Pusher, reg, stack, service, local string, progress io.Writer) (string, error) {
	remote, err := Remote(reg, stack, service, local)
	if err != nil {
		return "", err
	}
	ref, err := Push(ctx, api, local, remote, progress)
	if err != nil {
		return "", fmt.Errorf("service %s: %w", service, err)
	}
	return ref, nil
}

var _ inspector = (*client.Client)(nil)
