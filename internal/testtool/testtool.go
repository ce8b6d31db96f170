// Package testtool holds the small helpers that tests of several packages need: finding a
// tool a test runs, and a server that plays a hung engine.
package testtool

import (
	"net"
	"os"
	"os/exec"
	"sync"
	"testing"
	"time"
)

// Need finds a tool a test depends on. CI installs them all, so there a missing tool fails
// the test; elsewhere the test is skipped.
func Need(t testing.TB, tool string) string {
	t.Helper()
	path, err := exec.LookPath(tool)
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("%s is not installed; .ci/run should have installed it", tool)
		}
		t.Skipf("%s is not installed", tool)
	}
	return path
}

// Hang accepts connections on l and never answers them, as a hung engine does. With
// hangUp > 0 each connection is closed after that long, so that a client without a deadline
// fails instead of hanging its test. stop closes l and every connection still open.
func Hang(l net.Listener, hangUp time.Duration) (stop func()) {
	var mu sync.Mutex
	var conns []net.Conn
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
			if hangUp > 0 {
				time.AfterFunc(hangUp, func() { c.Close() })
			}
		}
	}()
	return func() {
		l.Close()
		mu.Lock()
		defer mu.Unlock()
		for _, c := range conns {
			c.Close()
		}
	}
}

// HungServer listens on network and address (such as "unix" and a socket's path, or "tcp"
// and "127.0.0.1:0") and hangs every connection until the test ends; it returns the address.
func HungServer(t testing.TB, network, address string) string {
	t.Helper()
	l, err := net.Listen(network, address)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(Hang(l, 0))
	return l.Addr().String()
}
