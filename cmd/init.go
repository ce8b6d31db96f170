package cmd

import (
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/rscale/rscale/pkg/engine"
	"github.com/rscale/rscale/pkg/project"
	"github.com/rscale/rscale/pkg/scaffold"
	"github.com/rscale/rscale/pkg/stack"
)

type initOptions struct {
	scaffold.Options
	dir      string
	rVersion string
	force    bool
	dryRun   bool
	refresh  bool // run by deploy: print only what changed
}

func newInitCmd(s Streams) *cobra.Command {
	o := initOptions{Options: scaffold.DefaultOptions()}
	c := &cobra.Command{
		Use:   "init [DIR]",
		Short: "Write a Dockerfile and a stack file for the Plumber API in DIR",
		Long: `init reads the Plumber API in DIR (default: the current folder): its endpoints,
the R packages it uses and the R version it wants. It writes:

  Dockerfile          the image: R, the packages, the API, a health check
  .dockerignore       files kept out of the image
  .rscale/launch.R    starts the API on 0.0.0.0:$PORT with a health endpoint
  .rscale/install.R   installs the R packages while the image builds
  .rscale/healthcheck.sh  Docker's health check: answering, or busy but not stuck
  .rscale/entry.sh        runs R, and on stop drains it: out of the proxy first, then the request it serves is answered
  .rscale/manifest.json   what init wrote (checksums) and the flags it was given
  rscale.yml          the stack: the API's replicas behind a reverse proxy
  haproxy.cfg         HAProxy: one request at a time per R process, the rest queued

HAProxy is the proxy unless you pass --proxy traefik; then Traefik is the edge and sends
every request to HAProxy's queue, and reads the Swarm API through a filter that lets it
read and nothing else (.rscale/docker-api.cfg). With --dashboard, init also generates the dashboard's
password in .rscale/secrets/ (kept out of git and of the image).

In a folder init has written before, it refreshes: it creates missing files,
updates the ones you have not edited, and keeps the ones you have, writing
rscale's new version beside each as FILE.rscale-new. Flags given before are
remembered. --force replaces your edits with rscale's version.`,
		Example: `  rscale init
  rscale init path/to/api --replicas 4 --request-timeout 10m
  rscale init --proxy traefik --dashboard
  rscale init --dry-run`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			// An engine that takes only some proxies gets the first of them by default.
			if r, err := engine.Lookup(o.Target); o.Target != "" && err == nil && len(r.Proxies) > 0 && !c.Flags().Changed("proxy") {
				o.Proxy = r.Proxies[0]
			}
			o.dir = "."
			if len(args) == 1 {
				o.dir = args[0]
			}
			return runInit(s, c.Flags(), &o)
		},
	}
	registerInitFlags(c.Flags(), &o)
	return c
}

func registerInitFlags(f *pflag.FlagSet, o *initOptions) {
	f.StringVarP(&o.StackFile, "file", "f", o.StackFile, "name of the stack file to write")
	f.StringVar(&o.StackName, "name", "", "stack name (default: the folder name, made Swarm-safe)")
	f.StringVar(&o.Service, "service", o.Service, "name of the API's service in the stack")
	f.IntVar(&o.Replicas, "replicas", o.Replicas, "number of R processes (replicas) serving the API")
	f.IntVar(&o.MaxReplicas, "max-replicas", o.MaxReplicas, "most replicas HAProxy makes room for")
	f.IntVar(&o.Port, "port", o.Port, "port R listens on inside each container")
	f.IntVar(&o.ProxyPort, "proxy-port", o.ProxyPort, "port the proxy publishes on the machine")
	f.StringVar(&o.Proxy, "proxy", o.Proxy, "reverse proxy in front of the replicas: haproxy, or traefik in front of HAProxy")
	f.StringVar(&o.ProxyImage, "proxy-image", "", "proxy image (default "+scaffold.DefaultHAProxyImage+" or "+scaffold.DefaultTraefikImage+")")
	f.StringVar(&o.QueueImage, "queue-image", "", "HAProxy image of the queue behind --proxy traefik (default "+scaffold.DefaultHAProxyImage+")")
	f.DurationVar(&o.RequestTimeout, "request-timeout", o.RequestTimeout, "longest one request may keep an R process busy")
	f.DurationVar(&o.QueueTimeout, "queue-timeout", o.QueueTimeout, "longest a request waits for a free R process before a 503")
	f.BoolVar(&o.Dashboard, "dashboard", false, "publish the proxy's dashboard, behind a generated password (HAProxy stats on 8404, Traefik on 8080)")
	f.StringVar(&o.Image, "image", "", "name of the API image (default <stack>/<service>:latest)")
	f.StringVar(&o.BaseImage, "base-image", "", "image to build on (default "+scaffold.DefaultRImage+":<R version>)")
	f.StringVar(&o.rVersion, "r-version", "", "R version (default: from renv.lock, then DESCRIPTION, then "+project.DefaultRVersion+")")
	f.StringVar(&o.HealthPath, "health-path", o.HealthPath, "path of the health endpoint the launcher adds")
	f.StringVar(&o.CPUs, "cpus", "", "CPU limit per replica, such as 1 or 0.5 (default: none)")
	f.StringVar(&o.Memory, "memory", "", "memory limit per replica, such as 512M (default: none)")
	f.StringVar(&o.Target, "target", "", "engine rscale deploy uses: "+strings.Join(engine.Names(), " or ")+" (recorded in the stack file; an engine that takes only some proxies implies the first)")
	f.StringVar(&o.Registry, "registry", "", "registry deploy pushes the images to, for a cluster of several nodes (host[:port][/path])")
	f.StringVar(&o.CRAN, "cran", os.Getenv("RSCALE_CRAN"), "R package repository for the image: a URL, or a date such as 2024-06-03 for a dated snapshot (default: RSCALE_CRAN, else the base image's)")
	f.BoolVar(&o.force, "force", false, "replace your edits to the generated files with rscale's version")
	f.BoolVar(&o.dryRun, "dry-run", false, "print what would be written, and write nothing")
}

