package cmd

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/rscale/rscale/pkg/engine"
	"github.com/rscale/rscale/pkg/stackname"
)

type psOptions struct {
	stackFlags
	tasks  bool
	output string
}

func newPsCmd(env Env) *cobra.Command {
	var o psOptions
	c := &cobra.Command{
		Use:   "ps [DIR]",
		Short: "Show the services of the stack deployed from DIR and their replicas",
		Example: `  rscale ps
  rscale ps path/to/api --tasks
  rscale ps -o json`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			o.dirFrom(args)
			return runPs(c.Context(), env, o)
		},
	}
	o.register(c)
	c.Flags().BoolVar(&o.tasks, "tasks", false, "list every replica with its state and error")
	c.Flags().StringVarP(&o.output, "output", "o", "table", "table or json")
	return c
}

func runPs(ctx context.Context, env Env, o psOptions) error {
	if o.output != "table" && o.output != "json" {
		return usageError{fmt.Errorf("unknown --output %q: choose table or json", o.output)}
	}
	r, err := o.resolve(ctx, env, resolveOptions{})
	if err != nil {
		return err
	}
	defer r.Close()
	name := r.name
	infos, err := r.pipe.Ps(ctx, name)
	if err != nil {
		return err
	}
	// An engine whose replicas are pods (they tell whether they are ready) lists them always:
	// they are what ps is for there.
	pods := slices.ContainsFunc(infos, func(i engine.ServiceInfo) bool {
		return slices.ContainsFunc(i.Tasks, func(t engine.TaskInfo) bool { return t.Ready != nil })
	})
	if !o.tasks && !pods {
		for i := range infos {
			infos[i].Tasks = nil
		}
	}
	if o.output == "json" {
		if infos == nil {
			infos = []engine.ServiceInfo{}
		}
		return writeJSON(env.Out, infos)
	}
	if len(infos) == 0 {
		fmt.Fprintf(env.ErrOut, "stack %s is not deployed: run 'rscale deploy'\n", name)
		return nil
	}
	if pods {
		return printPods(env.Streams, infos)
	}
	return printPs(env.Streams, name, infos, o.tasks)
}

func printPs(s Streams, stack string, infos []engine.ServiceInfo, tasks bool) error {
	w := tabwriter.NewWriter(s.Out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(w, "SERVICE\tDESIRED\tRUNNING\tHEALTHY\tNODES\tIMAGE\tPORTS")
	for _, i := range infos {
		healthy := "-"
		if i.Healthy != nil {
			healthy = strconv.Itoa(*i.Healthy)
		}
		nodes := strings.Join(i.Nodes, ",")
		if nodes == "" {
			nodes = "-"
		}
		fmt.Fprintf(w, "%s\t%d\t%d\t%s\t%s\t%s\t%s\n", stackname.Unscoped(stack, i.Name), i.Desired, i.Running, healthy, nodes, i.Image, strings.Join(i.Ports, ", "))
	}
	if tasks {
		fmt.Fprintln(w, "\nTASK\tSTATE\tDESIRED\tNODE\tERROR")
		for _, i := range infos {
			for _, t := range i.Tasks {
				fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\n", t.Name, t.State, t.Desired, t.Node, t.Error)
			}
		}
	}
	return w.Flush()
}

// printPods is ps on Kubernetes: each Deployment, then each pod with its readiness,
// restarts, age and node.
func printPods(s Streams, infos []engine.ServiceInfo) error {
	w := tabwriter.NewWriter(s.Out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(w, "SERVICE\tDESIRED\tPODS\tREADY\tIMAGE\tURL")
	for _, i := range infos {
		ready := 0
		if i.Healthy != nil {
			ready = *i.Healthy
		}
		fmt.Fprintf(w, "%s\t%d\t%d\t%d\t%s\t%s\n", i.Name, i.Desired, i.Running, ready, i.Image, strings.Join(i.Ports, ", "))
	}
	fmt.Fprintln(w, "\nPOD\tSTATUS\tREADY\tRESTARTS\tAGE\tNODE")
	for _, i := range infos {
		for _, t := range i.Tasks {
			ready, restarts := false, int32(0)
			if t.Ready != nil {
				ready = *t.Ready
			}
			if t.Restarts != nil {
				restarts = *t.Restarts
			}
			fmt.Fprintf(w, "%s\t%s\t%t\t%d\t%s\t%s\n", t.Name, t.State, ready, restarts, time.Since(t.Since).Round(time.Second), t.Node)
		}
	}
	return w.Flush()
}
