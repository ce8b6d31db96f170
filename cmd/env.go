package cmd

import (
	"time"

	"github.com/rscale/rscale/pkg/engine"
)

// Env is what the commands are given instead of making it themselves: the IO streams, and
// how an engine is made, so that tests can run every command against a fake engine.
type Env struct {
	Streams
	// NewEngine makes the engine named r.Name from the make its Registration.Bind returned,
	// with o; nil calls make. Tests use it to put a real engine on a fake API.
	NewEngine func(r engine.Registration, make func(engine.Options) (engine.Engine, error), o engine.Options) (engine.Engine, error)
	// Interval is how often a wait looks at the services; 0: the pipeline's default.
	Interval time.Duration
	global   *globalOptions // set by NewRootCmd
}

// globalOptions are the flags every command has.
type globalOptions struct {
	context string
}

// DefaultEnv is the process's streams and the registered engines.
func DefaultEnv() Env {
	return Env{Streams: DefaultStreams()}
}

// engineOptions are the choices of engine the global flags make.
func (e Env) engineOptions() engine.Options {
	o := engine.Options{Notices: e.ErrOut}
	if e.global != nil {
		o.Context = e.global.context
	}
	return o
}
