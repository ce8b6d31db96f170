// Command rscale runs an R Plumber API at scale, on Docker Swarm or Kubernetes.
package main

import (
	"os"

	"github.com/rscale/rscale/cmd"
)

func main() {
	os.Exit(cmd.Main(cmd.DefaultStreams()))
}
