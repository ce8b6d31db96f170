package cmd

import (
	"context"
	"fmt"
	"runtime"
	"runtime/debug"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/rscale/rscale/pkg/engine"
)

// commit is set at build time with -ldflags "-X github.com/rscale/rscale/cmd.commit=abc1234".
var commit = ""

// Commit is the commit rscale was built from: stamped at build time, else the one the Go
// toolchain recorded, else "unknown".
func Commit() string {
	if commit != "" {
		return commit
	}
	if info, ok := debug.ReadBuildInfo(); ok {
		for _, s := range info.Settings {
			if s.Key == "vcs.revision" && len(s.Value) >= 7 {
				return s.Value[:7]
			}
		}
	}
	return "unknown"
}

type versionOptions struct {
	engineFlags
	output string
}

// versionReport is what `rscale version -o json` prints.
type versionReport struct {
	Client struct {
		Version   string `json:"version"`
		Commit    string `json:"commit"`
		GoVersion string `json:"go_version"`
		OS        string `json:"os"`
		Arch      string `json:"arch"`
	} `json:"client"`
	Server      *engine.Version `json:"server"`                 // nil when the engine did not answer
	ServerError string          `json:"server_error,omitempty"` // why
}

func newVersionCmd(env Env) *cobra.Command {
	var o versionOptions
	c := &cobra.Command{
		Use:   "version",
		Short: "Show rscale's version, and the engine's when it answers",
		Example: `  rscale version
  rscale version -o json`,
		Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, args []string) error {
			return runVersion(c.Context(), env, o)
		},
	}
	c.Flags().StringVarP(&o.output, "output", "o", "table", "table or json")
	o.registerEngines(c)
	return c
}

func runVersion(ctx context.Context, env Env, o versionOptions) error {
	if o.output != "table" && o.output != "json" {
		return usageError{fmt.Errorf("unknown --output %q: choose table or json", o.output)}
	}
	var r versionReport
	r.Client.Version, r.Client.Commit, r.Client.GoVersion = Version(), Commit(), runtime.Version()
	r.Client.OS, r.Client.Arch = runtime.GOOS, runtime.GOARCH
	res, err := o.resolveFor(env, nil, "", resolveOptions{})
	if err != nil {
		return err
	}
	defer res.Close()
	sv, err := res.pipe.Version(ctx)
	if err == nil {
		r.Server = &sv
	}
	if err != nil {
		r.ServerError = err.Error()
	}
	if o.output == "json" {
		return writeJSON(env.Out, r)
	}
	w := tabwriter.NewWriter(env.Out, 0, 4, 1, ' ', 0)
	fmt.Fprintf(w, "Client: rscale\n Version:\t%s\n Commit:\t%s\n Go version:\t%s\n OS/Arch:\t%s/%s\n",
		r.Client.Version, r.Client.Commit, r.Client.GoVersion, r.Client.OS, r.Client.Arch)
	if s := r.Server; s != nil {
		fmt.Fprintf(w, "\nServer: %s\n Version:\t%s\n API version:\t%s (minimum version %s)\n OS/Arch:\t%s/%s\n",
			s.Engine, s.Version, s.APIVersion, s.MinAPIVersion, s.OS, s.Arch)
	}
	if err := w.Flush(); err != nil {
		return err
	}
	if r.ServerError != "" {
		fmt.Fprintf(env.ErrOut, "Server: not reachable: %s\n", r.ServerError)
	}
	return nil
}
