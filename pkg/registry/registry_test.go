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

// An address with credentials is refused, and the message never quotes them.
func TestCheckRefusesCredentials(t *testing.T) {
	for _, bad := range []string{"user:PASSWORD@registry.example.com", "https://user:PASSWORD@registry.example.com", "PASSWORD@localhost:5000/team"} {
		err := Check(bad)
		if err == nil || !strings.Contains(err.Error(), "holds a user name and password") || !strings.Contains(err.Error(), "docker login") {
			t.Errorf("Check(%q) = %v, want the credentials refused", bad, err)
		}
		if err != nil && strings.Contains(err.Error(), "PASSWORD") {
			t.Errorf("Check(%q) quotes the password: %v", bad, err)
		}
	}
}

func TestRef(t *testing.T) {
	got, err := Ref("10.213.0.1:5000/team", "my-api", "model_server", "rscale-0123456789ab")
	if err != nil || got != "10.213.0.1:5000/team/my-api/model_server:rscale-0123456789ab" {
		t.Errorf("Ref = %q, %v", got, err)
	}
}
