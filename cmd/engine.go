package cmd

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/rscale/rscale/pkg/engine"
	"github.com/rscale/rscale/pkg/pipeline"
	"github.com/rscale/rscale/pkg/progress"
	"github.com/rscale/rscale/pkg/stack"
)

const defaultTimeout = 5 * time.Minute

// engineFlags choose the engine a command acts through: --target, else the stack file's
// x-rscale target, else the default registration; and hold every engine's own flags
// (Registration.Bind), each remembered with the engines that added it, so that a flag of
// another engine than the chosen one is refused.
type engineFlags struct {
	target string
	makers map[string]func(engine.Options) (engine.Engine, error)
	owners map[string][]string // flag → the engines that take it
	flags  *pflag.FlagSet
}

func (f *engineFlags) registerEngines(c *cobra.Command) {
	names := engine.Names()
	def := ""
	if len(names) > 0 {
		def = names[0]
	}
	f.flags = c.Flags()
	f.flags.StringVar(&f.target, "target", "", fmt.Sprintf("engine: %s (default: the one rscale init recorded, else %s)", strings.Join(names, ", "), def))
	f.makers = map[string]func(engine.Options) (engine.Engine, error){}
	f.owners = map[string][]string{}
	for _, name := range names {
		r, err := engine.Lookup(name)
		if err != nil {
			continue
		}
		own := pflag.NewFlagSet(name, pflag.ContinueOnError)
		f.makers[name] = r.Bind(c.Name(), own)
		own.VisitAll(func(fl *pflag.Flag) {
			have := f.flags.Lookup(fl.Name)
			switch {
			case have == nil:
				f.flags.AddFlag(fl)
			case len(f.owners[fl.Name]) > 0:
				// Two engines take the same flag: the value goes to both.
				have.Value = teeValue{have.Value, fl.Value}
			default:
				panic(fmt.Sprintf("engine %s's flag --%s is a flag of rscale %s already", name, fl.Name, c.Name()))
			}
			f.owners[fl.Name] = append(f.owners[fl.Name], name)
		})
	}
}

// teeValue sets two flags' values at once.
type teeValue struct {
	pflag.Value
	second pflag.Value
}

func (t teeValue) Set(s string) error {
	if err := t.Value.Set(s); err != nil {
		return err
	}
	return t.second.Set(s)
}

// choose picks the engine for the stack (nil: no stack file) and refuses the flags of
// another engine that were given.
func (f *engineFlags) choose(s *stack.Stack) (engine.Registration, error) {
	name := f.target
	if name == "" && s != nil {
		name = s.Ext.Target
	}
	r, err := engine.Lookup(name)
	if err != nil {
		return r, usageError{err}
	}
	var refused error
	f.flags.Visit(func(fl *pflag.Flag) {
		owners := f.owners[fl.Name]
		if refused == nil && len(owners) > 0 && !slices.Contains(owners, r.Name) {
			refused = usageError{fmt.Errorf("--%s is a flag of the %s engine, and this command acts on %s: drop --%s, or choose --target %s",
				fl.Name, strings.Join(owners, " and "), r.Name, fl.Name, owners[0])}
		}
	})
	return r, refused
}

// unused refuses every engine flag given, saying why.
func (f *engineFlags) unused(why string) error {
	var refused error
	f.flags.Visit(func(fl *pflag.Flag) {
		if owners := f.owners[fl.Name]; refused == nil && len(owners) > 0 {
			refused = usageError{fmt.Errorf("--%s is a flag of the %s engine: %s", fl.Name, strings.Join(owners, " and "), why)}
		}
	})
	return refused
}

// open makes the chosen engine, unconnected.
func (f *engineFlags) open(env Env, r engine.Registration, o engine.Options) (engine.Engine, error) {
	mk := f.makers[r.Name]
	if mk == nil {
		return nil, fmt.Errorf("engine %s was registered after the command was built", r.Name)
	}
	if env.NewEngine != nil {
		return env.NewEngine(r, mk, o)
	}
	return mk(o)
}

