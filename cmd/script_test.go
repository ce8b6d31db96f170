package cmd

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/rscale/rscale/internal/fakeengine"
	"github.com/rscale/rscale/internal/harness/kubernetes"
	"github.com/rscale/rscale/internal/testtool"
	"github.com/rscale/rscale/pkg/docker"
	"github.com/rscale/rscale/pkg/docker/dockertest"
	"github.com/rscale/rscale/pkg/engine"
	"github.com/rscale/rscale/pkg/swarm"
)

// The fake engine is registered as the real ones are (engines.go), after them.
func TestMain(m *testing.M) {
	engine.Register(fakeengine.Registration)
	testscript.Main(kubernetes.Wrap(m), map[string]func(){
		"rscale": func() { os.Exit(rscaleMain()) },
	})
}

// rscaleMain runs rscale as the scripts call it: on the registered engines, and, when
// RSCALE_FAKE_ENGINE names a file, with the Swarm engine on the fake Docker engine that file
// holds (a new one if it does not exist), saved back afterwards for the script's next
// command. Waits look at the services every 10 ms.
func rscaleMain() int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	env := DefaultEnv()
	env.Interval = 10 * time.Millisecond
	if path := os.Getenv("RSCALE_FAKE_ENGINE"); path != "" {
		var done func() error
		var err error
		if env, done, err = onDockertest(env, path); err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		code := RunContext(ctx, env, os.Args[1:])
		if err := done(); err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		return code
	}
	return RunContext(ctx, env, os.Args[1:])
}

// TestScripts runs the acceptance scripts in testdata/script: rscale as a user runs it.
func TestScripts(t *testing.T) {
	projects, err := filepath.Abs(filepath.Join("..", "testdata", "projects"))
	if err != nil {
		t.Fatal(err)
	}
	testscript.Run(t, testscript.Params{
		Dir: filepath.Join("..", "testdata", "script"),
		Setup: func(env *testscript.Env) error {
			env.Setenv("PROJECTS", projects)
			return nil
		},
		Cmds: map[string]func(ts *testscript.TestScript, neg bool, args []string){
			"exitcode":   exitCode,
			"httpserver": httpServer,
			"hungsocket": hungSocket,
			"sleep":      sleep,
		},
		Condition: func(cond string) (bool, error) {
			switch cond {
			case "docker":
				return dockerAnswers(), nil
			}
			return false, fmt.Errorf("unknown condition %q", cond)
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

// httpServer is the script command `httpserver VAR`: it serves HTTP on the loopback until
// the script ends, answering every request with 200 and "hi", and sets VAR to its URL.
func httpServer(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 1 {
		ts.Fatalf("usage: httpserver VAR")
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		fmt.Fprint(w, "hi")
	}))
	ts.Defer(srv.Close)
	ts.Setenv(args[0], srv.URL+"/")
}

// hungSocket is the script command `hungsocket PATH`: a unix socket at PATH, until the
// script ends, that accepts connections and never answers, as a hung engine does. It hangs
// up each one after 10 s, so that an rscale without a deadline fails the script rather
// than hanging it.
func hungSocket(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 1 {
		ts.Fatalf("usage: hungsocket PATH")
	}
	l, err := net.Listen("unix", ts.MkAbs(args[0]))
	ts.Check(err)
	ts.Defer(testtool.Hang(l, 10*time.Second))
}

// onDockertest puts the Swarm engine on the fake Docker engine RSCALE_FAKE_ENGINE names
// (pkg/docker/dockertest), whose replicas start at once; RSCALE_FAKE_FAIL=Method:message
// makes that engine call fail. It returns the env to run with and what to do once the
// command ends.
func onDockertest(env Env, path string) (Env, func() error, error) {
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

// sleep DURATION waits, for a background command to get under way.
func sleep(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 1 {
		ts.Fatalf("usage: sleep DURATION")
	}
	d, err := time.ParseDuration(args[0])
	ts.Check(err)
	time.Sleep(d)
}
