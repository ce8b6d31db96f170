package cmd

import (
	"context"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/docker/cli/cli/config"
	"github.com/docker/cli/cli/context/store"
	"github.com/spf13/cobra"

	"github.com/rscale/rscale/pkg/scaffold"
	"github.com/rscale/rscale/pkg/stackname"
)

// completionEngineTimeout bounds how long a completion waits for the engine: a shell must not hang.
const completionEngineTimeout = 2 * time.Second

// registerCompletions adds, across the command tree, what the shells complete: folders for
// DIR and --dir, the values a flag accepts, docker contexts, and service names for scale and
// logs (see serviceCompletion).
func registerCompletions(root *cobra.Command, env Env) {
	values := map[string][]string{
		"proxy":      scaffold.Proxies(),
		"output":     {"table", "json"},
		"log-format": {"text", "json"},
		"method":     {http.MethodGet, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete, http.MethodHead, http.MethodOptions},
	}
	_ = root.RegisterFlagCompletionFunc("context", func(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
		return dockerContexts(), cobra.ShellCompDirectiveNoFileComp
	})
	for _, c := range root.Commands() {
		for flag, choices := range values {
			if c.Flags().Lookup(flag) != nil {
				_ = c.RegisterFlagCompletionFunc(flag, cobra.FixedCompletions(choices, cobra.ShellCompDirectiveNoFileComp))
			}
		}
		if c.Flags().Lookup("dir") != nil {
			_ = c.MarkFlagDirname("dir")
		}
		if strings.HasSuffix(c.Use, " [DIR]") {
			c.ValidArgsFunction = func(_ *cobra.Command, args []string, _ string) ([]string, cobra.ShellCompDirective) {
				if len(args) > 0 {
					return nil, cobra.ShellCompDirectiveNoFileComp
				}
				return nil, cobra.ShellCompDirectiveFilterDirs
			}
		}
	}
}

// serviceCompletion completes the names of the stack's services, from its stack file and,
// when the engine answers in time, from the deployed stack; suffix follows each name
// ("=" for scale's SERVICE=REPLICAS).
func serviceCompletion(env Env, f *stackFlags, suffix string) cobra.CompletionFunc {
	return func(c *cobra.Command, args []string, _ string) ([]string, cobra.ShellCompDirective) {
		ctx := c.Context()
		if ctx == nil {
			ctx = context.Background()
		}
		var found []string
		ctx, cancel := context.WithTimeout(ctx, completionEngineTimeout)
		defer cancel()
		// A completion prints nothing but its candidates.
		if r, err := f.resolve(ctx, env, resolveOptions{quiet: true}); err == nil {
			if r.stack != nil {
				found = append(found, r.stack.Project.ServiceNames()...)
			}
			if infos, err := r.pipe.Ps(ctx, r.name); err == nil {
				for _, i := range infos {
					found = append(found, stackname.Unscoped(r.name, i.Name))
				}
			}
			r.Close()
		}
		slices.Sort(found)
		found = slices.Compact(found)
		var out []string
		for _, s := range found {
			if !slices.ContainsFunc(args, func(a string) bool { return a == s || strings.HasPrefix(a, s+"=") }) {
				out = append(out, s+suffix)
			}
		}
		directive := cobra.ShellCompDirectiveNoFileComp
		if suffix != "" {
			directive |= cobra.ShellCompDirectiveNoSpace
		}
		return out, directive
	}
}

// dockerContexts lists the docker CLI's contexts, "default" first.
func dockerContexts() []string {
	s := store.New(config.ContextStoreDir(), store.NewConfig(func() any { return &map[string]any{} }))
	names, _ := store.Names(s)
	slices.Sort(names)
	return append([]string{"default"}, names...)
}
