//go:build unix

package serve

import (
	"os/exec"
	"syscall"
)

// signalGroup signals the worker's whole process group: R may have started processes of
// its own (parallel, callr), and none may outlive the worker.
func signalGroup(cmd *exec.Cmd, sig syscall.Signal) {
	if cmd.Process != nil {
		_ = syscall.Kill(-cmd.Process.Pid, sig)
	}
}
