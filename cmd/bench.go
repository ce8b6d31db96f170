package cmd

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/rscale/rscale/pkg/loadgen"
)

type benchOptions struct {
	stackFlags
	url         string
	rate        string
	concurrency int
	duration    time.Duration
	warmup      time.Duration
	timeout     time.Duration
	mixFile     string
	method      string
	path        string
	body        string
	output      string
	newConns    bool
	minSuccess  float64
}

func newBenchCmd(env Env) *cobra.Command {
	var o benchOptions
	c := &cobra.Command{
		Use:   "bench [URL]",
		Short: "Load-test an API: open loop at a fixed rate, or closed loop with fixed clients",
		Long: `bench sends requests to URL (default: the URL of the stack deployed from the stack file
in --dir) and reports requests, success ratio, status codes, requests per second and
latency percentiles, in all and per kind of request.

Open loop (--rate 50/s) sends at that rate whatever the API does, so queueing shows in
the latencies as users would see it. Closed loop (--concurrency 8) has that many clients,
each sending its next request once answered: it finds how many requests per second the
API can serve, but hides how long requests would have waited.

--mix FILE sends several kinds of request, one per line: weight method path [body].`,
		Example: `  rscale bench http://localhost:8000 --path '/echo?msg=hi' --rate 50/s --duration 30s
  rscale bench --concurrency 8 --duration 1m --mix requests.txt
  rscale bench http://localhost:8000 --rate 20/s -o json`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			if len(args) == 1 {
				o.url = args[0]
			}
			return runBench(c.Context(), env, o)
		},
	}
	o.registerFile(c, "f")
	f := c.Flags()
	f.StringVar(&o.dir, "dir", ".", "folder holding the stack file, to find the URL when none is given")
	f.StringVar(&o.rate, "rate", "", "open loop: requests per unit of time, such as 50/s or 600/m (default 10/s)")
	f.IntVarP(&o.concurrency, "concurrency", "c", 0, "closed loop: clients sending at once")
	f.DurationVarP(&o.duration, "duration", "d", 10*time.Second, "how long to measure")
	f.DurationVar(&o.warmup, "warmup", 0, "send the same load this long first, without counting it")
	f.DurationVar(&o.timeout, "timeout", 30*time.Second, "how long a request may take before it counts as failed")
	f.StringVar(&o.mixFile, "mix", "", "file of requests to mix, one per line: weight method path [body]")
	f.StringVar(&o.method, "method", "GET", "method of the request, without --mix")
	f.StringVar(&o.path, "path", "/", "path (and query) of the request, without --mix")
	f.StringVar(&o.body, "body", "", "body of the request, without --mix")
	f.StringVarP(&o.output, "output", "o", "table", "table or json")
	f.Float64Var(&o.minSuccess, "min-success", 1, "fail (exit code 1) when a smaller share of requests succeeds, from 0 to 1; 0.99 allows 1% of failures")
	f.BoolVar(&o.newConns, "new-connections", false, "open a connection per request (straight to a Plumber API: kept-alive ones wait 40 ms on delayed ACKs)")
	return c
}

func runBench(ctx context.Context, env Env, o benchOptions) error {
	lo, err := o.loadOptions()
	if err != nil {
		return err
	}
	// Ctrl-C (rscale's Main cancels ctx) ends the load early: what was measured is reported,
	// and the command still ends as interrupted.
	if lo.URL, err = o.targetURL(ctx, env); err != nil {
		return err
	}
	r, err := runLoad(ctx, env.Streams, lo)
	if err != nil {
		return err
	}
	if err := o.writeReport(env.Out, r); err != nil {
		return err
	}
	if r.Interrupted {
		return fmt.Errorf("the load was stopped early: the report covers what was measured until then")
	}
	if r.Total.SuccessRatio < o.minSuccess {
		return fmt.Errorf("%.1f%% of the requests succeeded, below --min-success %g", 100*r.Total.SuccessRatio, o.minSuccess)
	}
	return nil
}

// loadOptions checks the flags and turns them into loadgen's options, all but the URL.
func (o *benchOptions) loadOptions() (loadgen.Options, error) {
	if err := o.check(); err != nil {
		return loadgen.Options{}, err
	}
	lo := loadgen.Options{Concurrency: o.concurrency, Duration: o.duration, Warmup: o.warmup, Timeout: o.timeout, NewConnections: o.newConns}
	var err error
	switch {
	case o.rate != "" && o.concurrency > 0:
		return lo, usageError{fmt.Errorf("choose --rate (open loop) or --concurrency (closed loop), not both")}
	case o.concurrency < 0:
		return lo, usageError{fmt.Errorf("--concurrency %d: give 1 or more clients", o.concurrency)}
	case o.concurrency == 0:
		if o.rate == "" {
			o.rate = "10/s"
		}
		if lo.Rate, lo.Per, err = loadgen.ParseRate(o.rate); err != nil {
			return lo, usageError{err}
		}
	}
	if err := lo.CheckBounds(); err != nil {
		return lo, usageError{err}
	}
	lo.Mix, err = o.requests()
	return lo, err
}

