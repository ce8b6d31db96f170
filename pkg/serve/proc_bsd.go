//go:build unix && !linux

package serve

import (
	"net/http"
	"syscall"
)

// sysProcAttr puts a worker in a process group of its own, so a Ctrl-C at the terminal
// reaches rscale alone, which then lets the workers finish.
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true}
}

// workerTransport opens a new connection per request: httpuv's answers on a kept-alive
// connection wait 40 ms for delayed ACKs, which only Linux lets rscale ask to skip.
func workerTransport() http.RoundTripper {
	return &http.Transport{DisableKeepAlives: true, DisableCompression: true}
}
