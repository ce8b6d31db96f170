package serve

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"

	"github.com/rscale/rscale/pkg/scaffold"
)

var errAddrInUse = syscall.EADDRINUSE

// findRscript finds the Rscript serve runs the workers with.
func findRscript(given string) (string, error) {
	name := given
	if name == "" {
		name = "Rscript"
	}
	path, err := exec.LookPath(name)
	if err != nil {
		if given != "" {
			return "", fmt.Errorf("--rscript %s: %w", given, err)
		}
		return "", errors.New("Rscript not found: install R (for example apt-get install r-base-core r-cran-plumber), or pass --rscript with its path")
	}
	return path, nil
}

// checkPackages asks R which of the packages the API uses are not installed, so a missing
// one is named before any worker starts.
func checkPackages(ctx context.Context, rscript string, packages []string) error {
	quoted := make([]string, len(packages))
	for i, p := range packages {
		quoted[i] = strconv.Quote(p)
	}
	// system.file(package = x) is "" for a package that is not installed.
	script := fmt.Sprintf(`p <- c(%s); cat(p[!nzchar(vapply(p, function(x) system.file(package = x), ""))], sep = "\n")`, strings.Join(quoted, ", "))
	var out, errOut bytes.Buffer
	cmd := exec.CommandContext(ctx, rscript, "--vanilla", "-e", script)
	cmd.Stdout, cmd.Stderr = &out, &errOut
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("asking R which packages are installed: %w\n%s", err, errOut.String())
	}
	missing := strings.Fields(out.String())
	if len(missing) == 0 {
		return nil
	}
	quoted = quoted[:0]
	debian := make([]string, len(missing))
	for i, m := range missing {
		quoted = append(quoted, strconv.Quote(m))
		debian[i] = "r-cran-" + strings.ToLower(m)
	}
	return fmt.Errorf("R package(s) not installed: %s. Install them in R with install.packages(c(%s)), or from Debian's packages: apt-get install %s",
		strings.Join(missing, ", "), strings.Join(quoted, ", "), strings.Join(debian, " "))
}

// writeLauncher writes the R launcher rscale init writes into images, into a temporary
// folder, so the API starts the same way here as in a container.
func writeLauncher(version string) (string, func(), error) {
	script, err := scaffold.Launcher(version)
	if err != nil {
		return "", nil, err
	}
	dir, err := os.MkdirTemp("", "rscale-serve-")
	if err != nil {
		return "", nil, fmt.Errorf("writing the R launcher: %w", err)
	}
	path := filepath.Join(dir, "launch.R")
	if err := os.WriteFile(path, script, 0o644); err != nil {
		os.RemoveAll(dir)
		return "", nil, fmt.Errorf("writing the R launcher: %w", err)
	}
	return path, func() { os.RemoveAll(dir) }, nil
}
