package scaffold

import "slices"

// Proxies are the values --proxy accepts.
func Proxies() []string { return []string{ProxyTraefik, ProxyHAProxy} }

// Strategies are the values --strategy accepts.
func Strategies() []string { return slices.Clone(strategies) }
