// Package clidoc writes the CLI reference in docs/cli from the command tree itself, so the
// reference cannot drift from `rscale --help`: `make docs` regenerates it, and
// TestCLIReferenceIsCurrent fails when the committed copy is stale.
package clidoc

import (
	"fmt"
	"os"

	"github.com/spf13/cobra/doc"

	"github.com/rscale/rscale/cmd"
)

// Generate writes one Markdown file per command into dir.
func Generate(dir string) error {
	root := cmd.NewRootCmd(cmd.DefaultEnv())
	// Without this, every file ends with today's date and the reference is never current.
	root.DisableAutoGenTag = true
	// cobra adds `completion` only when the command runs; add it now so it is documented too.
	root.InitDefaultCompletionCmd()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("creating %s for the CLI reference: %w", dir, err)
	}
	if err := doc.GenMarkdownTree(root, dir); err != nil {
		return fmt.Errorf("writing the CLI reference into %s: %w", dir, err)
	}
	return nil
}
