//go:build registrations

// The build tag above goes once swarm.Registration and kube.Registration exist (the swarm
// and kube branches): until then this branch builds and tests on the fake engine alone.

package cmd

import (
	"github.com/rscale/rscale/pkg/engine"
	"github.com/rscale/rscale/pkg/kube"
	"github.com/rscale/rscale/pkg/swarm"
)

// The engines every command can act on, Docker Swarm (the default) first. A new engine is
// one package and one line here.
func init() {
	engine.Register(swarm.Registration)
	engine.Register(kube.Registration)
}
