package kube

import (
	"context"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/docker/docker/client"

	"github.com/rscale/rscale/pkg/registry"
)

// Pusher is what a push needs of the Docker engine (DockerPusher makes one of a client):
// registry.Push's calls, and whether the engine holds an image.
type Pusher interface {
	registry.API
	HasImage(ctx context.Context, ref string) (bool, error)
}

// DockerPusher is a Pusher on a Docker Engine client.
func DockerPusher(c *client.Client) Pusher { return dockerPusher{c} }

type dockerPusher struct{ *client.Client }

func (d dockerPusher) HasImage(ctx context.Context, ref string) (bool, error) {
	_, err := d.ImageInspect(ctx, ref)
	if cerrdefs.IsNotFound(err) {
		return false, nil
	}
	return err == nil, err
}
