package sysreqs

import (
	"reflect"
	"regexp"
	"testing"
)

func TestFor(t *testing.T) {
	got := For([]string{"xml2", "plumber", "randomForest", "curl", "httr"})
	want := []string{"libcurl4-openssl-dev", "libsodium-dev", "libssl-dev", "libxml2-dev", "zlib1g-dev"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("For = %v, want %v", got, want)
	}
	if got := For([]string{"randomForest", "jsonlite"}); len(got) != 0 {
		t.Errorf("packages with no system needs gave %v", got)
	}
}

// Every name must be one apt-get accepts, or the image build fails on a typo.
func TestTableNamesAreDebianPackageNames(t *testing.T) {
	debName := regexp.MustCompile(`^[a-z0-9][a-z0-9.+-]+$`)
	for r, deps := range table {
		if len(deps) == 0 {
			t.Errorf("%s: empty entry", r)
		}
		for _, d := range deps {
			if !debName.MatchString(d) {
				t.Errorf("%s: %q is not a Debian package name", r, d)
			}
		}
	}
}
