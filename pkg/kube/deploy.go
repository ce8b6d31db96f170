package kube

import (
	"context"
	"fmt"
	"net"
	"strconv"
	"strings"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// URL is where the stack's proxy answers from this machine: its load balancer's address
// when the cluster gave it one, else a node's address and the Service's node port.
func URL(ctx context.Context, c *Cluster, stack string) (string, error) {
	name := ObjectName(stack, ProxyService)
	svc, err := c.Client.CoreV1().Services(c.Namespace).Get(ctx, name, metav1.GetOptions{})
	if err != nil {
		return "", c.explain(err, "get", "services "+name)
	}
	var port corev1.ServicePort
	for _, p := range svc.Spec.Ports {
		if p.Name == "http" {
			port = p
		}
	}
	for _, in := range svc.Status.LoadBalancer.Ingress {
		host := in.IP
		if host == "" {
			host = in.Hostname
		}
		if host != "" {
			return httpURL(host, port.Port), nil
		}
	}
	if port.NodePort == 0 {
		return "", fmt.Errorf("service %s has no load balancer address and no node port: kubectl get service %s -n %s", name, name, c.Namespace)
	}
	nodes, err := c.Client.CoreV1().Nodes().List(ctx, metav1.ListOptions{})
	if err != nil {
		return "", c.explain(err, "list", "nodes")
	}
	for _, want := range []corev1.NodeAddressType{corev1.NodeExternalIP, corev1.NodeInternalIP} {
		for _, n := range nodes.Items {
			for _, a := range n.Status.Addresses {
				if a.Type == want && a.Address != "" {
					return httpURL(a.Address, port.NodePort), nil
				}
			}
		}
	}
	return "", fmt.Errorf("no node of the cluster has an address: kubectl get nodes -o wide")
}

func httpURL(host string, port int32) string {
	hp := net.JoinHostPort(host, strconv.Itoa(int(port)))
	if port == 80 {
		hp = host
		if strings.Contains(host, ":") {
			hp = "[" + host + "]"
		}
	}
	return "http://" + hp + "/"
}
