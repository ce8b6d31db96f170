package cmd

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/rscale/rscale/pkg/deploy"
	"github.com/rscale/rscale/pkg/engine"
)

func newBuildCmd(s Streams) *cobra.Command {
	var (
		f       stackFlags
		verbose bool
	)
	c := &cobra.Command{
		Use:   "build [DIR]",
		Short: "Build the images the stack file in DIR names",
		Long: `build builds, through the Docker Engine, every image of the stack file that has a
build: section, showing each Dockerfile step. When a step fails, it shows that step and
the last lines it printed, such as the R error of a package that would not install.`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			ctx := c.Context()
			p, _, err := deploy.LoadStack(ctx, f.path(args), f.name)
			if err != nil {
				return err
			}
			var refs map[string]string
			err = withEngine(ctx, func(api engine.API) error {
				refs, err = deploy.BuildImages(ctx, api, p, deploy.BuildOptions{Progress: s.ErrOut, Verbose: verbose})
				return err
			})
			if err != nil {
				return err
			}
			for _, name := range p.ServiceNames() {
				if ref, ok := refs[name]; ok {
					fmt.Fprintf(s.Out, "%s\t%s\n", name, ref)
				}
			}
			return nil
		},
	}
	f.register(c)
	c.Flags().BoolVarP(&verbose, "verbose", "v", false, "show every line of the build")
	return c
}
