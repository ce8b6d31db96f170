// Package registry checks the registry addresses rscale pushes images to (--registry,
// x-rscale: registry:) and names the references they get there; pkg/images pushes them.
package registry

import (
	"fmt"
	"strings"

	"github.com/distribution/reference"
)

// Check validates a registry given as host[:port][/path], as --registry takes it.
// An address that holds credentials is refused without quoting it, so the password never
// reaches the terminal or a log.
func Check(registry string) error {
	if strings.Contains(registry, "@") {
		return fmt.Errorf("the registry address holds a user name and password (user:password@host): rscale would record them in the stack file; " +
			"give host[:port][/path] alone, and run `docker login HOST` once: rscale pushes with the credentials docker keeps")
	}
	if strings.Contains(registry, "://") {
		return fmt.Errorf("registry %q: give it as host[:port][/path], without a scheme (such as registry.example.com:5000)", registry)
	}
	named, err := reference.ParseNamed(registry + "/x")
	if err != nil || reference.Domain(named)+"/"+reference.Path(named) != registry+"/x" {
		return fmt.Errorf("registry %q is not a registry address: give host[:port][/path], with a dot or a port in the host (such as registry.example.com, localhost:5000 or 10.0.0.5:5000/team)", registry)
	}
	return nil
}

// Ref is where rscale pushes the image of one service: REGISTRY/<stack>/<service>:<tag>.
func Ref(registry, stack, service, tag string) (string, error) {
	if err := Check(registry); err != nil {
		return "", err
	}
	ref := strings.TrimSuffix(registry, "/") + "/" + stack + "/" + service + ":" + tag
	if _, err := reference.ParseNamed(ref); err != nil {
		return "", fmt.Errorf("image name %s: %w", ref, err)
	}
	return ref, nil
}
