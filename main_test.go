package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/rscale/rscale/cmd"
	"github.com/rscale/rscale/internal/k8sharness"
	"github.com/rscale/rscale/pkg/backend"
	"github.com/rscale/rscale/pkg/docker"
	"github.com/rscale/rscale/pkg/docker/dockertest"
	"github.com/rscale/rscale/pkg/swarm"
)

func TestMain(m *testing.M) {
	testscript.Main(k8sharness.Wrap(m), map[string]func(){
		"rscale": func() { os.Exit(rscaleMain()) },
	})
}

// rscaleMain runs rscale as the scripts call it: on the real engines, or, when
// RSCALE_FAKE_ENGINE names a file, on the fake engine that file holds (a new one if it does
// not exist), saved back afterwards for the script's next command. The fake's replicas start
// at once; RSCALE_FAKE_FAIL=Method:message makes that engine call fail.
func rscaleMain() int {
	path := os.Getenv("RSCALE_FAKE_ENGINE")
	if path == "" {
		return cmd.Main(cmd.DefaultStreams())
	}
	fake, err := dockertest.Load(path)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	fake.Converge = true
	fake.Fail = nil
	if method, message, ok := strings.Cut(os.Getenv("RSCALE_FAKE_FAIL"), ":"); ok {
		fake.Fail = map[string]string{method: message}
	}
	env := cmd.DefaultEnv()
	env.Backends = func(context.Context, backend.Options) (backend.Backend, error) {
		return swarm.NewBackend(func(context.Context) (docker.API, error) { return fake, nil }), nil
	}
	code := cmd.RunEnv(env, os.Args[1:])
	if err := fake.Save(path); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	return code
}

// TestScripts runs the acceptance scripts in testdata/script: rscale as a user runs it.
func TestScripts(t *testing.T) {
	projects, err := filepath.Abs(filepath.Join("testdata", "projects"))
	if err != nil {
		t.Fatal(err)
	}
	testscript.Run(t, testscript.Params{
		Dir: filepath.Join("testdata", "script"),
		Setup: func(env *testscript.Env) error {
			env.Setenv("PROJECTS", projects)
			return nil
		},
		Cmds: map[string]func(ts *testscript.TestScript, neg bool, args []string){
			"exitcode": exitCode,
		},
		Condition: func(cond string) (bool, error) {
			if cond != "docker" {
				return false, fmt.Errorf("unknown condition %q", cond)
			}
			return dockerAnswers(), nil
		},
	})
}

// dockerAnswers reports whether the local Docker engine answers: the [docker] condition.
func dockerAnswers() bool {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	c, err := docker.Connect(ctx)
	if err != nil {
		if os.Getenv("CI") != "" {
			panic(fmt.Sprintf("CI needs a Docker engine: %v", err))
		}
		return false
	}
	c.Close()
	return true
}

// exitCode is the script command `exitcode N program [args...]`: it runs the program as exec
// does, keeping its stdout and stderr for the next commands, and fails unless the program
// exits with status N. (`! exec` accepts any failure.)
func exitCode(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) < 2 {
		ts.Fatalf("usage: exitcode N program [args...]")
	}
	want, err := strconv.Atoi(args[0])
	if err != nil {
		ts.Fatalf("exitcode: %q is not a number", args[0])
	}
	got := 0
	if err := ts.Exec(args[1], args[2:]...); err != nil {
		var exit *exec.ExitError
		if !errors.As(err, &exit) {
			ts.Fatalf("%s: %v", args[1], err)
		}
		got = exit.ExitCode()
	}
	if got != want {
		ts.Fatalf("%s exited with status %d, want %d", args[1], got, want)
	}
}
