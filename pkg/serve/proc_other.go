//go:build !unix

package serve

import (
	"net/http"
	"os/exec"
	"syscall"
)

func sysProcAttr() *syscall.SysProcAttr { return nil }

// signalGroup ends the worker: without process groups, only the worker itself.
func signalGroup(cmd *exec.Cmd, _ syscall.Signal) {
	if cmd.Process != nil {
		_ = cmd.Process.Kill()
	}
}

// workerTransport opens a new connection per request: httpuv's answers on a kept-alive
// connection wait 40 ms for delayed ACKs.
func workerTransport() http.RoundTripper {
	return &http.Transport{DisableKeepAlives: true, DisableCompression: true}
}
