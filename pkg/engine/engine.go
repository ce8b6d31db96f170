// Package engine is the narrow interface each engine rscale deploys to implements (Docker
// Swarm in pkg/swarm, Kubernetes in pkg/kube), with the engine-neutral types it speaks, and
// the registry the commands find the engines in. What is common to every engine (build,
// push, pin, apply, wait, roll back, progress) is written once, over this interface, in
// pkg/pipeline; an engine keeps only what is truly its own.
package engine

import (
	"context"
	"errors"
	"io"
	"time"

	"github.com/rscale/rscale/pkg/docker"
	"github.com/rscale/rscale/pkg/stack"
)

// MaxReplicas is the most replicas rscale gives one service, on every engine. Kubernetes
// holds a count in an int32 and Swarm in a uint64, so both could hold far more; but the
// proxy needs a server slot per replica, and a count past ten thousand R processes is a
// typo, not a plan: refusing it beats asking a cluster for a billion containers.
const MaxReplicas = 10000

// Engine acts on one cluster for the stacks of one stack file. New makes one without
// connecting: an Engine connects on its first call that needs the cluster, so what can be
// checked without it (the stack file, the arguments, Plan) is refused before any connection.
type Engine interface {
	// Plan converts a resolved stack into this engine's objects, asking the cluster nothing.
	// images maps a service to the image it runs (built, pushed and pinned by the pipeline);
	// a service not in it runs the image the stack file names.
	Plan(s *stack.Stack, images map[string]string) (Plan, error)
	// Prepare checks, before anything is built, that the cluster can take the plan (Swarm:
	// external networks, images reaching every node; Kubernetes: the namespace), and readies
	// it (Swarm: a one-node swarm when asked). builtServices are the services the pipeline
	// builds an image for, and pushTo the registry they go to ("" for none).
	Prepare(ctx context.Context, p Plan, o PrepareOptions) error
	// Apply makes the cluster hold the plan's objects, and reports what it did per service.
	Apply(ctx context.Context, p Plan, o ApplyOptions) ([]Change, error)
	// Status reports how far each target is from running all its replicas, ready, on the
	// revision Apply gave it (a Change with no Revision: whatever revision it has).
	Status(ctx context.Context, stack string, targets []Change) ([]Status, error)
	// Resolve finds the deployed stack's services for SERVICE=N arguments (a name with or
	// without the stack's prefix), before anything changes; ErrNotDeployed when the stack is
	// not deployed, and an error naming the services it has for one it does not have.
	Resolve(ctx context.Context, stack string, services []string) ([]Change, error)
	// SetReplicas asks for n replicas of a deployed service of the stack (its short name), on
	// the way to target (n < target while a Pacing adds replicas a few at a time). The engine
	// keeps target with the service, so that a deploy rerun after an interrupted ramp adds
	// the rest instead of calling n replicas done.
	SetReplicas(ctx context.Context, stack, service string, n, target uint64) error
	// Services describes the deployed stack's services, as `rscale ps` shows them; none when
	// it is not deployed.
	Services(ctx context.Context, stack string) ([]ServiceInfo, error)
	// Logs writes the logs of the named services (short names; all the stack's when none) to
	// out, each line prefixed with its replica, such as "model_server.3 | ".
	Logs(ctx context.Context, stack string, services []string, o LogOptions, out io.Writer) error
	// Remove removes the stack and waits, within o.Timeout, until its replicas are gone; it
	// reports whether there was anything to remove.
	Remove(ctx context.Context, stack string, o RemoveOptions) (bool, error)
	// URLs are where the deployed stack's proxy answers, from this machine.
	URLs(ctx context.Context, stack string) ([]string, error)
	// Version tells the engine's version.
	Version(ctx context.Context) (Version, error)
	// Images is the Docker engine that builds the stack's images and pushes them.
	Images(ctx context.Context) (docker.API, error)
	// Close releases what the engine holds, if it connected.
	Close() error
}

// Plan is what one engine will create for a stack; only that engine reads its insides.
type Plan interface {
	// Stack is the stack's name.
	Stack() string
	// Services are the services the plan deploys, by short name, sorted.
	Services() []string
}

