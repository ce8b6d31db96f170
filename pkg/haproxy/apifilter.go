package haproxy

import (
	"fmt"
	"strings"
)

// apiFilterTemplate is the template of the Docker API filter's configuration.
const apiFilterTemplate = "docker-api.cfg.tmpl"

// Where the Docker API filter finds the engine and listens, inside its container.
const (
	DockerSocket  = "/var/run/docker.sock"
	APIFilterPort = 2375
)

// APIFilter is the HAProxy that stands between Traefik and the Docker Engine API: it alone
// holds the engine's socket, and passes on only the reads Traefik's Swarm provider makes.
type APIFilter struct {
	Version string // rscale's, written into the header
	Socket  string // the Docker Engine's unix socket
	Bind    string // the address Traefik reaches the filter at, such as ":2375"
}

// RenderAPIFilter writes the Docker API filter's configuration.
func RenderAPIFilter(f APIFilter) ([]byte, error) {
	if !strings.HasPrefix(f.Socket, "/") || strings.ContainsAny(f.Socket, " \t\n\"'#") {
		return nil, fmt.Errorf("the Docker API filter's socket %q is not an absolute path HAProxy reads as it is", f.Socket)
	}
	if f.Bind == "" || strings.ContainsAny(f.Bind, " \t\n\"'#") {
		return nil, fmt.Errorf("the Docker API filter's address %q is not one HAProxy can bind", f.Bind)
	}
	return execute(apiFilterTemplate, f)
}
