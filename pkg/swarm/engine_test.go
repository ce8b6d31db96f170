package swarm

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/docker/docker/api/types/swarm"
	"github.com/spf13/pflag"

	"github.com/rscale/rscale/pkg/docker"
	"github.com/rscale/rscale/pkg/docker/dockertest"
	"github.com/rscale/rscale/pkg/engine"
	"github.com/rscale/rscale/pkg/haproxy"
	"github.com/rscale/rscale/pkg/stack"
)

// Only deploy takes Swarm's flags, and the Engine made after parsing carries their values.
func TestRegistrationBindsDeploysFlags(t *testing.T) {
	if Registration.Name != "swarm" || Registration.HAProxy != haproxy.Swarm {
		t.Errorf("registration %q, HAProxy %+v", Registration.Name, Registration.HAProxy)
	}
	fs := pflag.NewFlagSet("deploy", pflag.ContinueOnError)
	makeEngine := Registration.Bind("deploy", fs)
	if err := fs.Parse([]string{"--no-init", "--advertise-addr", "10.0.0.5"}); err != nil {
		t.Fatal(err)
	}
	made, err := makeEngine(engine.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if e := made.(*Engine); !e.NoInit || e.AdvertiseAddr != "10.0.0.5" {
		t.Errorf("NoInit %v, AdvertiseAddr %q; want the flags' values", e.NoInit, e.AdvertiseAddr)
	}
	ps := pflag.NewFlagSet("ps", pflag.ContinueOnError)
	Registration.Bind("ps", ps)
	if ps.HasFlags() {
		t.Error("ps got Swarm's deploy flags")
	}
}

// The Engine connects once, on the first call that needs the Docker engine, and every call
// after a failed connection says why.
func TestEngineConnectsOnceWhenFirstNeeded(t *testing.T) {
	ctx := context.Background()
	connects := 0
	refused := errors.New("cannot reach the Docker engine")
	e := New(func(context.Context) (docker.API, error) { connects++; return nil, refused })
	if _, err := e.Plan(stackOf(t), nil); err != nil || connects != 0 {
		t.Fatalf("Plan: %v, %d connections; want none", err, connects)
	}
	if _, err := e.Services(ctx, "demo"); !errors.Is(err, refused) {
		t.Errorf("Services: %v", err)
	}
	if _, err := e.Version(ctx); !errors.Is(err, refused) || connects != 1 {
		t.Errorf("Version: %v, %d connections; want the same error, one connection", err, connects)
	}
	if r := e.Pacing(ctx, 0).(*Ramp); r.Window != DefaultWindow(0) {
		t.Errorf("no engine: window %d, want the default", r.Window)
	}
	if err := e.Close(); err != nil {
		t.Errorf("Close with no connection: %v", err)
	}

	f := dockertest.New()
	e = onFake(f)
	v, err := e.Version(ctx)
	if err != nil || v.Engine != "Docker Engine" || v.Version != "20.10.24" || v.APIVersion != "1.41" {
		t.Errorf("Version = %+v, %v", v, err)
	}
	if api, err := e.Images(ctx); err != nil || api != f {
		t.Errorf("Images = %v, %v; want the Docker engine itself", api, err)
	}
}

func stackOf(t *testing.T) *stack.Stack {
	t.Helper()
	s, err := stack.Resolve(context.Background(), writeStack(t, "services:\n  api:\n    image: demo/api:latest\n"), "demo")
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// A dry run prints what Apply would create: configs under their content names, with the
// services referring to them, and never a secret's content.
func TestRenderPrintsTheObjectsApplyWouldCreate(t *testing.T) {
	p := testPlan("api:1", "frontend fe\n")
	p.Spec.Secrets = []swarm.SecretSpec{{Annotations: swarm.Annotations{Name: "demo_password"}, Data: []byte("hunter2")}}
	e := onFake(dockertest.New())
	out, err := e.Render(p, "yaml")
	if err != nil {
		t.Fatal(err)
	}
	cfg := contentName("demo_haproxy_cfg", []byte("frontend fe\n"))
	for _, want := range []string{"Name: demo_model_server", "Image: api:1", "ConfigName: " + cfg, "Name: " + cfg, "Data: |\n    frontend fe", "Name: demo_backend", "Driver: overlay", "Name: " + contentName("demo_password", []byte("hunter2"))} {
		if !strings.Contains(string(out), want) {
			t.Errorf("the YAML lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(string(out), "hunter2") {
		t.Errorf("the YAML shows the secret:\n%s", out)
	}
	out, err = e.Render(p, "json")
	var parsed struct{ Services []swarm.ServiceSpec }
	if err != nil || json.Unmarshal(out, &parsed) != nil || len(parsed.Services) != 2 {
		t.Errorf("JSON: %v, %d services:\n%s", err, len(parsed.Services), out)
	}
	if _, err := e.Render(p, "toml"); err == nil || !strings.Contains(err.Error(), "yaml or json") {
		t.Errorf("an unknown format: %v", err)
	}
}
