package cmd

import (
	"errors"
	"strings"
	"testing"

	"github.com/spf13/cobra"

	"github.com/rscale/rscale/pkg/stack"
)

// parsedEngineFlags is a command named name with every registered engine's flags, parsed
// from args.
func parsedEngineFlags(t *testing.T, name string, args ...string) *engineFlags {
	t.Helper()
	var f engineFlags
	c := &cobra.Command{Use: name}
	f.registerEngines(c)
	if err := c.Flags().Parse(args); err != nil {
		t.Fatal(err)
	}
	return &f
}

func TestEachEngineBindsItsOwnFlags(t *testing.T) {
	deploy := parsedEngineFlags(t, "deploy")
	for flag, owner := range map[string]string{"no-init": "swarm", "advertise-addr": "swarm", "kubeconfig": "kubernetes", "namespace": "kubernetes", "service-type": "kubernetes", "fake-window": "fake"} {
		if got := strings.Join(deploy.owners[flag], ","); got != owner {
			t.Errorf("deploy --%s belongs to %q, want %q", flag, got, owner)
		}
	}
	ps := parsedEngineFlags(t, "ps")
	if ps.flags.Lookup("no-init") != nil || ps.flags.Lookup("service-type") != nil {
		t.Errorf("ps has deploy's engine flags")
	}
	if ps.flags.Lookup("kubeconfig") == nil || ps.flags.ShorthandLookup("n") == nil {
		t.Errorf("ps lacks --kubeconfig or -n")
	}
}

func TestAnotherEnginesFlagIsRefused(t *testing.T) {
	for _, c := range []struct {
		args []string
		ext  string // the stack file's x-rscale target
		want string // the refusal; "" for none
	}{
		{[]string{"--kubeconfig", "k"}, "", "--kubeconfig is a flag of the kubernetes engine, and this command acts on swarm: drop --kubeconfig, or choose --target kubernetes"},
		{[]string{"--kubeconfig", "k"}, "kubernetes", ""},
		{[]string{"--no-init", "--target", "kubernetes"}, "", "--no-init is a flag of the swarm engine, and this command acts on kubernetes"},
		{[]string{"--no-init", "--target", "swarm"}, "kubernetes", ""},
		{[]string{"-n", "prod", "--target", "fake"}, "", "--namespace is a flag of the kubernetes engine, and this command acts on fake"},
		{[]string{"--target", "nomad"}, "", `unknown target "nomad": choose swarm, kubernetes or fake`},
	} {
		f := parsedEngineFlags(t, "deploy", c.args...)
		r, err := f.choose(&stack.Stack{Ext: stack.Extension{Target: c.ext}})
		switch {
		case c.want == "" && err != nil:
			t.Errorf("%v (file: %q): refused: %v", c.args, c.ext, err)
		case c.want != "" && (err == nil || !strings.Contains(err.Error(), c.want)):
			t.Errorf("%v (file: %q): got %v (engine %s), want %q", c.args, c.ext, err, r.Name, c.want)
		case c.want != "" && !errors.As(err, new(usageError)):
			t.Errorf("%v: %v is not a usage error (exit code 2)", c.args, err)
		}
	}
}
