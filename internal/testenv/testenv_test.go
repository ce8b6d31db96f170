package testenv

import (
	"os"
	"path/filepath"
	"testing"
)

// Go runs these tests in internal/testenv: Root is two folders up, past testdata's own
// go.mod files, which name other modules.
func TestRootIsTheRepository(t *testing.T) {
	want, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	if got := Root(t); got != want {
		t.Errorf("Root = %s, want %s", got, want)
	}
	if _, err := os.Stat(Testdata(t, "projects", "echo", "plumber.R")); err != nil {
		t.Errorf("the echo project is not under Testdata: %v", err)
	}
}

func TestModulePath(t *testing.T) {
	for gomod, want := range map[string]string{
		"module github.com/rscale/rscale\n\ngo 1.26\n":        module,
		"// a comment\nmodule \"github.com/rscale/rscale\"\n": module,
		"module github.com/rscale/rscale/testdata/harness\n":  "github.com/rscale/rscale/testdata/harness",
		"go 1.26\n": "",
	} {
		if got := modulePath([]byte(gomod)); got != want {
			t.Errorf("modulePath(%q) = %q, want %q", gomod, got, want)
		}
	}
}
