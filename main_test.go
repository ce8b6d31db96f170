package main

import (
	"os"
	"testing"

	"github.com/rscale/rscale/internal/k8sharness"
)

// TestMain lets the end-to-end tests share one Kubernetes cluster (k8sharness). The
// acceptance scripts are cmd's (cmd/script_test.go).
func TestMain(m *testing.M) { os.Exit(k8sharness.Run(m)) }
