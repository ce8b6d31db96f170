// Package templates holds the text/template files rscale renders into a user's project.
package templates

import "embed"

// FS holds every template, by file name.
//
//go:embed *.tmpl
var FS embed.FS
