// Package project reads an R Plumber project folder: its API, the R packages it uses and the
// R version it wants. It needs neither R nor Docker.
package project

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"github.com/rscale/rscale/pkg/plumber"
	"github.com/rscale/rscale/pkg/rdeps"
)

// DefaultRVersion is the R release images use when nothing in the project asks for another.
// It is a current R 4.x release with a rocker/r-ver image; the README names it too.
const DefaultRVersion = "4.6.1"

// Project is what rscale knows about an R Plumber project.
type Project struct {
	Dir         string
	API         *plumber.API
	Packages    []string    // R packages the image needs, plumber included, sorted
	Renv        *rdeps.Lock // renv.lock, when the project has one
	Description *rdeps.Description
	RVersion    string
	// RVersionSource says where RVersion came from, in words for the user.
	RVersionSource string
	Warnings       []string
}

var rVersionPattern = regexp.MustCompile(`^\d+\.\d+(\.\d+)?$`)

// Load reads the project in dir. rVersion, when not empty, is the version the user asked for
// (--r-version), which wins over renv.lock, DESCRIPTION and the default, in that order.
func Load(dir, rVersion string) (*Project, error) {
	info, err := os.Stat(dir)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("folder %s does not exist: give the folder that holds plumber.R or entrypoint.R", dir)
		}
		return nil, fmt.Errorf("cannot read folder %s: %w", dir, err)
	}
	if !info.IsDir() {
		return nil, fmt.Errorf("%s is a file, not a folder: give the folder that holds plumber.R or entrypoint.R", dir)
	}
	if rVersion != "" && !rVersionPattern.MatchString(rVersion) {
		return nil, fmt.Errorf("--r-version %q is not an R version: use a release number such as %s", rVersion, DefaultRVersion)
	}

	api, err := plumber.Load(dir)
	if err != nil {
		return nil, err
	}
	p := &Project{Dir: dir, API: api}
	p.Warnings = append(p.Warnings, api.Warnings...)
	if len(api.Endpoints) == 0 && len(api.Statics) == 0 {
		p.Warnings = append(p.Warnings, fmt.Sprintf("%s defines no endpoints: add a #* @get /path annotation above a function, or the proxy will have nothing to route", api.Entrypoint))
	}

	if err := p.readDescription(); err != nil {
		return nil, err
	}
	if err := p.readRenvLock(); err != nil {
		return nil, err
	}
	used, err := rdeps.ScanDir(dir)
	if err != nil {
		return nil, fmt.Errorf("reading the R code in %s: %w", dir, err)
	}
	p.collectPackages(used)
	if rVersion == "" {
		if err := p.checkRVersions(); err != nil {
			return nil, err
		}
	}
	p.chooseRVersion(rVersion)
	return p, nil
}

// checkRVersions refuses an R version in renv.lock or DESCRIPTION that is none: it would
// become the base image's tag, and FROM rocker/r-ver:banana fails only once the build runs.
func (p *Project) checkRVersions() error {
	if p.Renv != nil && p.Renv.RVersion != "" && !rVersionPattern.MatchString(p.Renv.RVersion) {
		return fmt.Errorf("renv.lock in %s: R version %q is not an R version: fix R.Version in renv.lock (renv::snapshot() writes it), or pass --r-version such as %s", p.Dir, p.Renv.RVersion, DefaultRVersion)
	}
	if d := p.Description; d != nil && d.RVersion != "" && !rVersionPattern.MatchString(d.RVersion) {
		return fmt.Errorf("DESCRIPTION in %s: Depends: R (>= %s) names no R version: write one such as R (>= 4.1.0), or pass --r-version such as %s", p.Dir, d.RVersion, DefaultRVersion)
	}
	return nil
}

func (p *Project) readDescription() error {
	data, err := os.ReadFile(filepath.Join(p.Dir, "DESCRIPTION"))
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("reading DESCRIPTION: %w", err)
	}
	d, err := rdeps.ParseDescription(data)
	if err != nil {
		return fmt.Errorf("DESCRIPTION in %s: %w", p.Dir, err)
	}
	p.Description = &d
	return nil
}

