// Package stackname holds the rules for the names of a stack and its services, which every
// engine accepts: Swarm's "<stack>_<service>" in 63 characters is the tightest of them.
package stackname

import (
	"fmt"
	"regexp"
	"strings"
)

// MaxServiceName is Swarm's limit on a service name, "<stack>_<service>", which must also be a DNS label.
const MaxServiceName = 63

var (
	invalidRun   = regexp.MustCompile(`[^a-z0-9_-]+`)
	validService = regexp.MustCompile(`^[a-z0-9](?:[a-z0-9_-]*[a-z0-9])?$`)
)

// FromFolder derives a stack name from a folder name: lower case, every run of characters Swarm refuses
// replaced by one '-', trimmed so it starts and ends with a letter or digit, and short enough that
// "<stack>_<longestService>" fits in 63 characters.
func FromFolder(folder, longestService string) (string, error) {
	name := invalidRun.ReplaceAllString(strings.ToLower(folder), "-")
	name = strings.Trim(name, "-_")
	if limit := MaxServiceName - len(longestService) - 1; len(name) > limit {
		name = strings.TrimRight(name[:limit], "-_")
	}
	if name == "" {
		return "", fmt.Errorf("the folder name %q gives no usable stack name (Swarm accepts a-z, 0-9, '-' and '_'): pass --name, for example --name my-api", folder)
	}
	return name, nil
}

// Check reports whether a stack name given by the user is one Swarm accepts.
func Check(stack, longestService string) error {
	if !validService.MatchString(stack) {
		return fmt.Errorf("stack name %q is not valid: use lower-case letters, digits, '-' and '_', starting and ending with a letter or digit", stack)
	}
	if n := len(stack) + 1 + len(longestService); n > MaxServiceName {
		return fmt.Errorf("stack name %q is too long: %q would be %d characters and Swarm allows %d; choose a shorter --name", stack, stack+"_"+longestService, n, MaxServiceName)
	}
	return nil
}

// CheckService reports whether name can be a service of a stack.
func CheckService(name string) error {
	if !validService.MatchString(name) {
		return fmt.Errorf("service name %q is not valid: use lower-case letters, digits, '-' and '_', starting and ending with a letter or digit (for example model_server)", name)
	}
	return nil
}

// Scoped is the name a stack gives what it creates (services, networks, configs, secrets):
// "<stack>_<name>", as docker stack deploy names them.
func Scoped(stack, name string) string {
	return stack + "_" + name
}

// Unscoped drops the stack's prefix from a scoped name; a name without it is returned as is.
func Unscoped(stack, scoped string) string {
	return strings.TrimPrefix(scoped, stack+"_")
}
