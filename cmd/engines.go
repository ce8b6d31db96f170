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