// stackFlags locate the stack a command works on: the stack file in dir, and its name; and
// the engine it is on.
type stackFlags struct {
	engineFlags
	dir  string // from the DIR argument, or --dir
	file string
	name string
}

func (f *stackFlags) register(c *cobra.Command) {
	f.registerFile(c, "f")
}

// registerFile lets a command whose -f means something else (logs --follow) keep --file.
func (f *stackFlags) registerFile(c *cobra.Command, shorthand string) {
	c.Flags().StringVarP(&f.file, "file", shorthand, "rscale.yml", "stack file, in DIR")
	c.Flags().StringVar(&f.name, "name", "", "stack name (default: the one rscale init recorded, else the folder name)")
	f.registerEngines(c)
}

// registerDir adds --dir, for commands whose arguments are not the folder.
func (f *stackFlags) registerDir(c *cobra.Command) {
	c.Flags().StringVar(&f.dir, "dir", ".", "folder holding the stack file")
}

// dirFrom takes the folder from the optional DIR argument.
func (f *stackFlags) dirFrom(args []string) {
	f.dir = "."
	if len(args) > 0 {
		f.dir = args[0]
	}
}

func (f *stackFlags) path() string {
	if filepath.IsAbs(f.file) {
		return f.file
	}
	return filepath.Join(f.dir, f.file)
}

// resolved is what a command resolves once and hands down: the stack file (nil when there is
// none and --name names the stack), the stack's name, the engine and the pipeline over it.
type resolved struct {
	stack  *stack.Stack
	name   string
	target string
	engine engine.Engine
	pipe   *pipeline.Pipeline
}

func (r *resolved) ext() stack.Extension {
	if r.stack == nil {
		return stack.Extension{}
	}
	return r.stack.Ext
}

func (r *resolved) Close() error { return r.engine.Close() }

// resolveOptions say what a command needs resolved.
type resolveOptions struct {
	needFile bool          // refuse a missing stack file even with --name
	sink     progress.Sink // the pipeline's events; nil: none
	quiet    bool          // no notices (completions)
}

// resolve reads the stack file once (stack.Resolve), chooses the engine and makes it, with
// the pipeline over it. Nothing connects yet.
func (f *stackFlags) resolve(ctx context.Context, env Env, o resolveOptions) (*resolved, error) {
	s, err := stack.Resolve(ctx, f.path(), f.name)
	name := f.name
	switch {
	case err == nil:
		name = s.Name
	case !o.needFile && f.name != "" && errors.Is(err, fs.ErrNotExist):
		s = nil
	default:
		return nil, err
	}
	return f.resolveFor(env, s, name, o)
}

func (f *engineFlags) resolveFor(env Env, s *stack.Stack, name string, o resolveOptions) (*resolved, error) {
	r, err := f.choose(s)
	if err != nil {
		return nil, err
	}
	eo := env.engineOptions()
	if o.quiet {
		eo.Notices = nil
	}
	e, err := f.open(env, r, eo)
	if err != nil {
		return nil, err
	}
	return &resolved{stack: s, name: name, target: r.Name, engine: e,
		pipe: pipeline.New(e, pipeline.Options{Sink: o.sink, Interval: env.Interval})}, nil
}

// progressFlag is --progress: how deploy, build and scale report what they do.
type progressFlag struct{ mode string }

func (p *progressFlag) registerProgress(c *cobra.Command) {
	c.Flags().StringVar(&p.mode, "progress", "text", "how to report progress on stderr: text, quiet (only the outcome) or json (one event per line)")
}

func (p *progressFlag) renderer(s Streams) (*progress.Renderer, error) {
	switch p.mode {
	case "text":
		return progress.NewRenderer(s.ErrOut, progress.Text), nil
	case "quiet":
		return progress.NewRenderer(s.ErrOut, progress.Quiet), nil
	case "json":
		return progress.NewRenderer(s.ErrOut, progress.JSON), nil
	}
	return nil, usageError{fmt.Errorf("unknown --progress %q: choose text, quiet or json", p.mode)}
}
