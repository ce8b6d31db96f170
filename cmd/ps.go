package cmd

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/rscale/rscale/pkg/deploy"
	"github.com/rscale/rscale/pkg/engine"
)

func newPsCmd(s Streams) *cobra.Command {
	var (
		f      stackFlags
		tasks  bool
		output string
		k      kubeFlags
	)
	c := &cobra.Command{
		Use:   "ps [DIR]",
		Short: "Show the services of the stack deployed from DIR and their replicas",
		Args:  cobra.MaximumNArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			if output != "table" && output != "json" {
				return usageError{fmt.Errorf("unknown --output %q: choose table or json", output)}
			}
			ctx := c.Context()
			name, err := f.stackName(ctx, args)
			if err != nil {
				return err
			}
			onKube, err := k.onKubernetes(ctx, &f, args)
			if err != nil {
				return err
			}
			if onKube {
				return kubePs(ctx, s, &k, name, output)
			}
			var infos []deploy.ServiceInfo
			err = withEngine(ctx, func(api engine.API) error {
				infos, err = deploy.Describe(ctx, api, name)
				return err
			})
			if err != nil {
				return err
			}
			if !tasks {
				for i := range infos {
					infos[i].Tasks = nil
				}
			}
			if output == "json" {
				enc := json.NewEncoder(s.Out)
				enc.SetIndent("", "  ")
				return enc.Encode(infos)
			}
			if len(infos) == 0 {
				fmt.Fprintf(s.ErrOut, "stack %s is not deployed: run 'rscale deploy'\n", name)
				return nil
			}
			return printPs(s, name, infos, tasks)
		},
	}
	f.register(c)
	k.register(c)
	c.Flags().BoolVar(&tasks, "tasks", false, "list every replica with its state and error")
	c.Flags().StringVarP(&output, "output", "o", "table", "table or json")
	return c
}

func printPs(s Streams, stack string, infos []deploy.ServiceInfo, tasks bool) error {
	w := tabwriter.NewWriter(s.Out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(w, "SERVICE\tDESIRED\tRUNNING\tHEALTHY\tIMAGE\tPORTS")
	for _, i := range infos {
		healthy := "-"
		if i.Healthy != nil {
			healthy = strconv.Itoa(*i.Healthy)
		}
		fmt.Fprintf(w, "%s\t%d\t%d\t%s\t%s\t%s\n", deploy.ShortName(stack, i.Name), i.Desired, i.Running, healthy, i.Image, strings.Join(i.Ports, ", "))
	}
	if tasks {
		fmt.Fprintln(w, "\nTASK\tSTATE\tDESIRED\tERROR")
		for _, i := range infos {
			for _, t := range i.Tasks {
				fmt.Fprintf(w, "%s\t%s\t%s\t%s\n", t.Name, t.State, t.Desired, t.Error)
			}
		}
	}
	return w.Flush()
}
