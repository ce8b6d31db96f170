package backend

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/rscale/rscale/pkg/stackname"
)

// ParseScaleArgs checks the form of every SERVICE=REPLICAS argument; it needs no engine.
func ParseScaleArgs(args []string) ([]ScaleTarget, error) {
	out := make([]ScaleTarget, 0, len(args))
	for _, arg := range args {
		name, count, ok := strings.Cut(arg, "=")
		if !ok || name == "" {
			return nil, fmt.Errorf("%q: write SERVICE=REPLICAS, for example model_server=10", arg)
		}
		n, err := strconv.ParseUint(count, 10, 32)
		if err != nil {
			return nil, fmt.Errorf("%q: the number of replicas must be a whole number of 0 or more, for example %s=10", arg, name)
		}
		out = append(out, ScaleTarget{Service: name, Replicas: n})
	}
	return out, nil
}

// CheckMaxReplicas refuses a count beyond what the proxy has room for (limits: service →
// replicas, from the stack file's x-rscale: max_replicas): HAProxy's config holds a fixed
// number of server slots, and replicas beyond them would get no request.
func CheckMaxReplicas(targets []ScaleTarget, stack string, limits map[string]uint64) error {
	for _, t := range targets {
		short := stackname.Unscoped(stack, t.Service)
		if limit, ok := limits[short]; ok && t.Replicas > limit {
			return fmt.Errorf("%s=%d: the proxy has room for %d replicas of %s; to serve more, run 'rscale init --max-replicas %d' and 'rscale deploy', then scale",
				t.Service, t.Replicas, limit, short, t.Replicas)
		}
	}
	return nil
}
