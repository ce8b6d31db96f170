package scaffold

import (
	"fmt"
	"net/url"
	"regexp"
	"strings"
	"time"
)

// snapshotDate is --cran's form for a dated snapshot of the package repository.
var snapshotDate = regexp.MustCompile(`^\d{4}-\d{2}-\d{2}$`)

// checkCRAN accepts an http(s) URL, a date, or "". A URL that holds credentials is refused
// before any message quotes it, so the password never reaches the terminal or a log.
func checkCRAN(cran string) error {
	if cran == "" {
		return nil
	}
	if HoldsUserInfo(cran) {
		return fmt.Errorf("the --cran URL (or RSCALE_CRAN) holds a user name and password: rscale would write them into .rscale/install.R and the image; " +
			"give a URL without them, such as https://cloud.r-project.org. Private package repositories that need credentials are not supported yet " +
			"(a ~/.netrc is not read inside the build)")
	}
	// R appends /src/contrib/PACKAGES to the URL, so a query is no part of a repository's
	// address; it is where an access token would go, so it is not quoted either.
	if strings.ContainsAny(cran, "?#") {
		return fmt.Errorf("the --cran URL (or RSCALE_CRAN) has a query (?...) or a fragment (#...): give the package repository's address alone, " +
			"such as https://cloud.r-project.org. Private package repositories that need credentials are not supported yet")
	}
	if snapshotDate.MatchString(cran) {
		if _, err := time.Parse(time.DateOnly, cran); err != nil {
			return fmt.Errorf("--cran %q is not a date: write it as 2024-06-03", cran)
		}
		return nil
	}
	if u, err := url.Parse(cran); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("--cran %q: give the URL of a package repository, such as https://cloud.r-project.org, or a date (2024-06-03) for a dated snapshot", cran)
	}
	return nil
}

// HoldsUserInfo tells whether a URL or a registry address has a user (and perhaps a
// password) before its host. It does not parse s, so that a malformed one is caught too.
func HoldsUserInfo(s string) bool {
	if i := strings.Index(s, "://"); i >= 0 {
		s = s[i+3:]
	}
	if i := strings.IndexAny(s, "/?#"); i >= 0 {
		s = s[:i]
	}
	return strings.Contains(s, "@")
}
