// Package haproxy owns the HAProxy configuration rscale generates: one renderer, fed with
// data, for every engine (how HAProxy finds the API's replicas differs; nothing else does).
package haproxy

// Network is what differs between engines in how HAProxy finds and reaches the API's
// replicas: the DNS server that resolves them, the name whose records they are, and the
// port HAProxy listens on inside its container.
type Network struct {
	// Nameserver is the DNS server that resolves the replicas, as host:port; "" takes the
	// container's /etc/resolv.conf (parse-resolv-conf).
	Nameserver string
	// Servers is the DNS name whose records are the API's replicas, with {service} standing
	// for the API service's short name, such as "tasks.{service}".
	Servers string
	// Bind is the port HAProxy listens on inside its container.
	Bind int
}

// The engines' networks.
var (
	// Swarm: Docker's embedded DNS answers tasks.<service> with one record per replica
	// (endpoint_mode: dnsrr), and HAProxy publishes port 80 in host mode.
	Swarm = Network{Nameserver: "127.0.0.11:53", Servers: "tasks.{service}", Bind: 80}
	// Kubernetes: the cluster's DNS, from the pod's resolv.conf, answers the API's headless
	// Service (named in the pod's environment) with one record per ready pod; HAProxy
	// listens above 1024 so it needs no capability.
	Kubernetes = Network{Nameserver: "", Servers: "${RSCALE_BACKEND}", Bind: 8080}
)
