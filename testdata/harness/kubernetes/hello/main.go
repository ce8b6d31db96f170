// Command hello is the harness's test workload: a static HTTP server small enough to make an
// image from in a second. GET / answers the pod's hostname; GET /resolve?name=N answers the
// addresses N resolves to through the pod's own DNS settings, one per line, sorted, so that a
// test sees what a proxy in a pod would see from the cluster's DNS. It logs one line when it
// starts listening.
package main

import (
	"fmt"
	"log"
	"net"
	"net/http"
	"os"
	"sort"
	"strings"
)

func main() {
	addr := ":8080"
	if len(os.Args) > 1 {
		addr = os.Args[1]
	}
	http.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		name, _ := os.Hostname()
		fmt.Fprintln(w, name)
	})
	http.HandleFunc("/resolve", func(w http.ResponseWriter, r *http.Request) {
		addrs, err := net.LookupHost(r.URL.Query().Get("name"))
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		sort.Strings(addrs)
		fmt.Fprintln(w, strings.Join(addrs, "\n"))
	})
	// A line in the pod's log, for tests of log streaming.
	log.Printf("hello: listening on %s", addr)
	log.Fatal(http.ListenAndServe(addr, nil))
}
