// Package sysreqs knows which Debian/Ubuntu packages R packages need to build and run.
//
// CRAN records these needs as free text (SystemRequirements), and rscale cannot ask a package
// index at init time, so the common cases live in a table here. The names are the same on
// Debian bookworm and Ubuntu noble, the bases of Debian's R and of rocker/r-ver.
package sysreqs

import "sort"

// table maps an R package to the system packages its build needs. Packages whose only needs
// come through dependencies list those too, since rscale does not resolve dependency trees.
var table = map[string][]string{
	"arrow":       {"libcurl4-openssl-dev", "libssl-dev"},
	"cairo":       {"libcairo2-dev"},
	"Cairo":       {"libcairo2-dev", "libxt-dev"},
	"curl":        {"libcurl4-openssl-dev", "libssl-dev"},
	"data.table":  {"zlib1g-dev"},
	"devtools":    {"libcurl4-openssl-dev", "libssl-dev", "libxml2-dev", "libgit2-dev", "libfontconfig1-dev", "libharfbuzz-dev", "libfribidi-dev", "libfreetype-dev", "libpng-dev", "libtiff-dev", "libjpeg-dev"},
	"fftw":        {"libfftw3-dev"},
	"gdtools":     {"libcairo2-dev", "libfontconfig1-dev", "libfreetype-dev"},
	"gert":        {"libgit2-dev"},
	"git2r":       {"libgit2-dev", "libssl-dev", "zlib1g-dev"},
	"gmp":         {"libgmp-dev"},
	"hdf5r":       {"libhdf5-dev"},
	"httpuv":      {"zlib1g-dev"},
	"httr":        {"libcurl4-openssl-dev", "libssl-dev"},
	"httr2":       {"libcurl4-openssl-dev", "libssl-dev"},
	"igraph":      {"libglpk-dev", "libgmp-dev", "libxml2-dev"},
	"jqr":         {"libjq-dev"},
	"keyring":     {"libsecret-1-dev"},
	"magick":      {"libmagick++-dev"},
	"ncdf4":       {"libnetcdf-dev"},
	"odbc":        {"unixodbc-dev"},
	"openssl":     {"libssl-dev"},
	"pdftools":    {"libpoppler-cpp-dev"},
	"plumber":     {"libsodium-dev", "zlib1g-dev"},
	"png":         {"libpng-dev"},
	"jpeg":        {"libjpeg-dev"},
	"protolite":   {"libprotobuf-dev", "protobuf-compiler"},
	"ragg":        {"libfreetype-dev", "libpng-dev", "libtiff-dev", "libjpeg-dev"},
	"RCurl":       {"libcurl4-openssl-dev"},
	"redux":       {"libhiredis-dev"},
	"rJava":       {"default-jdk"},
	"RMariaDB":    {"libmariadb-dev"},
	"RMySQL":      {"libmariadb-dev"},
	"Rmpfr":       {"libmpfr-dev"},
	"RPostgres":   {"libpq-dev"},
	"RPostgreSQL": {"libpq-dev"},
	"rsvg":        {"librsvg2-dev"},
	"sf":          {"libgdal-dev", "libgeos-dev", "libproj-dev", "libudunits2-dev", "libsqlite3-dev"},
	"sodium":      {"libsodium-dev"},
	"stringi":     {"libicu-dev"},
	"svglite":     {"libfontconfig1-dev", "libfreetype-dev"},
	"systemfonts": {"libfontconfig1-dev", "libfreetype-dev"},
	"terra":       {"libgdal-dev", "libgeos-dev", "libproj-dev", "libsqlite3-dev"},
	"tesseract":   {"libtesseract-dev", "libleptonica-dev"},
	"textshaping": {"libharfbuzz-dev", "libfribidi-dev", "libfreetype-dev"},
	"tidyverse":   {"libcurl4-openssl-dev", "libssl-dev", "libxml2-dev", "libfontconfig1-dev", "libharfbuzz-dev", "libfribidi-dev", "libfreetype-dev", "libpng-dev", "libtiff-dev", "libjpeg-dev"},
	"units":       {"libudunits2-dev"},
	"V8":          {"libnode-dev"},
	"XML":         {"libxml2-dev"},
	"xml2":        {"libxml2-dev"},
}

// For returns the system packages the given R packages need, sorted and without repeats.
func For(rPackages []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, p := range rPackages {
		for _, s := range table[p] {
			if !seen[s] {
				seen[s] = true
				out = append(out, s)
			}
		}
	}
	sort.Strings(out)
	return out
}
