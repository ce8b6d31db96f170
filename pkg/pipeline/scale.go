package pipeline

import (
	"context"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/rscale/rscale/pkg/engine"
	"github.com/rscale/rscale/pkg/stackname"
)

// ScaleTarget is one SERVICE=REPLICAS argument; Service may carry the stack's prefix.
type ScaleTarget struct {
	Service  string
	Replicas uint64
}

// ArgError is an argument refused before any engine is asked: the commands' usage errors.
type ArgError struct{ Err error }

func (e *ArgError) Error() string { return e.Err.Error() }
func (e *ArgError) Unwrap() error { return e.Err }

// ParseScale checks the form of every SERVICE=REPLICAS argument, that no service is given
// twice (with or without the stack's prefix), that no count is beyond engine.MaxReplicas
// and, with limits (service → replicas, from the stack file's x-rscale: max_replicas),
// beyond the proxy's room. Its errors are *ArgError.
func ParseScale(args []string, stack string, limits map[string]uint64) ([]ScaleTarget, error) {
	out := make([]ScaleTarget, 0, len(args))
	seen := map[string]string{}
	for _, arg := range args {
		name, count, ok := strings.Cut(arg, "=")
		if !ok || name == "" {
			return nil, &ArgError{fmt.Errorf("%q: write SERVICE=REPLICAS, for example model_server=10", arg)}
		}
		n, err := strconv.ParseUint(count, 10, 64)
		if errors.Is(err, strconv.ErrRange) {
			n = math.MaxUint64 // beyond any limit: refused below, as too many
		} else if err != nil {
			return nil, &ArgError{fmt.Errorf("%q: the number of replicas must be a whole number of 0 or more, for example %s=10", arg, name)}
		}
		out = append(out, ScaleTarget{Service: name, Replicas: n})
	}
	for i, t := range out {
		short := stackname.Unscoped(stack, t.Service)
		if first, ok := seen[short]; ok {
			return nil, &ArgError{fmt.Errorf("%s and %s both scale %s: give each service once", first, args[i], short)}
		}
		seen[short] = args[i]
		if err := checkScale(args[i], short, t.Replicas, limits); err != nil {
			return nil, &ArgError{err}
		}
	}
	return out, nil
}

// ScaleOptions say how to scale.
type ScaleOptions struct {
	Detach  bool
	Timeout time.Duration
	Batch   int // most replicas starting at a time, for an engine.Pacer; 0: its default
}

// Scale finds every target's service before anything changes, sets its replicas (the first
// step of the engine's pacing when it paces) and, unless detached, waits until they run.
func (p *Pipeline) Scale(ctx context.Context, stackName string, targets []ScaleTarget, o ScaleOptions) error {
	names := make([]string, len(targets))
	for i, t := range targets {
		names[i] = t.Service
	}
	found, err := p.engine.Resolve(ctx, stackName, names)
	if err != nil {
		return err
	}
	if len(found) != len(targets) {
		return fmt.Errorf("the engine found %d services for %d arguments", len(found), len(targets))
	}
	var pacing engine.Pacing // detached, nobody would add the rest
	if pacer, ok := p.engine.(engine.Pacer); ok && !o.Detach {
		pacing = pacer.Pacing(ctx, o.Batch)
	}
	waits := make([]engine.Change, len(targets))
	for i, t := range targets {
		n := t.Replicas
		if pacing != nil {
			n = pacing.First(found[i].Replicas, t.Replicas)
		}
		if err := p.engine.SetReplicas(ctx, stackName, found[i].Service, n, t.Replicas); err != nil {
			return err
		}
		waits[i] = engine.Change{Service: found[i].Service, Action: "updated", Replicas: t.Replicas}
	}
	if o.Detach {
		return nil
	}
	return p.wait(ctx, stackName, waits, pacing, o.Timeout)
}
