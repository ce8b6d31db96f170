package kube

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/docker/docker/api/types/image"
	"github.com/docker/docker/client"
)

// Pusher is what a push needs of the Docker engine (DockerPusher makes one of a client).
type Pusher interface {
	ImageTag(ctx context.Context, source, target string) error
	ImagePush(ctx context.Context, image string, options image.PushOptions) (io.ReadCloser, error)
	// HasImage says whether the engine holds the image.
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

// Push tags a local image as remote (REGISTRY/<stack>/<service>:<tag>), pushes it, and
// returns it pinned by the digest the registry gave it, so every node runs the same bytes.
// Anonymous pushes only: the smallest call the Kubernetes path needs until the registry
// support of issue 11 (pkg/registry, with the docker CLI's credentials) replaces it.
func Push(ctx context.Context, api Pusher, local, remote string, progress io.Writer) (string, error) {
	if err := api.ImageTag(ctx, local, remote); err != nil {
		return "", fmt.Errorf("tagging %s as %s: %w", local, remote, err)
	}
	fmt.Fprintf(orDiscard(progress), "Pushing %s\n", remote)
	// "{}": no credentials; the engine wants the header all the same.
	rc, err := api.ImagePush(ctx, remote, image.PushOptions{RegistryAuth: "e30="})
	if err != nil {
		return "", pushError(remote, err)
	}
	defer rc.Close()
	dec := json.NewDecoder(rc)
	digest := ""
	for {
		var m struct {
			Error string `json:"error"`
			Aux   struct {
				Digest string `json:"Digest"`
			} `json:"aux"`
		}
		if err := dec.Decode(&m); err == io.EOF {
			break
		} else if err != nil {
			return "", fmt.Errorf("pushing %s: reading the engine's answer: %w", remote, err)
		}
		if m.Error != "" {
			return "", pushError(remote, errors.New(m.Error))
		}
		if m.Aux.Digest != "" {
			digest = m.Aux.Digest
		}
	}
	if digest == "" {
		return "", fmt.Errorf("pushing %s: the registry gave no digest", remote)
	}
	return remote + "@" + digest, nil
}

func pushError(remote string, err error) error {
	registry, _, _ := strings.Cut(remote, "/")
	return fmt.Errorf("pushing %s: %w: is the registry %s running and reachable from this machine's Docker engine (an HTTP registry must be in the engine's insecure-registries, or on 127.0.0.1)?", remote, err, registry)
}

// RemoteRef is where an image of a stack's service goes in a registry.
func RemoteRef(registry, stack, service, tag string) string {
	return strings.TrimSuffix(registry, "/") + "/" + stack + "/" + strings.ReplaceAll(service, "_", "-") + ":" + tag
}