// notRecorded are the flags that say how this one run writes, not what it writes.
var notRecorded = map[string]bool{"force": true, "dry-run": true, "help": true}

// replayFlags sets the flags an earlier init recorded that this run does not give, so a
// refresh renders what the user chose then. It returns the flags to record now.
func replayFlags(f *pflag.FlagSet, recorded map[string]string) (map[string]string, error) {
	flags := map[string]string{}
	f.Visit(func(flag *pflag.Flag) {
		if !notRecorded[flag.Name] {
			flags[flag.Name] = flag.Value.String()
		}
	})
	for name, value := range recorded {
		flag := f.Lookup(name)
		if _, given := flags[name]; given || flag == nil || notRecorded[name] {
			continue // given now, or a flag this rscale no longer has
		}
		// An older rscale recorded what it was given; a password must not come back from there.
		if (name == "cran" || name == "registry") && scaffold.HoldsUserInfo(value) {
			return nil, fmt.Errorf("%s records a --%s with a user name and password in it, which rscale no longer accepts: run rscale init again with --%s giving it without them", scaffold.ManifestPath, name, name)
		}
		if err := flag.Value.Set(value); err != nil {
			return nil, fmt.Errorf("%s records --%s %q, which this rscale refuses (%v): run rscale init again with another --%s", scaffold.ManifestPath, name, value, err, name)
		}
		flags[name] = value
	}
	return flags, nil
}

// runInit renders and writes the files. f's flags are bound to o's fields, so the flags
// replayed from the manifest land in o.
func runInit(s Streams, f *pflag.FlagSet, o *initOptions) error {
	flags, err := o.replayManifest(f)
	if err != nil {
		return err
	}
	if err := o.takeTarget(); err != nil {
		return err
	}
	if err := o.Validate(); err != nil {
		return usageError{err}
	}
	p, err := project.Load(o.dir, o.rVersion)
	if err != nil {
		return err
	}
	files, err := scaffold.Render(p, o.Options, Version())
	if err != nil {
		return err
	}
	for _, w := range p.Warnings {
		fmt.Fprintf(s.ErrOut, "Warning: %s\n", w)
	}
	if o.dryRun {
		o.printDryRun(s.Out, files)
		return nil
	}
	outcomes, err := o.write(files, flags)
	if err != nil {
		return err
	}
	o.report(s, p, outcomes)
	return nil
}

// replayManifest replays the flags the folder's manifest recorded (see replayFlags) and
// returns the flags to record now. With --force, a manifest that cannot be read is
// written anew.
func (o *initOptions) replayManifest(f *pflag.FlagSet) (map[string]string, error) {
	var recorded map[string]string
	if info, err := os.Stat(o.dir); err == nil && info.IsDir() { // else project.Load says what is wrong
		m, err := scaffold.ReadManifest(o.dir)
		if err != nil && !o.force {
			return nil, err
		}
		if m != nil {
			recorded = m.Flags
		}
	}
	flags, err := replayFlags(f, recorded)
	if err != nil {
		return nil, usageError{err}
	}
	return flags, nil
}

func (o *initOptions) printDryRun(w io.Writer, files []scaffold.File) {
	for _, f := range files {
		fmt.Fprintf(w, "--- %s (not written: --dry-run)\n%s", f.Path, f.Data)
	}
	if o.Dashboard {
		fmt.Fprintf(w, "--- %s and %s: the dashboard's password, generated (not written: --dry-run)\n", scaffold.DashboardPasswordFile, scaffold.DashboardUsersFile)
	}
}

