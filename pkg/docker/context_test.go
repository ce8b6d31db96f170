package docker

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/docker/cli/cli/config"
	dcontext "github.com/docker/cli/cli/context/docker"
	"github.com/docker/cli/cli/context/store"
	"github.com/docker/docker/client"
)

// The engine is chosen as the docker CLI chooses it: --context, DOCKER_HOST, DOCKER_CONTEXT,
// the config's current context, the local socket.
func TestResolveEndpointOrder(t *testing.T) {
	dir := t.TempDir()
	config.SetDir(dir) // this test process only: the config dir is read once
	s := store.New(config.ContextStoreDir(), store.NewConfig(func() any { return &map[string]any{} },
		store.EndpointTypeGetter(dcontext.DockerEndpoint, func() any { return &dcontext.EndpointMeta{} })))
	for name, host := range map[string]string{"prod": "tcp://10.0.0.5:2376", "staging": "tcp://10.0.0.6:2376"} {
		if err := s.CreateOrUpdate(store.Metadata{Name: name, Metadata: map[string]any{},
			Endpoints: map[string]any{dcontext.DockerEndpoint: dcontext.EndpointMeta{Host: host}}}); err != nil {
			t.Fatal(err)
		}
	}
	t.Setenv("DOCKER_HOST", "")
	t.Setenv("DOCKER_CONTEXT", "")
	os.Unsetenv("DOCKER_HOST")
	os.Unsetenv("DOCKER_CONTEXT")

	check := func(what, flag, wantContext, wantHost, wantSource string) {
		t.Helper()
		ep, err := ResolveEndpoint(flag)
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		if ep.Context != wantContext || ep.Host != wantHost || ep.Source != wantSource {
			t.Errorf("%s: %+v; want context %s, host %s, source %q", what, ep, wantContext, wantHost, wantSource)
		}
	}
	check("nothing set", "", DefaultContext, client.DefaultDockerHost, "")
	if ep, _ := ResolveEndpoint(""); !ep.IsLocalDefault() {
		t.Error("the local socket is not the local default")
	}
	if err := os.WriteFile(filepath.Join(dir, "config.json"), []byte(`{"currentContext": "prod"}`), 0o644); err != nil {
		t.Fatal(err)
	}
	check("docker context use prod", "", "prod", "tcp://10.0.0.5:2376", "docker context use")
	t.Setenv("DOCKER_CONTEXT", "staging")
	check("DOCKER_CONTEXT", "", "staging", "tcp://10.0.0.6:2376", "DOCKER_CONTEXT")
	t.Setenv("DOCKER_HOST", "tcp://10.0.0.7:2375")
	check("DOCKER_HOST", "", DefaultContext, "tcp://10.0.0.7:2375", "DOCKER_HOST")
	check("--context prod", "prod", "prod", "tcp://10.0.0.5:2376", "--context")
	check("--context default", "default", DefaultContext, "tcp://10.0.0.7:2375", "--context")
	if _, err := ResolveEndpoint("nope"); err == nil || !strings.Contains(err.Error(), `docker context "nope" (from --context) does not exist`) {
		t.Errorf("a context that does not exist: %v", err)
	}
}

// An engine other than the local socket is named before rscale acts on it, even when it
// cannot be reached; the local default is not.
func TestConnectChosenSaysWhichEngine(t *testing.T) {
	t.Setenv("DOCKER_CONTEXT", "")
	t.Setenv("DOCKER_HOST", "tcp://127.0.0.1:1")
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	var notices strings.Builder
	api, err := ConnectChosen(ctx, "", &notices)
	if err == nil || api != nil || !strings.Contains(err.Error(), "cannot reach the Docker engine at tcp://127.0.0.1:1") {
		t.Errorf("an engine that does not answer: %v, %v", api, err)
	}
	if got, want := notices.String(), "Using the Docker engine at tcp://127.0.0.1:1 (from DOCKER_HOST).\n"; got != want {
		t.Errorf("notice %q, want %q", got, want)
	}
}
