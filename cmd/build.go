package cmd

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/rscale/rscale/pkg/backend"
	"github.com/rscale/rscale/pkg/stack"
)

type buildOptions struct {
	stackFlags
	verbose bool
}

func newBuildCmd(env Env) *cobra.Command {
	var o buildOptions
	c := &cobra.Command{
		Use:   "build [DIR]",
		Short: "Build the images the stack file in DIR names",
		Long: `build builds, through the Docker Engine, every image of the stack file that has a
build: section, showing each Dockerfile step. When a step fails, it shows that step and
the last lines it printed, such as the R error of a package that would not install.`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			o.dirFrom(args)
			return runBuild(c.Context(), env, o)
		},
	}
	o.register(c)
	c.Flags().BoolVarP(&o.verbose, "verbose", "v", false, "show every line of the build")
	return c
}

func runBuild(ctx context.Context, env Env, o buildOptions) error {
	p, _, err := o.open(ctx)
	if err != nil {
		return err
	}
	if err := stack.CheckImages(p); err != nil {
		return fmt.Errorf("%s: %w", o.path(), err)
	}
	return o.withBackend(ctx, env, func(b backend.Backend) error {
		built, err := b.Build(ctx, p, backend.BuildOptions{Progress: env.ErrOut, Verbose: o.verbose})
		if err != nil {
			return err
		}
		for _, image := range built {
			fmt.Fprintf(env.Out, "%s\t%s\n", image.Service, image.Ref)
		}
		return nil
	})
}
