// Package loadgen load-tests an HTTP API: open loop at a fixed rate, which shows queueing
// as it is (a slow server does not slow the requests down), or closed loop with a fixed
// number of clients. Requests are paced by vegeta; latencies go into HDR histograms.
package loadgen

import (
	"bufio"
	"fmt"
	"io"
	"net/url"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"
)

// Request is one kind of request in a mix.
type Request struct {
	Method string `json:"method"`
	Path   string `json:"path"` // with its query string
	Body   string `json:"body,omitempty"`
	Weight int    `json:"weight"`
}

// Name is how results name the request: "GET /sleep?seconds=1".
func (r Request) Name() string { return r.Method + " " + r.Path }

// ParseMix reads a request mix, one request per line:
//
//	# weight method path [body]
//	90 GET  /fast
//	10 GET  /sleep?seconds=1
//	1  POST /sum {"a": 1, "b": 2}
//
// A body that starts with @ names a file holding it.
func ParseMix(r io.Reader, name string) ([]Request, error) {
	var mix []Request
	scanner := bufio.NewScanner(r)
	for n := 1; scanner.Scan(); n++ {
		line := strings.TrimSpace(scanner.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		fields := strings.Fields(line)
		if len(fields) < 3 {
			return nil, fmt.Errorf("%s:%d: write: weight method path [body], for example: 9 GET /echo?msg=hi", name, n)
		}
		weight, err := strconv.Atoi(fields[0])
		if err != nil || weight < 1 {
			return nil, fmt.Errorf("%s:%d: the weight %q must be a whole number of 1 or more", name, n, fields[0])
		}
		method, err := CheckMethod(fields[1])
		if err != nil {
			return nil, fmt.Errorf("%s:%d: %w", name, n, err)
		}
		req := Request{Weight: weight, Method: method, Path: fields[2]}
		if !strings.HasPrefix(req.Path, "/") {
			return nil, fmt.Errorf("%s:%d: the path %q must start with /", name, n, req.Path)
		}
		if len(fields) > 3 {
			// The body is the rest of the line, spaces included.
			rest := strings.TrimSpace(line[strings.Index(line, fields[2])+len(fields[2]):])
			req.Body = rest
			if file, ok := strings.CutPrefix(rest, "@"); ok {
				data, err := os.ReadFile(file)
				if err != nil {
					return nil, fmt.Errorf("%s:%d: %w", name, n, err)
				}
				req.Body = string(data)
			}
		}
		mix = append(mix, req)
	}
	if err := scanner.Err(); err != nil {
		return nil, fmt.Errorf("reading %s: %w", name, err)
	}
	if len(mix) == 0 {
		return nil, fmt.Errorf("%s holds no request: write one per line: weight method path [body]", name)
	}
	return mix, nil
}

// targets turns the mix into vegeta's targets under base, and names each by its URL.
func targets(base *url.URL, mix []Request) ([]vegeta.Target, map[string]string) {
	out := make([]vegeta.Target, len(mix))
	names := map[string]string{}
	for i, r := range mix {
		path, query, _ := strings.Cut(r.Path, "?")
		u := *base
		u.Path = strings.TrimSuffix(base.Path, "/") + path
		u.RawQuery = query
		t := vegeta.Target{Method: r.Method, URL: u.String()}
		if r.Body != "" {
			t.Body = []byte(r.Body)
			contentType := "application/x-www-form-urlencoded"
			if b := strings.TrimSpace(r.Body); strings.HasPrefix(b, "{") || strings.HasPrefix(b, "[") {
				contentType = "application/json"
			}
			t.Header = map[string][]string{"Content-Type": {contentType}}
		}
		out[i] = t
		names[t.Method+" "+t.URL] = r.Name()
	}
	return out, names
}

// targeter hands out the targets in proportion to the mix's weights, interleaved evenly
// (smooth weighted round robin), so a short run already has the right proportions.
func targeter(tgts []vegeta.Target, mix []Request) vegeta.Targeter {
	var mu sync.Mutex
	current := make([]int, len(mix))
	total := 0
	for _, r := range mix {
		total += r.Weight
	}
	return func(t *vegeta.Target) error {
		mu.Lock()
		defer mu.Unlock()
		best := 0
		for i, r := range mix {
			current[i] += r.Weight
			if current[i] > current[best] {
				best = i
			}
		}
		current[best] -= total
		*t = tgts[best]
		return nil
	}
}

// ParseRate reads a rate such as 50/s, 50/1s, 600/m or 50 (per second).
func ParseRate(s string) (int, time.Duration, error) {
	count, unit, found := strings.Cut(s, "/")
	n, err := strconv.Atoi(strings.TrimSpace(count))
	if err != nil || n < 1 {
		return 0, 0, fmt.Errorf("rate %q: write requests per unit of time, such as 50/s or 600/m", s)
	}
	if !found {
		return n, time.Second, nil
	}
	switch unit = strings.TrimSpace(unit); unit {
	case "s":
		return n, time.Second, nil
	case "m":
		return n, time.Minute, nil
	case "h":
		return n, time.Hour, nil
	}
	per, err := time.ParseDuration(unit)
	if err != nil || per <= 0 {
		return 0, 0, fmt.Errorf("rate %q: the unit after / must be s, m, h or a duration such as 10s", s)
	}
	return n, per, nil
}
