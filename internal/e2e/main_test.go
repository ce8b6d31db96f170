package e2e

import (
	"os"
	"testing"

	"github.com/rscale/rscale/internal/harness/kubernetes"
)

// TestMain lets the end-to-end tests share one Kubernetes cluster (internal/harness/kubernetes). The
// acceptance scripts are cmd's (cmd/script_test.go).
func TestMain(m *testing.M) { os.Exit(kubernetes.Run(m)) }
