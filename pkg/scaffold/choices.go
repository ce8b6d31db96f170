package scaffold

// Proxies are the values --proxy accepts.
func Proxies() []string { return []string{ProxyHAProxy, ProxyTraefik} }
