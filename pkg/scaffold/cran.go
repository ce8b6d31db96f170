package scaffold

import (
	"fmt"
	"net/url"
	"regexp"
	"time"
)

// snapshotDate is --cran's form for a dated snapshot of the package repository.
var snapshotDate = regexp.MustCompile(`^\d{4}-\d{2}-\d{2}$`)

// checkCRAN accepts an http(s) URL, a date, or "".
func checkCRAN(cran string) error {
	if cran == "" {
		return nil
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
