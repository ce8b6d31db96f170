package scaffold

import (
	"bytes"
	"fmt"
	"path/filepath"
	"text/template"
	"time"

	"github.com/rscale/rscale/pkg/haproxy"
	"github.com/rscale/rscale/pkg/launcher"
	"github.com/rscale/rscale/pkg/project"
	stackfile "github.com/rscale/rscale/pkg/stack"
	"github.com/rscale/rscale/pkg/stackname"
	"github.com/rscale/rscale/pkg/sysreqs"
	"github.com/rscale/rscale/templates"
)

// File is one file init writes, relative to the project folder.
type File struct {
	Path string
	Data []byte
}

// data is what the templates see.
type data struct {
	Options
	Version               string
	Stack                 string
	Network               string
	Router                string
	RVersion              string
	RVersionSource        string
	Packages              []string
	SystemLibraries       []string
	Renv                  bool
	RenvVersion           string // the renv version renv.lock records, installed to restore it
	DashboardUser         string
	DashboardUsers        string // the secret file the proxy reads the dashboard's user from
	DashboardPasswordFile string
	AlivePath             string
	RequestSeconds        int
	QueueSeconds          int
	EdgeSeconds           int                 // Traefik's limit: a request's longest wait in the queue and in R, and a margin
	DrainSeconds          int                 // how long a stopping replica waits for the proxy to leave it out
	StopSeconds           int                 // how long Swarm lets a stopping replica drain before it kills it
	XRscale               stackfile.Extension // the stack file's x-rscale: block
	// Behind Traefik: the Docker API filter, its file in .rscale/, its port, the network
	// only it and Traefik join, and the engine's socket it alone mounts.
	APIFilterService string
	APIFilterFile    string
	APIFilterPort    int
	APIFilterNetwork string
	DockerSocket     string
}

// Render produces the files for p. version is rscale's, written into each file's header.
func Render(p *project.Project, o Options, version string) ([]File, error) {
	if err := o.Validate(); err != nil {
		return nil, err
	}
	stack := o.StackName
	if stack == "" {
		var err error
		if stack, err = stackname.FromFolder(filepath.Base(absolute(p.Dir)), o.longestService()); err != nil {
			return nil, err
		}
	}
	d := data{
		Options:               o,
		Version:               version,
		Stack:                 stack,
		Network:               stackname.Scoped(stack, "backend"),
		Router:                stack + "-" + o.Service,
		RVersion:              p.RVersion,
		RVersionSource:        p.RVersionSource,
		Packages:              p.Packages,
		SystemLibraries:       sysreqs.For(p.Packages),
		Renv:                  p.Renv != nil,
		DashboardUser:         DashboardUser,
		DashboardUsers:        DashboardUsersFile,
		DashboardPasswordFile: DashboardPasswordFile,
		AlivePath:             launcher.AlivePath,
		RequestSeconds:        int(o.RequestTimeout / time.Second),
		QueueSeconds:          int(o.QueueTimeout / time.Second),
		DrainSeconds:          drainSeconds,
		APIFilterService:      APIFilterService,
		APIFilterFile:         apiFilterFile,
		APIFilterPort:         haproxy.APIFilterPort,
		APIFilterNetwork:      apiFilterNetwork,
		DockerSocket:          haproxy.DockerSocket,
	}
	d.EdgeSeconds = d.RequestSeconds + d.QueueSeconds + edgeMarginSeconds
	d.StopSeconds = drainSeconds + d.RequestSeconds + stopMarginSeconds
	if d.Image == "" {
		d.Image = stack + "/" + o.Service + ":latest"
	}
	if d.BaseImage == "" {
		d.BaseImage = DefaultRImage + ":" + p.RVersion
	}
	if d.ProxyImage == "" {
		d.ProxyImage = map[string]string{ProxyTraefik: DefaultTraefikImage, ProxyHAProxy: DefaultHAProxyImage}[o.Proxy]
	}
	if d.QueueImage == "" {
		d.QueueImage = DefaultHAProxyImage
	}
	if p.Renv != nil {
		for _, pkg := range p.Renv.Packages {
			if pkg.Name == "renv" {
				d.RenvVersion = pkg.Version
			}
		}
	}
	d.XRscale = stackfile.Extension{
		Stack:    stack,
		Target:   o.Target,
		Registry: o.Registry,
		// Both proxies: HAProxy is the proxy, or the queue behind Traefik.
		MaxReplicas:    map[string]uint64{o.Service: uint64(o.MaxReplicas)},
		RequestTimeout: fmt.Sprintf("%ds", d.RequestSeconds),
		QueueTimeout:   fmt.Sprintf("%ds", d.QueueSeconds),
	}
	if o.Dashboard {
		d.XRscale.DashboardURL = o.DashboardURL()
		d.XRscale.DashboardUser = DashboardUser
		d.XRscale.DashboardPasswordFile = DashboardPasswordFile
	}
	return renderFiles(d)
}

