package engine

import (
	"fmt"
	"io"
	"slices"
	"strings"
	"sync"

	"github.com/spf13/pflag"

	"github.com/rscale/rscale/pkg/haproxy"
)

// Options are what every engine is made with: the command line's global choices.
type Options struct {
	Context string    // --context: the engine's context; "" as the engine's own CLI chooses
	Notices io.Writer // where the engine says which cluster it acts on, when not the local default
}

// Registration is one engine as the commands know it. Registering it is all a new engine
// needs to be reachable from every command.
type Registration struct {
	// Name is the engine's --target value and x-rscale: target.
	Name string
	// Bind adds to the flag set of the command named command ("deploy", "ps", ...) the flags
	// only this engine takes, and returns how to make the engine with their values once the
	// command line is parsed. The commands refuse this engine's flags with another target.
	Bind func(command string, fs *pflag.FlagSet) func(Options) (Engine, error)
	// Proxies are the --proxy values rscale init may choose for this engine; nil for any.
	Proxies []string
	// HAProxy is how HAProxy reaches the API's replicas on this engine.
	HAProxy haproxy.Network
	// Dashboard says whether the proxy's dashboard (rscale init --dashboard), whose users file
	// is a secret, can be deployed on this engine.
	Dashboard bool
}

var (
	mu            sync.Mutex
	registrations []Registration
)

// Register makes an engine known to the commands; the first registered is the default.
func Register(r Registration) {
	mu.Lock()
	defer mu.Unlock()
	for _, have := range registrations {
		if have.Name == r.Name {
			panic("engine " + r.Name + " registered twice")
		}
	}
	registrations = append(registrations, r)
}

// Lookup finds a registered engine by name; "" is the default one.
func Lookup(name string) (Registration, error) {
	mu.Lock()
	defer mu.Unlock()
	if len(registrations) == 0 {
		return Registration{}, fmt.Errorf("no engine is registered")
	}
	if name == "" {
		return registrations[0], nil
	}
	for _, r := range registrations {
		if r.Name == name {
			return r, nil
		}
	}
	return Registration{}, fmt.Errorf("unknown target %q: choose %s", name, orList(namesLocked()))
}

// Names are the registered engines' names, the default first.
func Names() []string {
	mu.Lock()
	defer mu.Unlock()
	return namesLocked()
}

func namesLocked() []string {
	names := make([]string, len(registrations))
	for i, r := range registrations {
		names[i] = r.Name
	}
	return slices.Clip(names)
}

// orList joins names as a sentence does: "a", "a or b", "a, b or c".
func orList(names []string) string {
	if len(names) < 2 {
		return strings.Join(names, "")
	}
	return strings.Join(names[:len(names)-1], ", ") + " or " + names[len(names)-1]
}
