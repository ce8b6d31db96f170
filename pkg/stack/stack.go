// Package stack reads a Compose-format stack file with compose-go and converts it into the
// Docker Engine API objects `docker stack deploy` would create for it, with the same names
// and labels, so rscale and the docker CLI see the same stacks.
package stack

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/compose-spec/compose-go/v2/cli"
	"github.com/compose-spec/compose-go/v2/types"
	"github.com/sirupsen/logrus"
)

// Load reads a stack file, interpolating variables from the environment and from a .env
// file beside it, with relative paths taken from the file's folder.
func Load(ctx context.Context, file, stackName string) (*types.Project, error) {
	abs, err := filepath.Abs(file)
	if err != nil {
		return nil, err
	}
	if _, err := os.Stat(abs); err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("stack file %s: %w: run 'rscale init' in that folder first, or pass --file", file, fs.ErrNotExist)
		}
		return nil, fmt.Errorf("reading stack file %s: %w", file, err)
	}
	opts, err := cli.NewProjectOptions([]string{abs},
		cli.WithWorkingDirectory(filepath.Dir(abs)),
		cli.WithOsEnv,
		cli.WithDotEnv,
		cli.WithName(stackName),
	)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", file, err)
	}
	// compose-go warns on its logger that `version` is obsolete; docker stack still wants it.
	level := logrus.GetLevel()
	logrus.SetLevel(logrus.ErrorLevel)
	p, err := cli.ProjectFromOptions(ctx, opts)
	logrus.SetLevel(level)
	if err != nil {
		if !strings.Contains(err.Error(), filepath.Base(file)) {
			return nil, fmt.Errorf("%s: %w", file, err)
		}
		return nil, err
	}
	return p, nil
}
