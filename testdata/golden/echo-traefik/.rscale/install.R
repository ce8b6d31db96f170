# rscale installer: installs the R packages the API needs while the image builds.
# Written by rscale test; `rscale init --force` rewrites it.
packages <- c("plumber")
system_libraries <- c("libsodium-dev", "zlib1g-dev")

log <- function(...) message("rscale: ", ...)
fail <- function(...) {
  log(...)
  quit(status = 1)
}
run <- function(command, args) {
  if (system2(command, args) != 0) fail("`", command, " ", paste(args, collapse = " "), "` failed")
}

# The package repository: the base image's (rocker's serves Linux binaries), unless
# rscale init --cran (or RSCALE_CRAN) chose another, or a date for a dated snapshot.
cran <- ""
base <- unname(getOption("repos")["CRAN"])
if (length(base) == 0 || is.na(base) || identical(base, "@CRAN@")) base <- "https://cloud.r-project.org"
if (grepl("^[0-9]{4}-[0-9]{2}-[0-9]{2}$", cran)) {
  # The same snapshot on every build: the base image's Posit Package Manager repository at
  # that date when it uses one (binaries), else Posit's snapshot of CRAN.
  cran <- if (grepl("/(latest|[0-9]{4}-[0-9]{2}-[0-9]{2})$", base)) {
    sub("/(latest|[0-9]{4}-[0-9]{2}-[0-9]{2})$", paste0("/", cran), base)
  } else {
    paste0("https://packagemanager.posit.co/cran/", cran)
  }
}
if (!nzchar(cran)) cran <- base
options(repos = c(CRAN = cran))
log("package repository: ", cran)

installed <- function(p) nzchar(system.file(package = p))
missing <- packages[!vapply(packages, installed, logical(1))]
if (length(missing) == 0) {
  log("every R package is already in the base image: ", paste(packages, collapse = ", "))
  quit(status = 0)
}

# System libraries are needed only to build packages, so they are installed only now.
needed <- system_libraries[vapply(system_libraries, function(lib) {
  system2("dpkg", c("-s", lib), stdout = FALSE, stderr = FALSE) != 0
}, logical(1))]
if (length(needed) > 0) {
  if (!nzchar(Sys.which("apt-get"))) {
    log("this base image has no apt-get; if a package fails to build, install: ", paste(needed, collapse = " "))
  } else {
    log("installing system libraries: ", paste(needed, collapse = " "))
    run("apt-get", "update")
    run("apt-get", c("install", "-y", "--no-install-recommends", needed))
    unlink(list.files("/var/lib/apt/lists", full.names = TRUE), recursive = TRUE)
  }
}

# install.packages only warns when a package fails; show each warning as it comes.
loudly <- function(expr) withCallingHandlers(expr, warning = function(w) {
  log("WARNING: ", conditionMessage(w))
  invokeRestart("muffleWarning")
})

log("installing R packages: ", paste(missing, collapse = ", "))
loudly(install.packages(missing, Ncpus = max(1L, parallel::detectCores())))

still_missing <- packages[!vapply(packages, installed, logical(1))]
if (length(still_missing) > 0) {
  fail("could not install R package(s): ", paste(still_missing, collapse = ", "),
       ". Look above for the first ERROR: a misspelt name, a package not on CRAN, or a missing system library.")
}
log("R packages ready: ", paste(packages, collapse = ", "))
