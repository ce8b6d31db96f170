// Command gen rewrites docs/cli, the CLI reference: `make docs` runs it from the module root.
package main

import (
	"fmt"
	"os"

	"github.com/rscale/rscale/internal/clidoc"
)

func main() {
	dir := "docs/cli"
	if len(os.Args) > 1 {
		dir = os.Args[1]
	}
	if err := clidoc.Generate(dir); err != nil {
		fmt.Fprintln(os.Stderr, "clidoc:", err)
		os.Exit(1)
	}
}
