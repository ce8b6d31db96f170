package registry

import (
	"strings"
	"testing"
)

func TestCheck(t *testing.T) {
	for _, ok := range []string{"registry.example.com", "localhost:5000", "10.213.0.1:5000", "10.0.0.5:5000/team", "ghcr.io/org/sub"} {
		if err := Check(ok); err != nil {
			t.Errorf("Check(%q): %v", ok, err)
		}
	}
	for bad, want := range map[string]string{
		"http://localhost:5000": "without a scheme",
		"myregistry":            "with a dot or a port",
		"localhost:5000/x:tag":  "not a registry address",
		"":                      "not a registry address",
	} {
		if err := Check(bad); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Check(%q) = %v, want an error saying %q", bad, err, want)
		}
	}
}

func TestRef(t *testing.T) {
	got, err := Ref("10.213.0.1:5000/team", "my-api", "model_server", "rscale-0123456789ab")
	if err != nil || got != "10.213.0.1:5000/team/my-api/model_server:rscale-0123456789ab" {
		t.Errorf("Ref = %q, %v", got, err)
	}
}
