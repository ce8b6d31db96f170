package haproxy

import (
	"bytes"
	"fmt"
	"strconv"
	"strings"
	"text/template"
	"time"

	"github.com/rscale/rscale/pkg/launcher"
	"github.com/rscale/rscale/templates"
)

// templateName is the template, in the templates folder, that every engine's config comes from.
const templateName = "haproxy.cfg.tmpl"

// Config is what the configuration says beyond the network: the API it serves and the
// limits rscale init was given.
type Config struct {
	Version     string // rscale's, written into the header
	Service     string // the API's service: the backend's name, and {service} in Network.Servers
	Port        int    // the port R listens on in each replica
	MaxReplicas int    // the replicas HAProxy makes room for (server slots)
	// RequestTimeout is the longest one request may keep an R process busy; QueueTimeout
	// the longest a request waits for a free one. HAProxy takes whole seconds.
	RequestTimeout time.Duration
	QueueTimeout   time.Duration
	// BehindTraefik: HAProxy is the queue behind Traefik, which asks whether it is ready.
	BehindTraefik bool
	// StatsPort, when not 0, publishes HAProxy's statistics there, for the users of the
	// userlist "dashboard" in the file StatsUsers (read as a second configuration file).
	StatsPort  int
	StatsUsers string
}

// view is what the template sees.
type view struct {
	Config
	Network
	RequestSeconds, QueueSeconds int
	AlivePath                    string
}

// Render writes the configuration for c on network n.
func Render(c Config, n Network) ([]byte, error) {
	if n.Servers == "" || n.Bind < 1 || n.Bind > 65535 {
		return nil, fmt.Errorf("HAProxy's network %+v names no servers or no port to listen on: the engine's registration is incomplete", n)
	}
	if c.RequestTimeout%time.Second != 0 || c.QueueTimeout%time.Second != 0 {
		return nil, fmt.Errorf("HAProxy's timeouts are whole seconds, not %s and %s: give --request-timeout and --queue-timeout in seconds, such as 300s", c.RequestTimeout, c.QueueTimeout)
	}
	v := view{
		Config:         c,
		Network:        n,
		RequestSeconds: int(c.RequestTimeout / time.Second),
		QueueSeconds:   int(c.QueueTimeout / time.Second),
		AlivePath:      launcher.AlivePath,
	}
	v.Servers = serverAddress(n, c.Service, c.Port)
	return execute(templateName, v)
}

// execute renders the template name, from the templates folder, with v.
func execute(name string, v any) ([]byte, error) {
	t, err := template.New(name).Option("missingkey=error").ParseFS(templates.FS, name)
	if err != nil {
		return nil, fmt.Errorf("template %s: %w", name, err)
	}
	var b bytes.Buffer
	if err := t.Execute(&b, v); err != nil {
		return nil, fmt.Errorf("template %s: %w", name, err)
	}
	return b.Bytes(), nil
}

// serverAddress is server-template's address: the network's name for the service's
// replicas, and R's port. HAProxy expands environment variables only between double quotes.
func serverAddress(n Network, service string, port int) string {
	addr := strings.ReplaceAll(n.Servers, "{service}", service) + ":" + strconv.Itoa(port)
	if strings.Contains(addr, "$") {
		return `"` + addr + `"`
	}
	return addr
}
