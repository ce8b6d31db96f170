package stackname

import (
	"strings"
	"testing"
)

func TestFromFolder(t *testing.T) {
	tests := []struct {
		folder, want string
	}{
		{"echo", "echo"},
		{"Weird Name.v2!", "weird-name-v2"},
		{"my_api", "my_api"},
		{"--API--", "api"},
		{"Ünïcode API", "n-code-api"},
		{"a..b", "a-b"},
	}
	for _, tt := range tests {
		got, err := FromFolder(tt.folder, "model_server")
		if err != nil {
			t.Errorf("FromFolder(%q): %v", tt.folder, err)
			continue
		}
		if got != tt.want {
			t.Errorf("FromFolder(%q) = %q, want %q", tt.folder, got, tt.want)
		}
		if err := Check(got, "model_server"); err != nil {
			t.Errorf("FromFolder(%q) = %q, which Check refuses: %v", tt.folder, got, err)
		}
	}
}

func TestFromFolderTruncatesToFitServiceName(t *testing.T) {
	long := strings.Repeat("analysis-", 10)
	got, err := FromFolder(long, "model_server")
	if err != nil {
		t.Fatal(err)
	}
	if full := got + "_model_server"; len(full) > MaxServiceName {
		t.Errorf("%q is %d characters, over %d", full, len(full), MaxServiceName)
	}
	if strings.HasSuffix(got, "-") {
		t.Errorf("truncated name %q ends with '-'", got)
	}
}

func TestFromFolderNothingLeft(t *testing.T) {
	for _, folder := range []string{"!!!", "", "...", "日本語"} {
		_, err := FromFolder(folder, "model_server")
		if err == nil || !strings.Contains(err.Error(), "--name") {
			t.Errorf("FromFolder(%q) error = %v, want one suggesting --name", folder, err)
		}
	}
}

func TestCheckService(t *testing.T) {
	for _, ok := range []string{"model_server", "api", "a", "web-1"} {
		if err := CheckService(ok); err != nil {
			t.Errorf("CheckService(%q) = %v", ok, err)
		}
	}
	for _, bad := range []string{"", "Model", "-api", "api_", "a b", "api.v2"} {
		if err := CheckService(bad); err == nil {
			t.Errorf("CheckService(%q) accepted it", bad)
		}
	}
}

func TestCheckStackTooLong(t *testing.T) {
	err := Check(strings.Repeat("a", 60), "model_server")
	if err == nil || !strings.Contains(err.Error(), "too long") {
		t.Errorf("got %v, want a too-long error", err)
	}
}

func TestScoped(t *testing.T) {
	if got := Scoped("demo", "model_server"); got != "demo_model_server" {
		t.Errorf("Scoped = %q", got)
	}
	for in, want := range map[string]string{"demo_model_server": "model_server", "model_server": "model_server", "other_api": "other_api"} {
		if got := Unscoped("demo", in); got != want {
			t.Errorf("Unscoped(demo, %q) = %q, want %q", in, got, want)
		}
	}
}
