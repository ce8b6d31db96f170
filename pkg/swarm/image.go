package swarm

import (
	"context"
	"fmt"
	"io"
	"path/filepath"
	"strings"

	"github.com/compose-spec/compose-go/v2/types"
	"github.com/distribution/reference"

	"github.com/rscale/rscale/pkg/docker"
	"github.com/rscale/rscale/pkg/imagebuild"
)

// BuildOptions tune BuildImages.
type BuildOptions struct {
	Progress io.Writer
	Verbose  bool
}

// BuildImages builds every service of p that has a build: section, tags each image with its
// name from the file and with a tag made from its ID, and returns service → that second
// reference. Deploying the ID-derived tag makes Swarm roll the replicas over exactly when
// the image changed, with no registry.
func BuildImages(ctx context.Context, api docker.API, p *types.Project, o BuildOptions) (map[string]string, error) {
	refs := map[string]string{}
	for _, name := range p.ServiceNames() {
		svc := p.Services[name]
		if svc.Build == nil {
			continue
		}
		if svc.Image == "" {
			return nil, fmt.Errorf("service %s has a build: section but no image: name; add one such as image: %s/%s:latest", name, p.Name, name)
		}
		named, err := reference.ParseNormalizedNamed(svc.Image)
		if err != nil {
			return nil, fmt.Errorf("service %s: image %q is not a valid image name: %w", name, svc.Image, err)
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
		if o.Progress != nil {
			fmt.Fprintf(o.Progress, "Building %s for service %s\n", svc.Image, name)
		}
		id, err := imagebuild.Build(ctx, api, imagebuild.Options{
			Dir: svc.Build.Context, Dockerfile: dockerfile, Tag: svc.Image, Progress: o.Progress, Verbose: o.Verbose,
		})
		if err != nil {
			return nil, fmt.Errorf("building the image of %s: %w", name, err)
		}
		pinned := reference.FamiliarName(named) + ":rscale-" + shortID(id)
		if err := api.ImageTag(ctx, id, pinned); err != nil {
			return nil, fmt.Errorf("tagging the image of %s: %w", name, err)
		}
		refs[name] = pinned
	}
	return refs, nil
}

func shortID(id string) string {
	id = strings.TrimPrefix(id, "sha256:")
	if len(id) > 12 {
		id = id[:12]
	}
	return id
}
