package cmd

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rscale/rscale/internal/fakeengine"
)

// A command whose context ends (Ctrl-C in Main) exits with 130 and says how to go on.
func TestInterruptedCommandExitsWith130(t *testing.T) {
	dir := t.TempDir()
	t.Setenv(fakeengine.EnvCluster, filepath.Join(dir, "cluster.json"))
	t.Setenv(fakeengine.EnvUnready, "model_server")
	api := filepath.Join(dir, "api")
	if err := os.MkdirAll(api, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(api, "plumber.R"), []byte("#* @get /echo\nfunction() \"hi\"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	var out, errOut bytes.Buffer
	env := Env{Streams: Streams{In: strings.NewReader(""), Out: &out, ErrOut: &errOut}, Interval: 10 * time.Millisecond}
	if code := RunEnv(env, []string{"init", api, "--proxy", "haproxy"}); code != 0 {
		t.Fatalf("init: exit %d\n%s", code, errOut.String())
	}
	ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
	defer cancel()
	code := RunContext(ctx, env, []string{"deploy", api, "--target", "fake", "--no-build", "--timeout", "1m"})
	if code != 130 {
		t.Errorf("exit %d, want 130\n%s", code, errOut.String())
	}
	if !strings.Contains(errOut.String(), "run the same command again to go on") {
		t.Errorf("stderr does not say how to go on:\n%s", errOut.String())
	}
}