// write writes the rendered files and, with --dashboard, the dashboard's password, and
// says what became of each. The secrets' paths are checked before anything is written.
func (o *initOptions) write(files []scaffold.File, flags map[string]string) ([]scaffold.Outcome, error) {
	var secrets []scaffold.Secret
	if o.Dashboard {
		dashboard, err := scaffold.DashboardSecrets(o.dir, o.Proxy)
		if err != nil {
			return nil, err
		}
		if secrets, err = scaffold.PlanSecrets(o.dir, dashboard); err != nil {
			return nil, err
		}
	}
	outcomes, err := scaffold.Write(o.dir, files, scaffold.WriteOptions{Force: o.force, Version: Version(), Flags: flags})
	if err != nil {
		return nil, err
	}
	if err := scaffold.WriteSecrets(o.dir, secrets); err != nil {
		return nil, err
	}
	for _, s := range secrets {
		outcomes = append(outcomes, scaffold.Outcome{Path: s.Path, Action: s.Action})
	}
	return outcomes, nil
}

// report tells what init did and what comes next. A refresh, run by deploy, tells only
// the files that changed and the edits it kept.
func (o *initOptions) report(s Streams, p *project.Project, outcomes []scaffold.Outcome) {
	if !o.refresh {
		fmt.Fprintf(s.ErrOut, "Plumber API %s: %d endpoint(s), R %s (%s), packages: %s\n",
			p.API.Entrypoint, len(p.API.Endpoints), p.RVersion, p.RVersionSource, strings.Join(p.Packages, ", "))
	}
	kept := o.printOutcomes(s.Out, outcomes)
	if len(kept) > 0 {
		fmt.Fprintf(s.ErrOut, "You edited %s: your version is kept, and rscale's new one is beside it as %s. "+
			"Merge what you need from it, or run `rscale init %s --force` to take rscale's version.\n",
			strings.Join(kept, ", "), strings.Join(withSuffix(kept, scaffold.NewSuffix), ", "), o.dir)
	}
	if o.Dashboard && !o.refresh {
		fmt.Fprintf(s.ErrOut, "Dashboard, once deployed: %s\n", stack.DashboardHint(o.DashboardURL(), scaffold.DashboardUser, scaffold.DashboardPasswordFile))
	}
	if !o.refresh {
		fmt.Fprintf(s.ErrOut, "Next: rscale deploy %s\n", o.dir)
	}
}

// printOutcomes prints a line per file, and returns the files whose edits were kept.
func (o *initOptions) printOutcomes(w io.Writer, outcomes []scaffold.Outcome) []string {
	var kept []string
	for _, f := range outcomes {
		switch {
		case f.Action == scaffold.Kept:
			kept = append(kept, f.Path)
			fmt.Fprintf(w, "kept your edit %s (rscale's version: %s%s)\n", f.Path, f.Path, scaffold.NewSuffix)
		case f.Action == scaffold.Overwritten:
			fmt.Fprintf(w, "overwrote your edit %s (--force)\n", f.Path)
		case !o.refresh || f.Action != scaffold.Unchanged:
			fmt.Fprintf(w, "%s %s\n", f.Action, f.Path)
		}
	}
	return kept
}

// takeTarget gives scaffold what the target's registration says: the proxies it takes, and
// how HAProxy finds the replicas there.
func (o *initOptions) takeTarget() error {
	r, err := engine.Lookup(o.Target)
	if err != nil {
		if o.Target != "" {
			return usageError{fmt.Errorf("--target: %w", err)}
		}
		return err
	}
	if o.Dashboard && !r.Dashboard {
		return usageError{fmt.Errorf("--dashboard: the proxy's dashboard cannot be deployed on %s yet (its users file is a secret rscale does not deliver there): leave out --dashboard", r.Name)}
	}
	o.Proxies, o.HAProxy = r.Proxies, r.HAProxy
	return nil
}

func withSuffix(paths []string, suffix string) []string {
	out := make([]string, len(paths))
	for i, p := range paths {
		out[i] = p + suffix
	}
	return out
}

// refreshGenerated brings the files init wrote in dir up to date with the project, as
// `rscale init dir` would with the flags it recorded: endpoints, packages and the like
// follow the code. Edited files are kept. A folder with no manifest is left alone.
func refreshGenerated(s Streams, dir string) error {
	if info, err := os.Stat(dir); err != nil || !info.IsDir() {
		return nil // reading the stack file says what is wrong
	}
	m, err := scaffold.ReadManifest(dir)
	if err != nil || m == nil {
		return err
	}
	o := initOptions{Options: scaffold.DefaultOptions(), dir: dir, refresh: true}
	f := pflag.NewFlagSet("init", pflag.ContinueOnError)
	registerInitFlags(f, &o)
	if err := runInit(Streams{In: s.In, Out: s.ErrOut, ErrOut: s.ErrOut}, f, &o); err != nil {
		return fmt.Errorf("refreshing the files rscale init wrote: %w", err)
	}
	return nil
}
