package stack

import (
	"context"
	"fmt"
	"path/filepath"

	"github.com/compose-spec/compose-go/v2/types"
	"github.com/distribution/reference"

	"github.com/rscale/rscale/pkg/stackname"
)

// Open reads a stack file and decides the stack's name: name when given, else the one init
// recorded under x-rscale:, else the folder's name made Swarm-safe.
func Open(ctx context.Context, file, name string) (*types.Project, string, error) {
	p, err := Load(ctx, file, "rscale")
	if err != nil {
		return nil, "", err
	}
	if name == "" {
		ext, err := ReadExtension(p)
		if err != nil {
			return nil, "", fmt.Errorf("%s: %w", file, err)
		}
		name = ext.Stack
	}
	if name == "" {
		abs, _ := filepath.Abs(file)
		if name, err = stackname.FromFolder(filepath.Base(filepath.Dir(abs)), longestService(p)); err != nil {
			return nil, "", err
		}
	}
	if err := stackname.Check(name, longestService(p)); err != nil {
		return nil, "", err
	}
	return p, name, nil
}

func longestService(p *types.Project) string {
	longest := ""
	for _, n := range p.ServiceNames() {
		if len(n) > len(longest) {
			longest = n
		}
	}
	return longest
}

// CheckImages refuses an image: Docker would refuse, before anything is built or deployed.
func CheckImages(p *types.Project) error {
	for _, name := range p.ServiceNames() {
		image := p.Services[name].Image
		if image == "" {
			continue
		}
		if _, err := reference.ParseNormalizedNamed(image); err != nil {
			return fmt.Errorf("service %s: image %q is not an image reference: %v; write one such as registry.example.com/api:1.2 (lower case, no spaces)", name, image, err)
		}
	}
	return nil
}