// renderFiles renders every file init writes, in the order init reports them.
func renderFiles(d data) ([]File, error) {
	plan := []struct{ path, template string }{
		{"Dockerfile", "Dockerfile.tmpl"},
		{".dockerignore", "dockerignore.tmpl"},
		{".rscale/launch.R", "launch.R.tmpl"},
		{".rscale/install.R", "install.R.tmpl"},
		{".rscale/healthcheck.sh", "healthcheck.sh.tmpl"},
		{".rscale/entry.sh", "entry.sh.tmpl"},
		{d.StackFile, "stack.yml.tmpl"},
	}
	files := make([]File, 0, len(plan)+3)
	for _, f := range plan {
		out, err := render(f.template, d)
		if err != nil {
			return nil, err
		}
		files = append(files, File{Path: f.path, Data: out})
	}
	// Both proxies: HAProxy is the proxy, or the queue behind Traefik.
	cfg, err := haproxy.Render(d.haproxyConfig(), d.haproxyNetwork())
	if err != nil {
		return nil, err
	}
	files = append(files, File{Path: "haproxy.cfg", Data: cfg})
	if d.Proxy == ProxyTraefik {
		filter, err := haproxy.RenderAPIFilter(haproxy.APIFilter{
			Version: d.Version, Socket: d.DockerSocket, Bind: fmt.Sprintf(":%d", d.APIFilterPort),
		})
		if err != nil {
			return nil, err
		}
		files = append(files, File{Path: ".rscale/" + d.APIFilterFile, Data: filter})
	}
	if d.Dashboard {
		out, err := render("gitignore.tmpl", d)
		if err != nil {
			return nil, err
		}
		files = append(files, File{Path: ".rscale/.gitignore", Data: out})
	}
	return files, nil
}

// haproxyConfig is what haproxy.cfg says beyond the engine's network.
func (d data) haproxyConfig() haproxy.Config {
	c := haproxy.Config{
		Version:        d.Version,
		Service:        d.Service,
		Port:           d.Port,
		MaxReplicas:    d.MaxReplicas,
		RequestTimeout: d.RequestTimeout,
		QueueTimeout:   d.QueueTimeout,
		BehindTraefik:  d.Proxy == ProxyTraefik,
	}
	// Behind Traefik, the dashboard is Traefik's.
	if d.Dashboard && d.Proxy == ProxyHAProxy {
		c.StatsPort, c.StatsUsers = d.DashboardPort(), DashboardUsersFile
	}
	return c
}

// haproxyNetwork is the target's network, Swarm's when the caller gave none.
func (d data) haproxyNetwork() haproxy.Network {
	if d.HAProxy == (haproxy.Network{}) {
		return haproxy.Swarm
	}
	return d.HAProxy
}

// Launcher renders the R launcher alone, for running the API outside a container (rscale
// serve): the same script, so the API behaves the same in both.
func Launcher(version string) ([]byte, error) {
	return render("launch.R.tmpl", data{Options: DefaultOptions(), Version: version, AlivePath: launcher.AlivePath})
}

// funcs escape the values the templates interpolate, for the language of each file.
var funcs = template.FuncMap{
	// yaml quotes a string for the stack file.
	"yaml":       stackfile.QuoteYAML,
	"rstring":    rstring,
	"rlist":      rlist,
	"dockerword": dockerword,
}

func render(name string, d data) ([]byte, error) {
	t, err := template.New(name).Funcs(funcs).Option("missingkey=error").ParseFS(templates.FS, name)
	if err != nil {
		return nil, fmt.Errorf("template %s: %w", name, err)
	}
	var b bytes.Buffer
	if err := t.Execute(&b, d); err != nil {
		return nil, fmt.Errorf("template %s: %w", name, err)
	}
	return b.Bytes(), nil
}

func absolute(dir string) string {
	if abs, err := filepath.Abs(dir); err == nil {
		return abs
	}
	return dir
}
