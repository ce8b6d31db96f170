// Package backend is what rscale's commands call to act on an engine: one interface, with
// engine-neutral options and results, that each engine (Docker Swarm in pkg/swarm; others
// beside it) implements. The commands get a Factory injected, so they never connect by
// themselves and can be tested against a fake engine.
package backend

import (
	"context"
	"io"
	"time"

	"github.com/compose-spec/compose-go/v2/types"
)

// Backend acts on one engine for one stack file's stacks. An implementation connects lazily,
// on its first call that needs the engine, so what can be checked without it (the stack
// file, the arguments) is refused before any connection is made.
type Backend interface {
	// Build builds the images of the project's services that have a build: section.
	Build(ctx context.Context, p *types.Project, o BuildOptions) ([]BuiltImage, error)
	// Deploy creates or updates the stack named stack from p and, unless o.Detach, waits
	// until every replica runs and is healthy.
	Deploy(ctx context.Context, p *types.Project, stack string, o DeployOptions) (*DeployResult, error)
	// Scale sets the replicas of services of a deployed stack; every target is checked
	// before anything changes.
	Scale(ctx context.Context, stack string, targets []ScaleTarget, o ScaleOptions) error
	// Ps reports every service of the stack; none when it is not deployed.
	Ps(ctx context.Context, stack string) ([]ServiceInfo, error)
	// Logs writes the logs of the named services (all the stack's when none) to out, each
	// line prefixed with its replica, such as "model_server.3 | ".
	Logs(ctx context.Context, stack string, services []string, o LogOptions, out io.Writer) error
	// Down removes the stack and reports whether there was anything to remove.
	Down(ctx context.Context, stack string, o DownOptions) (bool, error)
	// Close releases the connection, if one was made.
	Close() error
}

// EngineVersion is what `rscale version` reports about the engine.
type EngineVersion struct {
	Engine        string `json:"engine"` // such as "Docker Engine"
	Version       string `json:"version"`
	APIVersion    string `json:"api_version"`
	MinAPIVersion string `json:"min_api_version,omitempty"`
	OS            string `json:"os"`
	Arch          string `json:"arch"`
}

// Versioner is a Backend that can tell its engine's version.
type Versioner interface {
	EngineVersion(ctx context.Context) (EngineVersion, error)
}

// Options choose the engine a Factory makes a Backend for.
type Options struct {
	Target  string    // which engine: TargetSwarm (the default when empty) or TargetKubernetes
	Context string    // the engine's context (docker context, kubeconfig context); "" as the engine's CLI chooses
	Notices io.Writer // where the backend says which engine it acts on, when not the local default
	// Kubernetes: the kubeconfig file and namespace; "" as kubectl chooses (KUBECONFIG, the context's namespace).
	Kubeconfig string
	Namespace  string
}

// Targets a Factory may be asked for.
const (
	TargetSwarm      = "swarm"
	TargetKubernetes = "kubernetes"
)

// Factory makes the Backend a command acts through. It must not connect yet.
type Factory func(ctx context.Context, o Options) (Backend, error)

// BuildOptions tune Build.
type BuildOptions struct {
	Progress io.Writer // each build step
	Verbose  bool      // every line of the build, not only the steps
}

// BuiltImage is one image Build made: the reference the service is deployed with.
type BuiltImage struct {
	Service string
	Ref     string
}

// DeployOptions say how to deploy.
type DeployOptions struct {
	Build         bool
	Verbose       bool          // every line of the image build
	Init          bool          // Swarm: make a one-node swarm when the engine is in none
	AdvertiseAddr string        // Swarm: the address a new swarm advertises
	Prune         bool          // remove the stack's services the file no longer has
	Detach        bool          // return once the engine has the new spec
	Timeout       time.Duration // how long to wait for the replicas
	Batch         int           // most replicas starting at a time; 0: the engine's default
	Progress      io.Writer     // build steps, changes and convergence
	// Registry is where the built images are pushed, for every node to pull, and deployed
	// from, pinned by digest; "" takes the stack file's (x-rscale: registry:).
	Registry    string
	ServiceType string // Kubernetes: type of the proxy's Service (LoadBalancer, NodePort)
}

// DeployResult is what a deploy did.
type DeployResult struct {
	Stack string
	URLs  []string // where the proxy serves the API
}

// ScaleTarget is one SERVICE=REPLICAS argument; Service may carry the stack's prefix.
type ScaleTarget struct {
	Service  string
	Replicas uint64
}

// ScaleOptions say how to scale.
type ScaleOptions struct {
	Detach   bool
	Timeout  time.Duration
	Batch    int       // most replicas starting at a time; 0: the engine's default
	Progress io.Writer // convergence
}

// ServiceInfo is one line of `rscale ps`.
type ServiceInfo struct {
	Name    string     `json:"name"`
	Desired int        `json:"desired"`
	Running int        `json:"running"` // started, healthy or not yet
	Healthy *int       `json:"healthy"` // nil when the service has no health check
	Image   string     `json:"image"`
	Ports   []string   `json:"ports"`
	Nodes   []string   `json:"nodes"` // host names of the nodes its running replicas are on
	Tasks   []TaskInfo `json:"tasks,omitempty"`
}

// TaskInfo is one replica.
type TaskInfo struct {
	Name    string    `json:"name"` // service.slot, as docker stack ps shows it
	State   string    `json:"state"`
	Desired string    `json:"desired"`
	Node    string    `json:"node"` // the node's host name
	NodeID  string    `json:"node_id,omitempty"`
	Error   string    `json:"error,omitempty"`
	Since   time.Time `json:"since"`
	// Kubernetes pods only: ready (in the Service) and how often a container restarted.
	Ready    *bool  `json:"ready,omitempty"`
	Restarts *int32 `json:"restarts,omitempty"`
}

// LogOptions choose which lines Logs shows.
type LogOptions struct {
	Follow bool
	Tail   string // "all" or a number of lines per replica
	Since  string // a duration such as 10m, or a timestamp
}

// DownOptions say how to remove a stack.
type DownOptions struct {
	Timeout  time.Duration // how long to wait for the replicas to stop
	Progress io.Writer     // each object removed
}
