// Package rdeps finds the R packages a project uses, following renv's rules for what counts
// as a use, and reads the two files that declare packages: DESCRIPTION and renv.lock.
package rdeps

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"

	"github.com/rscale/rscale/pkg/rlex"
)

var basePackages = map[string]bool{
	"base": true, "compiler": true, "datasets": true, "graphics": true, "grDevices": true,
	"grid": true, "methods": true, "parallel": true, "splines": true, "stats": true,
	"stats4": true, "tcltk": true, "tools": true, "utils": true,
}

// IsBase reports whether name ships with R itself and must never be installed.
func IsBase(name string) bool {
	return basePackages[name]
}

var packageName = regexp.MustCompile(`^(?:[A-Za-z]|[A-Za-z][A-Za-z0-9.]*[A-Za-z0-9])$`)

// Scan returns the packages an R source text uses, sorted and unique; base packages are
// included (callers filter them with IsBase).
func Scan(src string) []string {
	toks := code(rlex.Tokenize(src))
	found := map[string]bool{}
	add := func(name string) {
		if packageName.MatchString(name) {
			found[name] = true
		}
	}
	for i, t := range toks {
		if t.Kind != rlex.Ident {
			continue
		}
		// pkg::f and pkg:::f
		if i+1 < len(toks) && toks[i+1].Kind == rlex.Op && (toks[i+1].Text == "::" || toks[i+1].Text == ":::") {
			add(t.Text)
			continue
		}
		if i+1 >= len(toks) || toks[i+1].Kind != rlex.Op || toks[i+1].Text != "(" {
			continue
		}
		// A call: skip a pkg:: qualifier's effect on which function it is (base::library is library).
		args := arguments(toks, i+1)
		switch t.Text {
		case "library", "require":
			scanLibrary(args, add)
		case "requireNamespace", "loadNamespace":
			if a := firstPositional(args, "package"); len(a) == 1 && a[0].Kind == rlex.String {
				add(a[0].Text)
			}
		case "p_load":
			for _, a := range args {
				if a.name == "" && len(a.value) == 1 && (a.value[0].Kind == rlex.Ident || a.value[0].Kind == rlex.String) {
					add(a.value[0].Text)
				}
			}
		}
	}
	out := make([]string, 0, len(found))
	for name := range found {
		out = append(out, name)
	}
	sort.Strings(out)
	return out
}

// scanLibrary reads library(x) / require("x"), where a bare name counts unless
// character.only = TRUE makes it a variable holding the name.
func scanLibrary(args []argument, add func(string)) {
	a := firstPositional(args, "package")
	if len(a) != 1 {
		return
	}
	characterOnly := false
	for _, arg := range args {
		if arg.name == "character.only" && !(len(arg.value) == 1 && (arg.value[0].Text == "FALSE" || arg.value[0].Text == "F")) {
			characterOnly = true
		}
	}
	switch {
	case a[0].Kind == rlex.String:
		add(a[0].Text)
	case a[0].Kind == rlex.Ident && !characterOnly:
		add(a[0].Text)
	}
}

// code drops comments and line breaks: only the code's tokens matter here.
func code(toks []rlex.Token) []rlex.Token {
	out := toks[:0:0]
	for _, t := range toks {
		if t.Kind != rlex.Comment && t.Kind != rlex.Newline {
			out = append(out, t)
		}
	}
	return out
}

// argument is one argument of a call: its name when given as name = value, and its tokens.
type argument struct {
	name  string
	value []rlex.Token
}

// arguments splits the call whose "(" is toks[open] into its top-level arguments.
func arguments(toks []rlex.Token, open int) []argument {
	var (
		args  []argument
		cur   []rlex.Token
		depth = 0
	)
	flush := func() {
		a := argument{value: cur}
		if len(cur) >= 2 && (cur[0].Kind == rlex.Ident || cur[0].Kind == rlex.String) && cur[1].Kind == rlex.Op && cur[1].Text == "=" {
			a = argument{name: cur[0].Text, value: cur[2:]}
		}
		if len(cur) > 0 {
			args = append(args, a)
		}
		cur = nil
	}
	for _, t := range toks[open+1:] {
		if t.Kind == rlex.Op {
			switch t.Text {
			case "(", "[", "{", "[[":
				depth++
			case ")", "]", "}":
				if depth == 0 {
					flush()
					return args
				}
				depth--
			case ",":
				if depth == 0 {
					flush()
					continue
				}
			}
		}
		cur = append(cur, t)
	}
	flush()
	return args
}

// firstPositional is the argument called name, else the first unnamed one.
func firstPositional(args []argument, name string) []rlex.Token {
	for _, a := range args {
		if a.name == name {
			return a.value
		}
	}
	for _, a := range args {
		if a.name == "" {
			return a.value
		}
	}
	return nil
}

// skipDirs are folders that hold no code of the project's own.
var skipDirs = map[string]bool{"renv": true, "packrat": true, "node_modules": true}

// ScanDir scans every .R file under root and returns the non-base packages used, sorted
// and unique. It skips renv/, packrat/, node_modules/ and hidden folders (.git, .Rproj.user).
func ScanDir(root string) ([]string, error) {
	found := map[string]bool{}
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if path != root && (skipDirs[d.Name()] || strings.HasPrefix(d.Name(), ".")) {
				return filepath.SkipDir
			}
			return nil
		}
		if ext := filepath.Ext(path); ext != ".R" && ext != ".r" {
			return nil
		}
		src, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		for _, p := range Scan(string(src)) {
			if !IsBase(p) {
				found[p] = true
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("scanning R files: %w", err)
	}
	out := make([]string, 0, len(found))
	for p := range found {
		out = append(out, p)
	}
	sort.Strings(out)
	return out, nil
}
