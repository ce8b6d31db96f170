package scaffold

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rscale/rscale/internal/testtool"
	"github.com/rscale/rscale/pkg/launcher"
)

// nastyStrings are values that break an R literal written naively.
var nastyStrings = []string{
	`/h\`, `/h\'`, `it's`, `say "no"`, `"); system("touch /tmp/x`, `back\\slash`, `$HOME`, "`id`",
	"caf\u00e9", "\U0001F600", "", printableASCII(),
}

func printableASCII() string {
	var b strings.Builder
	for c := byte(' '); c <= '~'; c++ {
		b.WriteByte(c)
	}
	return b.String()
}

// R reads back each literal rstring writes as the string it was given.
func TestRStringInR(t *testing.T) {
	var script, want strings.Builder
	for _, s := range nastyStrings {
		lit, err := rstring(s)
		if err != nil {
			t.Fatalf("rstring(%q): %v", s, err)
		}
		// Code points, so that the comparison does not depend on R's locale.
		fmt.Fprintf(&script, "cat(utf8ToInt(%s), sep = \" \"); cat(\"\\n\")\n", lit)
		want.WriteString(codePoints(s) + "\n")
	}
	out := runR(t, script.String())
	if out != want.String() {
		t.Errorf("R read back\n%s\nwant\n%s\nscript:\n%s", out, want.String(), script.String())
	}
}

func TestRStringRefusesControlCharacters(t *testing.T) {
	for _, bad := range []string{"/h\n", "a\x00b", "tab\there", "\x7f", "bad\xffutf8"} {
		if _, err := rstring(bad); err == nil {
			t.Errorf("rstring(%q) gave no error", bad)
		}
	}
	if _, err := rlist([]string{"ok", "no\r"}); err == nil {
		t.Error("rlist took a carriage return")
	}
	if got, err := rlist([]string{"plumber", "jsonlite"}); err != nil || got != `"plumber", "jsonlite"` {
		t.Errorf("rlist = %s, %v", got, err)
	}
}

func TestDockerword(t *testing.T) {
	for _, ok := range []string{"/healthz", "rocker/r-ver:4.4.2", "4.4.2", "/a(b);c&d=e"} {
		if got, err := dockerword(ok); err != nil || got != ok {
			t.Errorf("dockerword(%q) = %q, %v", ok, got, err)
		}
	}
	for _, bad := range []string{"", "/a b", "/a$b", `/a\`, `/a"`, "/a'", "/a\nRUN rm -rf /", "/a`b`"} {
		if _, err := dockerword(bad); err == nil {
			t.Errorf("dockerword(%q) gave no error", bad)
		}
	}
}

func TestValidateHealthPath(t *testing.T) {
	for _, ok := range []string{"/healthz", "/", "/api/v1/health", "/h-1_x.y~", "/ping;v=1", "/%7Euser"} {
		o := DefaultOptions()
		o.HealthPath = ok
		if err := o.Validate(); err != nil {
			t.Errorf("--health-path %q: %v", ok, err)
		}
	}
	for _, bad := range []string{"", "healthz", `/h\`, `/h\'`, "/h'", `/h"`, "/h b", "/h?x=1", "/h#top", "/h$x", "/h`id`", "/h\n", "/h\t", "/caf\u00e9"} {
		o := DefaultOptions()
		o.HealthPath = bad
		if err := o.Validate(); err == nil || !strings.Contains(err.Error(), "--health-path") || !strings.Contains(err.Error(), "plain URL path") {
			t.Errorf("--health-path %q: %v, want it refused", bad, err)
		}
	}
}

// The launcher R runs parses whatever the health path holds, even one the options' checks
// would refuse: its escaping does not rely on them.
func TestLauncherWithANastyHealthPathParses(t *testing.T) {
	rscript := testtool.Need(t, "Rscript")
	dir := t.TempDir()
	for i, path := range nastyStrings {
		o := DefaultOptions()
		o.HealthPath = path
		out, err := render("launch.R.tmpl", data{Options: o, Version: "test", AlivePath: launcher.AlivePath})
		if err != nil {
			t.Fatalf("%q: %v", path, err)
		}
		file := filepath.Join(dir, fmt.Sprintf("launch-%d.R", i))
		if err := os.WriteFile(file, out, 0o644); err != nil {
			t.Fatal(err)
		}
		// The default is the value the launcher falls back on without HEALTH_PATH.
		check := fmt.Sprintf(`exprs <- parse(file = %q)
for (e in exprs) if (is.call(e) && identical(e[[1]], as.name("<-")) && identical(e[[2]], as.name("health_path"))) cat(utf8ToInt(eval(e[[3]][[3]])))`, file)
		got, err := exec.Command(rscript, "--vanilla", "-e", check).CombinedOutput()
		if err != nil {
			t.Errorf("health path %q: R cannot parse the launcher: %v\n%s", path, err, got)
			continue
		}
		if strings.TrimSpace(string(got)) != codePoints(path) {
			t.Errorf("health path %q: the launcher's default is %s, want %s", path, got, codePoints(path))
		}
	}
	o := DefaultOptions()
	o.HealthPath = "/h\n"
	if _, err := render("launch.R.tmpl", data{Options: o, Version: "test", AlivePath: launcher.AlivePath}); err == nil {
		t.Error("a health path with a line break rendered")
	}
}

// codePoints are s's characters as numbers, as R's cat(utf8ToInt(s)) prints them.
func codePoints(s string) string {
	var numbers []string
	for _, r := range s {
		numbers = append(numbers, fmt.Sprint(r))
	}
	return strings.Join(numbers, " ")
}

// runR runs script in Rscript and returns what it prints.
func runR(t *testing.T, script string) string {
	t.Helper()
	rscript := testtool.Need(t, "Rscript")
	file := filepath.Join(t.TempDir(), "script.R")
	if err := os.WriteFile(file, []byte(script), 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(rscript, "--vanilla", file).CombinedOutput()
	if err != nil {
		t.Fatalf("Rscript: %v\n%s", err, out)
	}
	return string(out)
}
