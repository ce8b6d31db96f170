package scaffold

import (
	"fmt"
)

const (
	// edgeMarginSeconds is what Traefik waits beyond HAProxy's queue and request timeouts, so
	// that HAProxy, which knows why, answers a request that takes too long.
	edgeMarginSeconds = 10

	// drainSeconds is how long a stopping replica keeps serving after it fails the proxy's
	// check (.rscale/entry.sh): two of HAProxy's check intervals (inter 2s in haproxy.cfg).
	drainSeconds = 4
	// stopMarginSeconds is what Swarm waits beyond the drain and the request in flight: the
	// entry script's last second for httpuv to send the answer, and R's exit.
	stopMarginSeconds = 5

	// The dashboard's credentials live in SecretsDir, which the generated .rscale/.gitignore and
	// .dockerignore keep out of git and of the image; the proxy reads them from a Swarm secret.
	DashboardUser         = "rscale"
	SecretsDir            = ".rscale/secrets"
	DashboardPasswordFile = SecretsDir + "/dashboard-password"
	DashboardUsersFile    = SecretsDir + "/dashboard-users"
)

// DashboardPort is where the proxy publishes its dashboard.
func (o Options) DashboardPort() int {
	if o.Proxy == ProxyTraefik {
		return 8080
	}
	return 8404
}

// DashboardURL is the dashboard's address on the node the proxy runs on.
func (o Options) DashboardURL() string {
	if o.Proxy == ProxyTraefik {
		return fmt.Sprintf("http://localhost:%d/dashboard/", o.DashboardPort())
	}
	return fmt.Sprintf("http://localhost:%d/", o.DashboardPort())
}
