package images

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"

	"github.com/distribution/reference"
	"github.com/docker/cli/cli/config"
	"github.com/docker/cli/cli/config/configfile"
	"github.com/docker/cli/cli/config/credentials"
	"github.com/docker/docker/api/types/image"
	registrytypes "github.com/docker/docker/api/types/registry"
)

// Pusher is the part of the Docker Engine API a push needs. *client.Client implements it.
type Pusher interface {
	ImageTag(ctx context.Context, source, target string) error
	ImagePush(ctx context.Context, image string, options image.PushOptions) (io.ReadCloser, error)
}

// Push tags localRef as remoteRef, pushes remoteRef, and returns it pinned by the digest the
// registry gave it (name:tag@sha256:...). Progress gets one line per layer as it completes.
func Push(ctx context.Context, api Pusher, localRef, remoteRef string, progress io.Writer) (string, error) {
	if progress == nil {
		progress = io.Discard
	}
	named, err := reference.ParseNormalizedNamed(remoteRef)
	if err != nil {
		return "", fmt.Errorf("image name %s: %w", remoteRef, err)
	}
	if _, ok := named.(reference.Tagged); !ok {
		return "", fmt.Errorf("image name %s has no tag", remoteRef)
	}
	auth, err := Auth(reference.Domain(named))
	if err != nil {
		return "", err
	}
	if err := api.ImageTag(ctx, localRef, remoteRef); err != nil {
		return "", fmt.Errorf("tagging %s as %s: %w", localRef, remoteRef, err)
	}
	stream, err := api.ImagePush(ctx, remoteRef, image.PushOptions{RegistryAuth: auth})
	if err != nil {
		return "", pushError(remoteRef, reference.Domain(named), err.Error())
	}
	defer stream.Close()
	digest, err := followPush(stream, progress)
	if err != nil {
		var failed *streamError
		if errors.As(err, &failed) {
			return "", pushError(remoteRef, reference.Domain(named), failed.msg)
		}
		return "", fmt.Errorf("pushing %s: %w", remoteRef, err)
	}
	pinned := remoteRef + "@" + digest
	return pinned, nil
}

// Auth is the X-Registry-Auth header for domain, from the docker CLI's configuration
// (DOCKER_CONFIG or ~/.docker/config.json, its credential store and helpers): what
// `docker login` saved. No credentials is an empty header, not an error: many registries
// take anonymous pushes.
func Auth(domain string) (string, error) {
	// config.Dir reads DOCKER_CONFIG once per process; read it at each call, as a new docker
	// command would.
	dir := os.Getenv("DOCKER_CONFIG")
	if dir == "" {
		dir = config.Dir()
	}
	cfg, err := config.Load(dir)
	if err != nil {
		return "", fmt.Errorf("reading the docker CLI's configuration for the registry's credentials: %w (fix or move %s)", err, filepath.Join(dir, config.ConfigFileName))
	}
	if !cfg.ContainsAuth() {
		cfg.CredentialsStore = credentials.DetectDefaultStore(cfg.CredentialsStore)
	}
	return authFrom(cfg, domain)
}

// dockerHubKey is the key the docker CLI stores Docker Hub's credentials under.
const dockerHubKey = "https://index.docker.io/v1/"

func authFrom(cfg *configfile.ConfigFile, domain string) (string, error) {
	key := domain
	if domain == "docker.io" {
		key = dockerHubKey
	}
	a, err := cfg.GetAuthConfig(key)
	if err != nil {
		return "", fmt.Errorf("reading the credentials for %s from the docker CLI's configuration (%s): %w", domain, cfg.Filename, err)
	}
	if a.Username == "" && a.Password == "" && a.Auth == "" && a.IdentityToken == "" && a.RegistryToken == "" {
		return "", nil
	}
	return registrytypes.EncodeAuthConfig(registrytypes.AuthConfig{
		Username: a.Username, Password: a.Password, Auth: a.Auth, ServerAddress: a.ServerAddress,
		IdentityToken: a.IdentityToken, RegistryToken: a.RegistryToken,
	})
}

// streamError is an error the engine reported in the push's stream: the registry's message.
type streamError struct{ msg string }

func (e *streamError) Error() string { return e.msg }

// message is one line of the engine's push stream.
type pushMessage struct {
	ID          string `json:"id"`
	Status      string `json:"status"`
	Error       string `json:"error"`
	ErrorDetail *struct {
		Message string `json:"message"`
	} `json:"errorDetail"`
	Aux *struct {
		Tag    string `json:"Tag"`
		Digest string `json:"Digest"`
	} `json:"aux"`
}

// layerDone are the statuses that end a layer's push: the ones worth a line.
var layerDone = regexp.MustCompile(`^(Pushed|Layer already exists|Mounted from )`)

// followPush reads the push's stream to its end and returns the digest the registry gave.
func followPush(stream io.Reader, progress io.Writer) (string, error) {
	dec := json.NewDecoder(stream)
	digest := ""
	for {
		var m pushMessage
		if err := dec.Decode(&m); err != nil {
			if errors.Is(err, io.EOF) {
				break
			}
			return "", fmt.Errorf("reading the push's progress: %w", err)
		}
		if m.Error != "" || m.ErrorDetail != nil {
			text := m.Error
			if m.ErrorDetail != nil && m.ErrorDetail.Message != "" {
				text = m.ErrorDetail.Message
			}
			return "", &streamError{strings.TrimSpace(text)}
		}
		if m.Aux != nil && m.Aux.Digest != "" {
			digest = m.Aux.Digest
		}
		if m.ID != "" && layerDone.MatchString(m.Status) {
			fmt.Fprintf(progress, "  %s: %s\n", m.ID, m.Status)
		}
	}
	if digest == "" {
		return "", errors.New("the engine ended the push without giving the image's digest")
	}
	return digest, nil
}

// pushError says what went wrong with the registry's own words, and what to do about it.
func pushError(ref, domain, msg string) error {
	fix := fmt.Sprintf("check that %s is up and that this Docker engine can reach it", domain)
	switch {
	case strings.Contains(msg, "server gave HTTP response to HTTPS client") || strings.Contains(msg, "x509:") || strings.Contains(msg, "certificate"):
		fix = fmt.Sprintf(`%s serves plain HTTP or an untrusted certificate: every Docker engine of the swarm must trust it. Add "insecure-registries": ["%s"] to /etc/docker/daemon.json on every node and restart Docker (or give the registry a certificate they trust)`, domain, domain)
	case strings.Contains(msg, "unauthorized") || strings.Contains(msg, "authentication required") || strings.Contains(msg, "denied") || strings.Contains(msg, "no basic auth credentials"):
		fix = fmt.Sprintf("log in first with 'docker login %s' (rscale uses the docker CLI's credentials), and check that your account may push there", domain)
	}
	return fmt.Errorf("pushing %s failed: %s. Nothing was deployed: %s", ref, msg, fix)
}
