// Package cmd holds rscale's cobra commands: each parses its flags into an
// options struct and hands it to the package in pkg/ that does the work.
package cmd

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime/debug"
	"strings"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/rscale/rscale/pkg/docker"
)

// version is set at build time with -ldflags "-X github.com/rscale/rscale/cmd.version=v1.2.3".
var version = ""

// Streams are the IO streams a command reads and writes, injected so tests can capture them.
type Streams struct {
	In     io.Reader
	Out    io.Writer
	ErrOut io.Writer
}

// DefaultStreams are the process's standard streams.
func DefaultStreams() Streams {
	return Streams{In: os.Stdin, Out: os.Stdout, ErrOut: os.Stderr}
}

// Version reports rscale's version: the one stamped at build time, else the module version go install recorded.
func Version() string {
	if version != "" {
		return version
	}
	if info, ok := debug.ReadBuildInfo(); ok && info.Main.Version != "" && info.Main.Version != "(devel)" {
		return info.Main.Version
	}
	return "dev"
}

// NewRootCmd builds the rscale command tree, each command acting through env.
func NewRootCmd(env Env) *cobra.Command {
	s := env.Streams
	env.global = &globalOptions{}
	root := &cobra.Command{
		Use:   "rscale",
		Short: "Run an R Plumber API at scale",
		Long: `rscale turns a folder holding a Plumber API (plumber.R or entrypoint.R) into
many R processes behind a load balancer, on a cluster: Docker Swarm or Kubernetes
(--target; the one rscale init recorded in the stack file by default).

  rscale init      write a Dockerfile and a stack file for the API in this folder
  rscale deploy    build the image, deploy the stack, wait until every replica is healthy
  rscale scale     change the number of replicas: rscale scale model_server=100
  rscale ps        show the services and their replicas
  rscale logs      show the replicas' logs
  rscale down      remove the stack
  rscale serve     run the API as many R processes on this machine, without Docker
  rscale bench     load-test the API: rscale bench --rate 50/s --duration 30s

Environment:
  RSCALE_ENGINE_TIMEOUT  how long to wait for the engine (the Docker engine or the
                         Kubernetes API server) to answer each request, a duration
                         such as 30s or 2m (default ` + docker.DefaultTimeout.String() + `); raise it on a slow link.
                         Builds, pushes and logs --follow that have started run on.`,
		Example: `  rscale init && rscale deploy
  rscale scale model_server=20
  rscale bench --rate 50/s --duration 30s`,
		Version:       Version(),
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.SetIn(s.In)
	root.SetOut(s.Out)
	root.SetErr(s.ErrOut)
	root.SetVersionTemplate("rscale {{.Version}}\n")
	root.PersistentFlags().StringVar(&env.global.context, "context", "", "the engine's context: a docker context, or a kubeconfig context (default: as the engine's own CLI chooses, such as DOCKER_HOST or the kubeconfig's current context)")
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return usageError{err} })
	root.AddCommand(newInitCmd(s), newBuildCmd(env), newDeployCmd(env), newScaleCmd(env), newPsCmd(env), newLogsCmd(env), newDownCmd(env), newServeCmd(s), newBenchCmd(env), newVersionCmd(env))
	for _, c := range root.Commands() {
		argsAreUsage(c)
	}
	registerCompletions(root, env)
	return root
}

// Main runs rscale with os.Args and returns the process exit code; Ctrl-C or SIGTERM
// cancels the command's context, and the command ends with exit code 130.
func Main(s Streams) int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	return RunContext(ctx, Env{Streams: s}, os.Args[1:])
}

// Run runs rscale with args on the registered engines and returns the process exit code.
func Run(s Streams, args []string) int {
	return RunEnv(Env{Streams: s}, args)
}

// RunEnv runs rscale with args in env and returns the process exit code.
func RunEnv(env Env, args []string) int {
	return RunContext(context.Background(), env, args)
}

// RunContext runs rscale with args in env until ctx ends, and returns the process exit code:
// 130 when ctx ended first (the user interrupted it).
func RunContext(ctx context.Context, env Env, args []string) int {
	root := NewRootCmd(env)
	root.SetArgs(args)
	c, err := root.ExecuteContextC(ctx)
	if err != nil && ctx.Err() != nil {
		fmt.Fprintf(env.ErrOut, "Error: interrupted (%v).%s\n", err, resumeHint(c.Name()))
		return 130
	}
	// An unknown command is a usage error; cobra's error for it has no type to tell it by.
	if err != nil && c == root && strings.HasPrefix(err.Error(), "unknown command ") {
		err = usageError{err}
	}
	if err != nil {
		fmt.Fprintf(env.ErrOut, "Error: %v\n", err)
		var usage usageError
		if errors.As(err, &usage) {
			return 2
		}
		return 1
	}
	return 0
}

// argsAreUsage makes a wrong number of arguments a usage error that points to the help.
func argsAreUsage(c *cobra.Command) {
	check := c.Args
	if check == nil {
		return
	}
	c.Args = func(c *cobra.Command, args []string) error {
		if err := check(c, args); err != nil {
			return usageError{fmt.Errorf("%w\nSee '%s --help'.", err, c.CommandPath())}
		}
		return nil
	}
}

// usageError marks a mistake in how the command was called (exit code 2), as opposed to a failure doing the work.
type usageError struct{ error }

func (e usageError) Unwrap() error { return e.error }

// resumeHint tells, after a command that changes a stack was interrupted, how to go on.
func resumeHint(command string) string {
	switch command {
	case "deploy", "scale":
		return " What was done stays done: run the same command again to go on, or 'rscale down' to remove the stack."
	case "down":
		return " Run it again to remove the rest."
	}
	return ""
}
