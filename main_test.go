package main

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/rscale/rscale/cmd"
	_ "github.com/rscale/rscale/internal/golden" // accept go test ./... -update
)

func TestMain(m *testing.M) {
	testscript.Main(m, map[string]func(){
		"rscale": func() { os.Exit(cmd.Main(cmd.DefaultStreams())) },
	})
}

// TestScripts runs the acceptance scripts in testdata/script: rscale as a user runs it.
func TestScripts(t *testing.T) {
	projects, err := filepath.Abs(filepath.Join("testdata", "projects"))
	if err != nil {
		t.Fatal(err)
	}
	testscript.Run(t, testscript.Params{
		Dir: filepath.Join("testdata", "script"),
		Setup: func(env *testscript.Env) error {
			env.Setenv("PROJECTS", projects)
			return nil
		},
	})
}
