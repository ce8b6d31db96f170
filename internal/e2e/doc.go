// Package e2e holds rscale's end-to-end tests: the CLI run in-process (through cmd.Run)
// against the real Docker engine and Swarm, a three-node swarm (internal/harness/multinode),
// a Kubernetes cluster (internal/harness/kubernetes), and rscale serve with R. `make e2e`
// runs them; they skip where the engine or R is missing, and fail instead when CI is set.
package e2e
