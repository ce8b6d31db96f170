package haproxy

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// Fits checks that cfg, a haproxy.cfg as rscale init wrote it (and the user may have edited
// since), finds and reaches the replicas over network n: the DNS server it asks, the name
// whose records are the replicas and the port it listens on. Nothing else is checked, so a
// user's edits pass; a config rendered for another engine does not, and the error says why.
func Fits(cfg []byte, n Network) error {
	var nameservers []string
	var resolvConf, servers, bind bool
	for _, line := range strings.Split(string(cfg), "\n") {
		f := strings.Fields(line)
		switch {
		case len(f) == 0:
		case f[0] == "parse-resolv-conf":
			resolvConf = true
		case f[0] == "nameserver" && len(f) >= 3:
			nameservers = append(nameservers, f[2])
		case f[0] == "server-template" && len(f) >= 4:
			servers = servers || names(f[3], n.Servers)
		case f[0] == "bind" && len(f) >= 2:
			bind = bind || f[1] == ":"+strconv.Itoa(n.Bind)
		}
	}
	var problems []string
	switch {
	case n.Nameserver == "" && len(nameservers) > 0:
		problems = append(problems, fmt.Sprintf("it asks the DNS server %s, not the container's own (parse-resolv-conf)", strings.Join(nameservers, ", ")))
	case n.Nameserver == "" && !resolvConf:
		problems = append(problems, "it does not ask the container's DNS servers (parse-resolv-conf)")
	case n.Nameserver != "" && !slices.Contains(nameservers, n.Nameserver):
		problems = append(problems, fmt.Sprintf("it does not ask the DNS server %s (nameserver)", n.Nameserver))
	}
	if !servers {
		problems = append(problems, fmt.Sprintf("its server-template does not find the replicas at %s:<port>", n.Servers))
	}
	if !bind {
		problems = append(problems, fmt.Sprintf("it does not listen on port %d (bind :%d)", n.Bind, n.Bind))
	}
	if len(problems) > 0 {
		return errors.New("haproxy.cfg is written for another engine's network: " + strings.Join(problems, "; "))
	}
	return nil
}

// names reports whether addr, server-template's host:port, is the replicas' name in
// pattern, {service} standing for any service name.
func names(addr, pattern string) bool {
	addr = strings.Trim(addr, `"`)
	i := strings.LastIndex(addr, ":")
	if i < 0 {
		return false
	}
	host := addr[:i]
	before, after, templated := strings.Cut(pattern, "{service}")
	if !templated {
		return host == pattern
	}
	return len(host) > len(before)+len(after) && strings.HasPrefix(host, before) && strings.HasSuffix(host, after)
}