// check refuses the flags that take a value out of range.
func (o *benchOptions) check() error {
	if o.output != "table" && o.output != "json" {
		return usageError{fmt.Errorf("unknown --output %q: choose table or json", o.output)}
	}
	if err := firstError(checkPositive("--timeout", o.timeout, "30s"), checkPositive("--duration", o.duration, "30s")); err != nil {
		return err
	}
	if o.warmup < 0 {
		return usageError{fmt.Errorf("--warmup %s: give a duration of 0 or more, such as 10s", o.warmup)}
	}
	if o.minSuccess < 0 || o.minSuccess > 1 {
		return usageError{fmt.Errorf("--min-success %g: give a share from 0 to 1, such as 0.99", o.minSuccess)}
	}
	return nil
}

// requests are the kinds of request to send: the --mix file's, else the one --method,
// --path and --body describe.
func (o *benchOptions) requests() ([]loadgen.Request, error) {
	if o.mixFile != "" {
		f, err := os.Open(o.mixFile)
		if err != nil {
			return nil, usageError{fmt.Errorf("--mix: %w", err)}
		}
		defer f.Close()
		mix, err := loadgen.ParseMix(f, o.mixFile)
		if err != nil {
			return nil, usageError{err}
		}
		return mix, nil
	}
	if !strings.HasPrefix(o.path, "/") {
		return nil, usageError{fmt.Errorf("--path %q must start with /", o.path)}
	}
	method, err := loadgen.CheckMethod(o.method)
	if err != nil {
		return nil, usageError{fmt.Errorf("--method: %w", err)}
	}
	return []loadgen.Request{{Method: method, Path: o.path, Body: o.body, Weight: 1}}, nil
}

// targetURL is the URL given, else the first one the engine of the deployed stack publishes.
func (o *benchOptions) targetURL(ctx context.Context, env Env) (string, error) {
	if o.url != "" {
		if err := o.unused("with a URL given, bench asks no engine"); err != nil {
			return "", err
		}
		return o.url, nil
	}
	r, err := o.resolve(ctx, env, resolveOptions{needFile: true})
	if err != nil {
		var usage usageError
		if errors.As(err, &usage) {
			return "", err
		}
		return "", usageError{fmt.Errorf("no URL given, and none found in a stack file (%w): give the URL, such as rscale bench http://localhost:8000, or run in the folder of a deployed stack", err)}
	}
	defer r.Close()
	urls, err := r.pipe.URLs(ctx, r.name, r.ext())
	if err != nil {
		return "", fmt.Errorf("no URL given, and the %s engine gave none for stack %s (%w): give the URL to load-test", r.target, r.name, err)
	}
	if len(urls) == 0 {
		return "", fmt.Errorf("stack %s publishes no port: give the URL to load-test", r.name)
	}
	return urls[0], nil
}

// runLoad sends the load, showing its progress on ErrOut, and clears the progress line
// on a terminal before the report.
func runLoad(ctx context.Context, s Streams, lo loadgen.Options) (*loadgen.Report, error) {
	fmt.Fprintf(s.ErrOut, "%s, on %s\n", lo.Mode(), lo.URL)
	if lo.Warmup > 0 {
		fmt.Fprintf(s.ErrOut, "warming up for %s (not counted)\n", lo.Warmup)
	}
	lo.Progress = progressPrinter(s.ErrOut)
	r, err := loadgen.Run(ctx, lo)
	if err != nil {
		return nil, usageError{err}
	}
	if isTerminal(s.ErrOut) {
		fmt.Fprint(s.ErrOut, "\r\033[K")
	}
	return r, nil
}

func (o *benchOptions) writeReport(w io.Writer, r *loadgen.Report) error {
	if o.output == "json" {
		return writeJSON(w, r)
	}
	return printReport(w, r)
}

// progressPrinter rewrites one line on a terminal, and prints a line every 10 seconds elsewhere.
func progressPrinter(w io.Writer) func(loadgen.Progress) {
	tty := isTerminal(w)
	return func(p loadgen.Progress) {
		line := fmt.Sprintf("%s/%s  %d requests, %d failed", p.Elapsed.Round(time.Second), p.Duration, p.Requests, p.Failures)
		switch {
		case tty:
			fmt.Fprintf(w, "\r\033[K%s", line)
		case int(p.Elapsed.Seconds())%10 == 0:
			fmt.Fprintln(w, line)
		}
	}
}

func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	info, err := f.Stat()
	return err == nil && info.Mode()&os.ModeCharDevice != 0
}

func printReport(w io.Writer, r *loadgen.Report) error {
	partial := ""
	if r.Interrupted {
		partial = " (interrupted: a partial report)"
	}
	fmt.Fprintf(w, "%s; measured over %.1fs%s\n\n", r.Mode, r.Seconds, partial)
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "REQUEST\tREQUESTS\tSUCCESS\tREQ/S\tP50\tP90\tP99\tP99.9\tMAX\tCODES")
	rows := r.Endpoints
	if len(rows) > 1 {
		rows = append(rows, r.Total)
	}
	for _, e := range rows {
		fmt.Fprintf(tw, "%s\t%d\t%.1f%%\t%.1f\t%s\t%s\t%s\t%s\t%s\t%s\n", e.Name, e.Requests, 100*e.SuccessRatio, e.PerSecond,
			millis(e.P50), millis(e.P90), millis(e.P99), millis(e.P999), millis(e.Max), e.CodeSummary())
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	for _, e := range rows {
		for _, msg := range e.Errors {
			fmt.Fprintf(w, "%s: %s\n", e.Name, msg)
		}
	}
	return nil
}

func millis(ms float64) string {
	if ms >= 1000 {
		return fmt.Sprintf("%.2fs", ms/1000)
	}
	return fmt.Sprintf("%.1fms", ms)
}