// Renderer is an Engine that can print a plan as the objects it would apply, for
// `deploy --dry-run` (format "yaml" or "json").
type Renderer interface {
	Render(p Plan, format string) ([]byte, error)
}

// Pacer is an Engine that adds many replicas a few at a time (Swarm starts all it is asked
// for at once, and a hundred R processes starting together on two cores all fail their
// health checks). The pipeline asks it for a Pacing per deploy or scale.
type Pacer interface {
	Pacing(ctx context.Context, batch int) Pacing
}

// Pacing is how replicas are added on the way to a target.
type Pacing interface {
	// First is how many replicas to ask for now, of target, for a service that has current.
	First(current, target uint64) uint64
	// Next is how many to ask for, given the service's status, on the way to target; false
	// when the count should stay as it is for now.
	Next(s Status, target uint64) (uint64, bool)
	// String says how replicas are added, for progress lines ("8 starting at a time").
	String() string
}

// RollBacker is an Engine that the pipeline rolls back itself when a new version never
// becomes ready (Kubernetes: the previous ReplicaSet's template). An engine that rolls back
// by itself (Swarm's update_config: failure_action: rollback) reports that through Status.Err
// wrapping ErrRolledBack instead.
type RollBacker interface {
	// RollBack puts the previous version of each service back; it returns, per service that
	// could not be, why (ErrNoPreviousVersion for a first deploy).
	RollBack(ctx context.Context, p Plan, services []string) map[string]error
}

var (
	// ErrRolledBack: the engine put the previous version back because the new one failed.
	ErrRolledBack = errors.New("rolled back")
	// ErrNoPreviousVersion: there is no version to roll back to.
	ErrNoPreviousVersion = errors.New("no previous version to roll back to")
	// ErrNotDeployed: the stack is not deployed.
	ErrNotDeployed = errors.New("not deployed")
)

// PrepareOptions say what Prepare must make sure of.
type PrepareOptions struct {
	BuiltServices []string  // services whose image the pipeline builds (short names)
	Registry      string    // where built images are pushed; "" when they stay on the Docker engine
	Progress      io.Writer // what it did, such as "Made this machine a one-node swarm"
}

// ApplyOptions tune Apply.
type ApplyOptions struct {
	Prune    bool      // remove the stack's services (and their objects) the plan no longer has
	Pacing   Pacing    // caps the replicas a service gains at once; nil: no cap
	Progress io.Writer // one line per object created, updated or removed
}

// Change is what Apply did to one service, and what the pipeline then waits for.
type Change struct {
	Service  string // short name
	Action   string // "created", "updated", "unchanged" or "removed"
	Revision string // the engine's name for the version the service now has; "" for any
	Replicas uint64 // the replicas it is to have; under a Pacing it may have fewer yet
}

// Status is how far one service is from what it should be.
type Status struct {
	Service  string // short name
	Desired  int    // replicas asked for now
	Running  int    // replicas started, ready or not yet
	Ready    int    // replicas of the current revision, ready
	Done     bool   // every replica asked for runs the current revision, ready, and nothing else runs
	Updating bool   // the engine is replacing replicas: no pacing meanwhile
	Detail   string // shown after the counts, such as "updating, one replica at a time"
	// Err says that waiting cannot succeed: an image the nodes cannot pull, a replica that
	// keeps crashing (with the last lines it printed), a version the engine rolled back
	// (wrapping ErrRolledBack). The pipeline stops waiting at once.
	Err error
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
	Name    string    `json:"name"` // service.slot, as docker stack ps shows it, or the pod's name
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

// RemoveOptions say how to remove a stack.
type RemoveOptions struct {
	Timeout  time.Duration // how long to wait for the replicas to stop
	Progress io.Writer     // each object removed
}

// Version is what `rscale version` reports about the engine.
type Version struct {
	Engine        string `json:"engine"` // such as "Docker Engine"
	Version       string `json:"version"`
	APIVersion    string `json:"api_version"`
	MinAPIVersion string `json:"min_api_version,omitempty"`
	OS            string `json:"os"`
	Arch          string `json:"arch"`
}
