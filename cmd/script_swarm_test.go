//go:build registrations

package cmd

import (
	"context"
	"os"
	"strings"

	"github.com/rscale/rscale/pkg/docker"
	"github.com/rscale/rscale/pkg/docker/dockertest"
	"github.com/rscale/rscale/pkg/engine"
	"github.com/rscale/rscale/pkg/swarm"
)

// The Swarm engine on the fake Docker engine of RSCALE_FAKE_ENGINE: its replicas start at
// once; RSCALE_FAKE_FAIL=Method:message makes that engine call fail.
func init() {
	onDockertest = func(env Env, path string) (Env, func() error, error) {
		fake, err := dockertest.Load(path)
		if err != nil {
			return env, nil, err
		}
		fake.Converge = true
		fake.Fail = nil
		if method, message, ok := strings.Cut(os.Getenv("RSCALE_FAKE_FAIL"), ":"); ok {
			fake.Fail = map[string]string{method: message}
		}
		env.NewEngine = func(r engine.Registration, mk func(engine.Options) (engine.Engine, error), o engine.Options) (engine.Engine, error) {
			if r.Name != swarm.Registration.Name {
				return mk(o)
			}
			return swarm.New(func(context.Context) (docker.API, error) { return fake, nil }), nil
		}
		return env, func() error { return fake.Save(path) }, nil
	}
}
