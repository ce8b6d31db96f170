// Package scaffold renders the files `rscale init` writes into a project: the Dockerfile,
// its .dockerignore, the R launcher and installer, the stack file and the proxy's config.
package scaffold

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/distribution/reference"
	"github.com/docker/go-units"

	"github.com/rscale/rscale/pkg/engine"
	"github.com/rscale/rscale/pkg/haproxy"
	"github.com/rscale/rscale/pkg/registry"
	"github.com/rscale/rscale/pkg/stackname"
)

// Proxies rscale can put in front of the API.
const (
	ProxyTraefik = "traefik"
	ProxyHAProxy = "haproxy"
)

// proxyTitles are the proxies' names as their makers write them, for messages.
var proxyTitles = map[string]string{ProxyTraefik: "Traefik", ProxyHAProxy: "HAProxy"}

// Images used unless the user names others; pinned so a deploy today and next year run the same proxy.
const (
	DefaultTraefikImage = "traefik:v3.7.3"
	DefaultHAProxyImage = "haproxy:3.2.23"
	DefaultRImage       = "rocker/r-ver"
)

// Services init puts beside the API: the proxy published on the node and, behind Traefik,
// the HAProxy queue that gives each R process one request at a time, and the HAProxy that
// lets Traefik read the Swarm API and do nothing else.
const (
	ProxyService     = "proxy"
	QueueService     = "queue"
	APIFilterService = "docker-api"
)

// The Docker API filter's file in .rscale/ and the network only it and Traefik join.
const (
	apiFilterFile    = "docker-api.cfg"
	apiFilterNetwork = "docker_api"
)

// Options are the choices `rscale init` offers; the zero value of a field means "the default".
type Options struct {
	StackFile   string // file name of the stack file, "rscale.yml"
	StackName   string // "" derives it from the folder name
	Service     string // the API's service, "model_server"
	Image       string // "" gives "<stack>/<service>:latest"
	BaseImage   string // "" gives rocker/r-ver:<R version>
	Replicas    int
	MaxReplicas int // replicas HAProxy makes room for
	Port        int // the port R listens on inside the container
	ProxyPort   int // the port the proxy publishes on the node
	Proxy       string
	ProxyImage  string
	QueueImage  string // HAProxy behind Traefik; "" gives DefaultHAProxyImage
	HealthPath  string
	Dashboard   bool
	// RequestTimeout is the longest one request may keep an R process busy: HAProxy's
	// server timeout and the health check's limit before it calls a replica stuck.
	RequestTimeout time.Duration
	// QueueTimeout is the longest a request waits for a free R process before a 503.
	QueueTimeout time.Duration
	CPUs         string // limit per replica, as docker accepts it ("1.5")
	Memory       string // limit per replica, as docker accepts it ("512M")
	// Target is the engine deploy uses unless told otherwise, recorded in the stack file:
	// "" for the default, or a registered engine's name (the caller checks it).
	Target string
	// Proxies are the proxies Target takes (its registration's); nil for any.
	Proxies []string
	// HAProxy is how HAProxy reaches the API's replicas on Target; the zero value is Swarm's.
	HAProxy  haproxy.Network
	Registry string // where deploy pushes the images it builds (host[:port][/path]); "" for none
	CRAN     string // R package repository: a URL, or a date (2024-06-03) for a dated snapshot; "" keeps the base image's
}

// DefaultOptions are the defaults the README documents.
func DefaultOptions() Options {
	return Options{
		StackFile:   "rscale.yml",
		Service:     "model_server",
		Replicas:    2,
		MaxReplicas: 100,
		Port:        8000,
		ProxyPort:   80,
		Proxy:       ProxyHAProxy,
		HealthPath:  "/healthz",
		// Long model runs are R's daily bread; a browser gives up after about 5 minutes anyway.
		RequestTimeout: 300 * time.Second,
		QueueTimeout:   120 * time.Second,
	}
}

