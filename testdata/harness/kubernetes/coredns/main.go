// Command coredns is the harness cluster's DNS: CoreDNS with only the plugins a Kubernetes
// cluster's DNS needs (Services, headless Services and pods under cluster.local, the rest
// forwarded upstream), so that it builds in a fraction of the full server's time.
package main

import (
	"github.com/coredns/coredns/core/dnsserver"
	"github.com/coredns/coredns/coremain"

	_ "github.com/coredns/coredns/plugin/cache"
	_ "github.com/coredns/coredns/plugin/errors"
	_ "github.com/coredns/coredns/plugin/forward"
	_ "github.com/coredns/coredns/plugin/health"
	_ "github.com/coredns/coredns/plugin/kubernetes"
	_ "github.com/coredns/coredns/plugin/loop"
	_ "github.com/coredns/coredns/plugin/ready"
)

func main() {
	// The order in which the plugins see a query: the same relative order as CoreDNS's own list.
	if err := dnsserver.SetDirectives([]string{"ready", "health", "errors", "cache", "kubernetes", "loop", "forward"}); err != nil {
		panic(err)
	}
	coremain.Run()
}