func (p *Project) readRenvLock() error {
	data, err := os.ReadFile(filepath.Join(p.Dir, "renv.lock"))
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("reading renv.lock: %w", err)
	}
	lock, err := rdeps.ParseRenvLock(data)
	if err != nil {
		return fmt.Errorf("renv.lock in %s: %w; fix it with renv::snapshot(), or remove it to let rscale find the packages", p.Dir, err)
	}
	p.Renv = &lock
	return nil
}

// collectPackages decides what the image installs. With renv.lock, the lockfile is the truth
// (as renv::restore would have it); otherwise the code, DESCRIPTION and plumber itself.
func (p *Project) collectPackages(used []string) {
	set := map[string]bool{"plumber": true}
	if p.Renv != nil {
		for _, pkg := range p.Renv.Packages {
			set[pkg.Name] = true
		}
		var unlocked []string
		for _, u := range used {
			if !set[u] {
				unlocked = append(unlocked, u)
			}
		}
		if len(unlocked) > 0 {
			p.Warnings = append(p.Warnings, fmt.Sprintf("the code uses %s, which renv.lock does not record: run renv::snapshot() in R so the image gets them", strings.Join(unlocked, ", ")))
		}
		if !lockHas(p.Renv, "plumber") {
			p.Warnings = append(p.Warnings, "renv.lock does not record plumber: the image installs the current release; run renv::snapshot() to pin it")
		}
	} else {
		for _, u := range used {
			set[u] = true
		}
		if p.Description != nil {
			for _, d := range append(append([]string{}, p.Description.Imports...), p.Description.Depends...) {
				set[d] = true
			}
		}
	}
	for name := range set {
		if !rdeps.IsBase(name) {
			p.Packages = append(p.Packages, name)
		}
	}
	sort.Strings(p.Packages)
}

func lockHas(lock *rdeps.Lock, name string) bool {
	for _, pkg := range lock.Packages {
		if pkg.Name == name {
			return true
		}
	}
	return false
}

func (p *Project) chooseRVersion(flag string) {
	var minimum string
	if p.Description != nil {
		minimum = p.Description.RVersion
	}
	switch {
	case flag != "":
		p.RVersion, p.RVersionSource = flag, "from --r-version"
		if minimum != "" && compareVersions(flag, minimum) < 0 {
			p.Warnings = append(p.Warnings, fmt.Sprintf("--r-version %s is older than the R (>= %s) that DESCRIPTION asks for", flag, minimum))
		}
	case p.Renv != nil && p.Renv.RVersion != "":
		p.RVersion, p.RVersionSource = p.Renv.RVersion, "from renv.lock"
	case minimum != "" && compareVersions(minimum, DefaultRVersion) > 0:
		p.RVersion, p.RVersionSource = fullVersion(minimum), "the minimum DESCRIPTION asks for"
	case minimum != "":
		p.RVersion, p.RVersionSource = DefaultRVersion, fmt.Sprintf("rscale's default, which satisfies DESCRIPTION's R (>= %s)", minimum)
	default:
		p.RVersion, p.RVersionSource = DefaultRVersion, "rscale's default"
	}
}

// fullVersion pads "4.7" to "4.7.0": rocker/r-ver tags name full releases.
func fullVersion(v string) string {
	if strings.Count(v, ".") == 1 {
		return v + ".0"
	}
	return v
}

// compareVersions compares dotted numeric versions, a missing part counting as 0.
func compareVersions(a, b string) int {
	as, bs := strings.Split(a, "."), strings.Split(b, ".")
	for i := 0; i < len(as) || i < len(bs); i++ {
		var x, y int
		if i < len(as) {
			x, _ = strconv.Atoi(as[i])
		}
		if i < len(bs) {
			y, _ = strconv.Atoi(bs[i])
		}
		if x != y {
			if x < y {
				return -1
			}
			return 1
		}
	}
	return 0
}
