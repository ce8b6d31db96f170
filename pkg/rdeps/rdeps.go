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
	closers := matchBrackets(toks)
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
		// A call: a pkg:: qualifier does not change which function it is (base::library is library).
		switch t.Text {
		case "library", "require":
			scanLibrary(arguments(toks, i+1, closers), add)
		case "requireNamespace", "loadNamespace":
			if a := firstPositional(arguments(toks, i+1, closers), "package"); len(a) == 1 && a[0].Kind == rlex.String {
				add(a[0].Text)
			}
		case "p_load":
			for _, a := range arguments(toks, i+1, closers) {
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

// matchBrackets finds, in one pass, where each bracket toks opens is closed: closers[i] is
// the index of the token that closes toks[i], or len(toks) when the file ends first. Any
// closer closes the innermost open bracket, so R that does not parse is still read as far as
// it goes; "[[" opens twice, as its "]]" is two tokens.
func matchBrackets(toks []rlex.Token) map[int]int {
	closers := map[int]int{}
	var open []int
	for i, t := range toks {
		if t.Kind != rlex.Op {
			continue
		}
		switch t.Text {
		case "(", "[", "{":
			open = append(open, i)
		case "[[":
			open = append(open, i, i)
		case ")", "]", "}":
			if len(open) > 0 {
				closers[open[len(open)-1]] = i
				open = open[:len(open)-1]
			}
		}
	}
	for _, i := range open {
		closers[i] = len(toks)
	}
	return closers
}

// arguments splits the call whose "(" is toks[open] into its top-level arguments. It steps
// over each nested bracket to its closer, so the scan of a file stays linear in its length
// however deep its calls nest.
func arguments(toks []rlex.Token, open int, closers map[int]int) []argument {
	var args []argument
	flush := func(value []rlex.Token) {
		a := argument{value: value}
		if len(value) >= 2 && (value[0].Kind == rlex.Ident || value[0].Kind == rlex.String) && value[1].Kind == rlex.Op && value[1].Text == "=" {
			a = argument{name: value[0].Text, value: value[2:]}
		}
		if len(value) > 0 {
			args = append(args, a)
		}
	}
	end := closers[open]
	start := open + 1
	for i := start; i < end; i++ {
		t := toks[i]
		if t.Kind != rlex.Op {
			continue
		}
		switch t.Text {
		case "(", "[", "{", "[[":
			i = closers[i]
		case ",":
			flush(toks[start:i])
			start = i + 1
		}
	}
	flush(toks[start:min(end, len(toks))])
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
