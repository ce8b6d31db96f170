package scaffold

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
)

func TestNewPasswordIsLettersAndDigits(t *testing.T) {
	seen := map[string]bool{}
	safe := regexp.MustCompile(`^[A-Za-z0-9]{22}$`)
	counts := map[rune]int{}
	for range 2000 {
		p := newPassword()
		if !safe.MatchString(p) {
			t.Fatalf("newPassword() = %q, want 22 letters and digits", p)
		}
		if seen[p] {
			t.Fatalf("newPassword() gave %q twice", p)
		}
		seen[p] = true
		for _, r := range p {
			counts[r]++
		}
	}
	if len(counts) != len(passwordLetters) {
		t.Errorf("%d of the %d letters drawn in 2000 passwords", len(counts), len(passwordLetters))
	}
}

func TestCheckPassword(t *testing.T) {
	if err := checkPassword([]byte(newPassword())); err != nil {
		t.Errorf("a generated password: %v", err)
	}
	if err := checkPassword([]byte("correct-horse_battery.staple!42")); err != nil {
		t.Errorf("punctuation a shell and HAProxy take as it is: %v", err)
	}
	for _, bad := range []string{"", "pa$word", "pa`id`", "it's", `say"no"`, `back\slash`, "two words", "tab\there", "hash#tag", "user:pw", "nul\x00", "bell\a", "nbsp\u00a0x"} {
		err := checkPassword([]byte(bad))
		if err == nil || !strings.Contains(err.Error(), "must be one word") {
			t.Errorf("%q: %v, want it refused", bad, err)
			continue
		}
		if bad != "" && strings.Contains(err.Error(), bad) {
			t.Errorf("%q: the message quotes the password: %v", bad, err)
		}
	}
}

// dashboardDir is a project folder with its secrets' folder made.
func dashboardDir(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, SecretsDir), 0o700); err != nil {
		t.Fatal(err)
	}
	return dir
}

func writeDashboard(t *testing.T, dir string) error {
	t.Helper()
	files, err := DashboardSecrets(dir, ProxyHAProxy)
	if err != nil {
		return err
	}
	secrets, err := PlanSecrets(dir, files)
	if err != nil {
		return err
	}
	return WriteSecrets(dir, secrets)
}

func TestSecretsAreWrittenForTheOwnerAndKept(t *testing.T) {
	dir := t.TempDir()
	if err := writeDashboard(t, dir); err != nil {
		t.Fatal(err)
	}
	for _, path := range []string{DashboardPasswordFile, DashboardUsersFile} {
		info, err := os.Lstat(filepath.Join(dir, path))
		if err != nil || info.Mode() != 0o600 {
			t.Errorf("%s: %v, %v; want a file of mode 0600", path, info, err)
		}
	}
	if info, err := os.Stat(filepath.Join(dir, SecretsDir)); err != nil || info.Mode().Perm() != 0o700 {
		t.Errorf("%s: %v, %v; want a folder of mode 0700", SecretsDir, info, err)
	}
	first, _ := os.ReadFile(filepath.Join(dir, DashboardPasswordFile))
	files, err := DashboardSecrets(dir, ProxyHAProxy)
	if err != nil {
		t.Fatal(err)
	}
	secrets, err := PlanSecrets(dir, files)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range secrets {
		if s.Action != Unchanged {
			t.Errorf("%s: %s a second time, want it unchanged", s.Path, s.Action)
		}
	}
	if string(secrets[0].Data) != string(first) {
		t.Errorf("the password changed: %q, then %q", first, secrets[0].Data)
	}
	// No temporary file is left beside them.
	entries, _ := os.ReadDir(filepath.Join(dir, SecretsDir))
	if len(entries) != 2 {
		t.Errorf("%s holds %v, want the two secrets only", SecretsDir, entries)
	}
}

// A secret's path that is not a plain file is refused before anything is written, and what
// a link points to is left alone.
func TestSecretsRefuseWhatIsNotAFile(t *testing.T) {
	for name, create := range map[string]func(t *testing.T, path, target string){
		"link": func(t *testing.T, path, target string) {
			if err := os.Symlink(target, path); err != nil {
				t.Fatal(err)
			}
		},
		"dangling link": func(t *testing.T, path, target string) {
			if err := os.Symlink(target+".missing", path); err != nil {
				t.Fatal(err)
			}
		},
		"named pipe": func(t *testing.T, path, _ string) {
			if err := syscall.Mkfifo(path, 0o600); err != nil {
				t.Skipf("mkfifo: %v", err)
			}
		},
		"folder": func(t *testing.T, path, _ string) {
			if err := os.Mkdir(path, 0o700); err != nil {
				t.Fatal(err)
			}
		},
	} {
		for _, secret := range []string{DashboardPasswordFile, DashboardUsersFile} {
			t.Run(name+" "+filepath.Base(secret), func(t *testing.T) {
				dir := dashboardDir(t)
				target := filepath.Join(t.TempDir(), "precious")
				if err := os.WriteFile(target, []byte("keep me\n"), 0o644); err != nil {
					t.Fatal(err)
				}
				create(t, filepath.Join(dir, secret), target)
				err := writeDashboard(t, dir)
				if err == nil || !strings.Contains(err.Error(), secret+" is a ") || !strings.Contains(err.Error(), "remove it") {
					t.Fatalf("got %v, want %s refused", err, secret)
				}
				if data, _ := os.ReadFile(target); string(data) != "keep me\n" {
					t.Errorf("the file the link points to now holds %q", data)
				}
				entries, _ := os.ReadDir(filepath.Join(dir, SecretsDir))
				if len(entries) != 1 {
					t.Errorf("%s holds %v, want only what was there", SecretsDir, entries)
				}
			})
		}
	}
}

func TestSecretsRefuseALinkedFolder(t *testing.T) {
	for _, folder := range []string{".rscale", SecretsDir} {
		dir := t.TempDir()
		elsewhere := t.TempDir()
		if err := os.MkdirAll(filepath.Join(dir, filepath.Dir(folder)), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.Symlink(elsewhere, filepath.Join(dir, folder)); err != nil {
			t.Fatal(err)
		}
		err := writeDashboard(t, dir)
		if err == nil || !strings.Contains(err.Error(), folder+" is a link, not a folder") {
			t.Errorf("%s a link: %v, want it refused", folder, err)
		}
		if entries, _ := os.ReadDir(elsewhere); len(entries) != 0 {
			t.Errorf("%s a link: wrote %v where it points", folder, entries)
		}
	}
}

// A secret that became a link after PlanSecrets looked is still not written through.
func TestWriteSecretsChecksAgain(t *testing.T) {
	dir := dashboardDir(t)
	files, err := DashboardSecrets(dir, ProxyHAProxy)
	if err != nil {
		t.Fatal(err)
	}
	secrets, err := PlanSecrets(dir, files)
	if err != nil {
		t.Fatal(err)
	}
	target := filepath.Join(t.TempDir(), "precious")
	if err := os.WriteFile(target, []byte("keep me\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(target, filepath.Join(dir, DashboardPasswordFile)); err != nil {
		t.Fatal(err)
	}
	if err := WriteSecrets(dir, secrets); err == nil || !strings.Contains(err.Error(), "is a link") {
		t.Errorf("got %v, want the link refused", err)
	}
	if data, _ := os.ReadFile(target); string(data) != "keep me\n" {
		t.Errorf("the file the link points to now holds %q", data)
	}
}
