// Package launcher is the contract of the R launcher rscale writes (.rscale/launch.R) with
// what checks an R process from outside: HAProxy, and the engines' probes. It holds no code,
// so that those checkers need not import the package that renders the launcher.
package launcher

// AlivePath is answered by httpuv's I/O thread (a static path the launcher registers), so a
// check on it passes while R is busy with a long request and fails once R is gone.
const AlivePath = "/__rscale/alive"