// Validate checks the options before anything is read or written, and says how to fix a bad one.
func (o Options) Validate() error {
	if o.Replicas < 1 {
		return fmt.Errorf("--replicas %d: a stack needs at least 1 replica of the API (try --replicas 2)", o.Replicas)
	}
	if o.MaxReplicas < 1 {
		return fmt.Errorf("--max-replicas %d: must be at least 1", o.MaxReplicas)
	}
	if o.MaxReplicas > engine.MaxReplicas {
		return fmt.Errorf("--max-replicas %d: rscale runs at most %d replicas of a service", o.MaxReplicas, engine.MaxReplicas)
	}
	if o.Replicas > o.MaxReplicas {
		return fmt.Errorf("--replicas %d is more than --max-replicas %d: raise --max-replicas so the proxy has room for every replica", o.Replicas, o.MaxReplicas)
	}
	if err := checkPort("--port", o.Port); err != nil {
		return err
	}
	if err := checkPort("--proxy-port", o.ProxyPort); err != nil {
		return err
	}
	switch o.Proxy {
	case ProxyTraefik, ProxyHAProxy:
	default:
		return fmt.Errorf("unknown --proxy %q: choose %s or %s", o.Proxy, ProxyHAProxy, ProxyTraefik)
	}
	if o.Proxies != nil && !slices.Contains(o.Proxies, o.Proxy) {
		titles := make([]string, len(o.Proxies))
		for i, p := range o.Proxies {
			titles[i] = proxyTitles[p]
		}
		return fmt.Errorf("--target %s runs %s in front of R: use --proxy %s", o.Target, strings.Join(titles, " or "), strings.Join(o.Proxies, " or "))
	}
	if o.Proxy == ProxyHAProxy && o.QueueImage != "" {
		return fmt.Errorf("--queue-image is the HAProxy image behind --proxy traefik; with --proxy haproxy the proxy is the queue: give its image with --proxy-image")
	}
	if err := checkTimeout("--request-timeout", o.RequestTimeout); err != nil {
		return err
	}
	if err := checkTimeout("--queue-timeout", o.QueueTimeout); err != nil {
		return err
	}
	if err := stackname.CheckService(o.Service); err != nil {
		return fmt.Errorf("--service: %w", err)
	}
	if o.Service == ProxyService || o.Service == QueueService || o.Service == APIFilterService {
		return fmt.Errorf("--service %q is the name of a service init adds beside the API: choose another, such as model_server", o.Service)
	}
	if o.StackName != "" {
		if err := stackname.Check(o.StackName, o.longestService()); err != nil {
			return fmt.Errorf("--name: %w", err)
		}
	}
	if err := checkHealthPath(o.HealthPath); err != nil {
		return err
	}
	if err := checkCRAN(o.CRAN); err != nil {
		return err
	}
	if o.StackFile == "" || strings.ContainsAny(o.StackFile, `/\`) {
		return fmt.Errorf("--file %q: give a file name in the project folder, such as rscale.yml", o.StackFile)
	}
	if o.Registry != "" {
		if err := registry.Check(o.Registry); err != nil {
			return fmt.Errorf("--registry: %w", err)
		}
	}
	if o.CPUs != "" {
		if n, err := strconv.ParseFloat(o.CPUs, 64); err != nil || n <= 0 {
			return fmt.Errorf("--cpus %q: give a positive number of CPUs per replica, such as 1 or 0.5", o.CPUs)
		}
	}
	if o.Memory != "" {
		n, err := units.RAMInBytes(o.Memory)
		if err != nil || n <= 0 {
			return fmt.Errorf("--memory %q: give an amount of memory per replica, such as 512M or 2G", o.Memory)
		}
		if n < MinMemory {
			return fmt.Errorf("--memory %s is less than R needs to start the API: R with plumber loaded takes about 72M before any request; give %s or more, such as 512M",
				o.Memory, units.BytesSize(MinMemory))
		}
	}
	return checkImages(map[string]string{"--image": o.Image, "--base-image": o.BaseImage, "--proxy-image": o.ProxyImage})
}

// MinMemory is the least --memory init accepts: R 4.2.2 with plumber loaded has a resident
// size of 72 MiB (measured), and a replica killed for lack of memory while it starts would
// restart without end.
const MinMemory = 128 << 20

// checkImages refuses an image reference Docker would refuse, naming its flag.
func checkImages(flags map[string]string) error {
	for _, flag := range []string{"--image", "--base-image", "--proxy-image"} {
		ref := flags[flag]
		if ref == "" {
			continue
		}
		if _, err := reference.ParseNormalizedNamed(ref); err != nil {
			return fmt.Errorf("%s %q is not an image reference: %v; write one such as rocker/r-ver:4.4.2 (lower case, no spaces)", flag, ref, err)
		}
	}
	return nil
}

func (o Options) longestService() string {
	longest := ProxyService
	if o.Proxy == ProxyTraefik {
		longest = APIFilterService
	}
	if len(o.Service) > len(longest) {
		return o.Service
	}
	return longest
}

func checkPort(flag string, port int) error {
	if port < 1 || port > 65535 {
		return fmt.Errorf("%s %d is out of range: a port is a number from 1 to 65535", flag, port)
	}
	return nil
}

// checkTimeout wants whole seconds: the health check compares them with date +%s.
func checkTimeout(flag string, d time.Duration) error {
	if d < time.Second || d%time.Second != 0 {
		return fmt.Errorf("%s %s: give a whole number of seconds, at least 1, such as 300s or 5m", flag, d)
	}
	return nil
}
