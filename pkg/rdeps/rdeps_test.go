package rdeps

import (
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"
)

func TestScan(t *testing.T) {
	tests := []struct {
		name, src string
		want      []string
	}{
		{"library and require", "library(dplyr)\nrequire(tidyr)", []string{"dplyr", "tidyr"}},
		{"quoted", `library("ggplot2"); require('sf')`, []string{"ggplot2", "sf"}},
		{"named package argument", `library(package = "xml2"); library(package = httr)`, []string{"httr", "xml2"}},
		{"extra arguments", "library(data.table, quietly = TRUE, warn.conflicts = FALSE)", []string{"data.table"}},
		{"character.only with a variable", "pkg <- 'hidden'\nlibrary(pkg, character.only = TRUE)", nil},
		{"character.only with a string", `library("shown", character.only = TRUE)`, []string{"shown"}},
		{"character.only = FALSE keeps the name", "library(shown, character.only = FALSE)", []string{"shown"}},
		{"requireNamespace and loadNamespace", `requireNamespace("jsonlite", quietly = TRUE); loadNamespace("digest")`, []string{"digest", "jsonlite"}},
		{"requireNamespace of a variable", "requireNamespace(p)", nil},
		{"double and triple colon", "x <- readr::read_csv(f); y <- stringi:::stri_internal()", []string{"readr", "stringi"}},
		{"backtick qualifier", "`R6`::R6Class('A')", []string{"R6"}},
		{"pacman", `pacman::p_load(dplyr, "tidyr", install = FALSE, character.only = FALSE)`, []string{"dplyr", "pacman", "tidyr"}},
		{"base::library", "base::library(glue)", []string{"base", "glue"}},
		{"comments never count", "# library(foo)\nx <- 1 # requireNamespace('bar')\n#* @get /x uses baz::qux", nil},
		{"strings never count", `msg <- "library(bar)"; s <- 'baz::qux'; r <- r"(library(raw))"`, nil},
		{"call across lines", "library(\n  # the parser\n  yaml\n)", []string{"yaml"}},
		{"nested parentheses", "library(pkg = x, character.only = isTRUE(getOption('y')))", nil},
		{"not a package name", `library("not a name"); library("9lives")`, nil},
		{"library as a word", "my_library(x); library", nil},
		{"double brackets inside a call", "pacman::p_load(x[[1]], dplyr)", []string{"dplyr", "pacman"}},
		{"unclosed call", "library(glue", []string{"glue"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Scan(tt.src)
			if len(got) == 0 && len(tt.want) == 0 {
				return
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("Scan = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestIsBase(t *testing.T) {
	for _, p := range []string{"stats", "utils", "graphics", "grDevices", "methods", "datasets", "tools", "parallel", "grid", "splines", "stats4", "compiler", "tcltk", "base"} {
		if !IsBase(p) {
			t.Errorf("IsBase(%q) = false", p)
		}
	}
	for _, p := range []string{"plumber", "MASS", "Matrix", "jsonlite"} {
		if IsBase(p) {
			t.Errorf("IsBase(%q) = true", p)
		}
	}
}

func TestScanDir(t *testing.T) {
	root := t.TempDir()
	files := map[string]string{
		"plumber.R":           "library(plumber)\nlibrary(stats)\n",
		"R/model.r":           "randomForest::randomForest(y ~ x)\n",
		"R/deep/util.R":       "requireNamespace('jsonlite')\n",
		"renv/activate.R":     "library(renvonly)\n",
		".hidden/x.R":         "library(hiddenonly)\n",
		".Rproj.user/y.R":     "library(rprojonly)\n",
		"notes.txt":           "library(textonly)\n",
		"packrat/init.R":      "library(packratonly)\n",
		"analysis/report.Rmd": "library(rmdonly)\n",
	}
	for name, content := range files {
		path := filepath.Join(root, name)
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	got, err := ScanDir(root)
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"jsonlite", "plumber", "randomForest"}; !reflect.DeepEqual(got, want) {
		t.Errorf("ScanDir = %v, want %v", got, want)
	}
	if _, err := ScanDir(filepath.Join(root, "missing")); err == nil {
		t.Error("ScanDir of a missing folder gave no error")
	}
}

func TestParseDescription(t *testing.T) {
	d, err := ParseDescription([]byte(`Package: scoring
Title: Scores things
Version: 0.1.0
Depends:
    R (>= 4.1.0),
    methods
Imports:
    data.table (>= 1.14.0),
    xml2,
	jsonlite(>= 1.8)
Suggests: testthat
`))
	if err != nil {
		t.Fatal(err)
	}
	want := Description{Package: "scoring", Imports: []string{"data.table", "xml2", "jsonlite"}, Depends: []string{"methods"}, RVersion: "4.1.0"}
	if !reflect.DeepEqual(d, want) {
		t.Errorf("ParseDescription = %+v, want %+v", d, want)
	}

	d, err = ParseDescription([]byte("Package: bare\nVersion: 1.0\n"))
	if err != nil || d.RVersion != "" || d.Imports != nil {
		t.Errorf("no Imports/Depends: %+v, %v", d, err)
	}
	for _, bad := range []string{"  continues nothing\n", "Package scoring\n", "Two Words: x\n"} {
		if _, err := ParseDescription([]byte(bad)); err == nil {
			t.Errorf("ParseDescription(%q) gave no error", bad)
		}
	}
}

func TestParseRenvLock(t *testing.T) {
	lock, err := ParseRenvLock([]byte(`{
  "R": {"Version": "4.3.2", "Repositories": [{"Name": "CRAN", "URL": "https://cloud.r-project.org"}]},
  "Packages": {
    "plumber": {"Package": "plumber", "Version": "1.2.1", "Source": "Repository", "Repository": "CRAN"},
    "jsonlite": {"Package": "jsonlite", "Version": "1.8.8", "Source": "Repository", "Repository": "CRAN"}
  }
}`))
	if err != nil {
		t.Fatal(err)
	}
	want := Lock{
		RVersion:     "4.3.2",
		Repositories: []Repository{{Name: "CRAN", URL: "https://cloud.r-project.org"}},
		Packages: []LockedPackage{
			{Name: "jsonlite", Version: "1.8.8", Source: "Repository", Repository: "CRAN"},
			{Name: "plumber", Version: "1.2.1", Source: "Repository", Repository: "CRAN"},
		},
	}
	if !reflect.DeepEqual(lock, want) {
		t.Errorf("ParseRenvLock = %+v, want %+v", lock, want)
	}
	if _, err := ParseRenvLock([]byte("{not json")); err == nil || !strings.Contains(err.Error(), "renv.lock") {
		t.Errorf("invalid JSON gave %v, want an error naming renv.lock", err)
	}
}

// The scan is linear in the file's length: deeply nested calls (a generated file, or one
// written to stall init) used to take a minute, each call's arguments read to its end again.
func TestScanDeepNestingIsLinear(t *testing.T) {
	const depth = 16000
	nested := func(call, inner string) string {
		return strings.Repeat(call+"(", depth) + inner + strings.Repeat(")", depth)
	}
	src := "pacman::p_load(dplyr, " + nested("f", "library(glue)") + ", tidyr)\n" +
		nested("library", "x") + "\n" + nested("requireNamespace", `"jsonlite"`) + "\n"
	start := time.Now()
	got := Scan(src)
	if took := time.Since(start); took > time.Second {
		t.Errorf("scanning %d KB of nested calls took %s, want well under 1s", len(src)>>10, took)
	}
	// The innermost library(x) and requireNamespace("jsonlite") count; the outer calls, whose
	// argument is a call, do not.
	if want := []string{"dplyr", "glue", "jsonlite", "pacman", "tidyr", "x"}; !reflect.DeepEqual(got, want) {
		t.Errorf("Scan = %v, want %v", got, want)
	}
}

var validName = regexp.MustCompile(`^(?:[A-Za-z]|[A-Za-z][A-Za-z0-9.]*[A-Za-z0-9])$`)

func FuzzScan(f *testing.F) {
	for _, seed := range []string{
		"library(dplyr)\nrequire('x')\npacman::p_load(a, \"b\")\n",
		"library(pkg, character.only = TRUE)", "requireNamespace(\"x\"", "library(", "x:::", "::y",
		"p_load(,,,)", "library(package=)", "`a b`::f", "library(\"\")", "\xff::x",
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, src string) {
		got := Scan(src)
		if !sort.StringsAreSorted(got) {
			t.Fatalf("not sorted: %v", got)
		}
		for i, name := range got {
			if i > 0 && got[i-1] == name {
				t.Fatalf("repeated %q: %v", name, got)
			}
			if !validName.MatchString(name) {
				t.Fatalf("%q is not a package name", name)
			}
		}
	})
}
