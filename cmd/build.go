package cmd

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/rscale/rscale/pkg/pipeline"
)

type buildOptions struct {
	stackFlags
	progressFlag
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
		Example: `  rscale build
  rscale build path/to/api --verbose`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			o.dirFrom(args)
			return runBuild(c.Context(), env, o)
		},
	}
	o.register(c)
	o.registerProgress(c)
	c.Flags().BoolVarP(&o.verbose, "verbose", "v", false, "show every line of the build")
	return c
}

func runBuild(ctx context.Context, env Env, o buildOptions) error {
	sink, err := o.renderer(env.Streams)
	if err != nil {
		return err
	}
	r, err := o.resolve(ctx, env, resolveOptions{needFile: true, sink: sink})
	if err != nil {
		return err
	}
	defer r.Close()
	built, err := r.pipe.Build(ctx, r.stack, pipeline.BuildOptions{Verbose: o.verbose})
	if err != nil {
		return err
	}
	for _, image := range built {
		fmt.Fprintf(env.Out, "%s\t%s\n", image.Service, image.Ref)
	}
	return nil
}
