package serve

import (
	"context"
	"net"
	"net/http"
	"syscall"
	"time"
)

// sysProcAttr puts a worker in a process group of its own, so a Ctrl-C at the terminal
// reaches rscale alone (which then lets the workers finish), and has the kernel kill the
// worker if rscale itself dies.
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
}

// workerTransport keeps connections to the workers alive. httpuv writes an answer's
// headers and body separately, and the body waits for the headers' ACK (Nagle), which the
// kernel delays by 40 ms on a connection past its first packets: asking for a quick ACK
// before each read keeps a reused connection as fast as a new one, without its handshake.
func workerTransport() http.RoundTripper {
	dialer := &net.Dialer{}
	return &http.Transport{
		DisableCompression:  true,
		MaxIdleConnsPerHost: 2,
		IdleConnTimeout:     time.Minute,
		DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			conn, err := dialer.DialContext(ctx, network, addr)
			if err != nil {
				return nil, err
			}
			raw, err := conn.(*net.TCPConn).SyscallConn()
			if err != nil {
				return conn, nil
			}
			return &quickAckConn{Conn: conn, raw: raw}, nil
		},
	}
}

type quickAckConn struct {
	net.Conn
	raw syscall.RawConn
}

func (c *quickAckConn) Read(p []byte) (int, error) {
	_ = c.raw.Control(func(fd uintptr) {
		_ = syscall.SetsockoptInt(int(fd), syscall.IPPROTO_TCP, syscall.TCP_QUICKACK, 1)
	})
	return c.Conn.Read(p)
}
