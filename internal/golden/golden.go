// Package golden compares generated files with the copies kept under testdata/, and rewrites
// those copies when tests run with -update: `make golden` passes it to the packages whose
// tests import this one, the only ones that define the flag.
package golden

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Update is set by -update: golden files are rewritten instead of compared.
var Update = flag.Bool("update", false, "rewrite golden files with what the code produces now")

// Assert compares got with the golden file at path, or rewrites it under -update.
func Assert(t testing.TB, path string, got []byte) {
	t.Helper()
	if *Update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("reading golden file: %v (run `make golden` to create it)", err)
	}
	if !bytes.Equal(want, got) {
		t.Errorf("%s differs from what the code produces (run `make golden` and review the diff):\n%s", path, Diff(string(want), string(got)))
	}
}

// Diff shows the first lines where want and got part ways, enough to see what changed.
func Diff(want, got string) string {
	w, g := strings.Split(want, "\n"), strings.Split(got, "\n")
	i := 0
	for i < len(w) && i < len(g) && w[i] == g[i] {
		i++
	}
	var b strings.Builder
	for j := i; j < i+5; j++ {
		if j < len(w) {
			fmt.Fprintf(&b, "line %d want: %s\n", j+1, w[j])
		}
		if j < len(g) {
			fmt.Fprintf(&b, "line %d got:  %s\n", j+1, g[j])
		}
	}
	return b.String()
}
