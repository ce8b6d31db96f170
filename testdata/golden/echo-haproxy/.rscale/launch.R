# rscale launcher: serves the Plumber API in API_DIR on HOST:PORT and adds a health
# endpoint Docker uses to know this R process is ready, and /__rscale/alive for the proxy.
# Written by rscale test; `rscale init --force` rewrites it.
port <- as.integer(Sys.getenv("PORT", "8000"))
host <- Sys.getenv("HOST", "0.0.0.0")
health_path <- Sys.getenv("HEALTH_PATH", "/healthz")
api_dir <- Sys.getenv("API_DIR", ".")

if (!requireNamespace("plumber", quietly = TRUE)) {
  message("rscale: the R package 'plumber' is not installed: run install.packages(\"plumber\")")
  quit(status = 3)
}

api <- plumber::plumb(dir = api_dir)

# Every path the API serves, mounted routers included, so an API that defines the
# health path itself keeps its own handler.
served_paths <- function(router, prefix = "") {
  paths <- unlist(lapply(router$endpoints, function(group) {
    vapply(group, function(endpoint) paste0(prefix, endpoint$path), character(1))
  }))
  for (mount in names(router$mounts)) {
    paths <- c(paths, served_paths(router$mounts[[mount]], paste0(prefix, sub("/$", "", mount))))
  }
  paths
}

if (!(health_path %in% served_paths(api))) {
  api <- plumber::pr_get(api, health_path, function() list(status = "ok"),
                         serializer = plumber::serializer_unboxed_json())
}

# In a container, note when each request starts: the health check (.rscale/healthcheck.sh)
# then tells a replica busy with a long request from a stuck one. Once the request is
# answered, the note goes, so that a stopping replica (.rscale/entry.sh) ends as soon as
# it is free. (After an error plumber skips this hook; entry.sh allows for that.)
busy_file <- Sys.getenv("BUSY_FILE")
if (nzchar(busy_file)) {
  api <- plumber::pr_hooks(api, list(
    preroute = function(...) {
      file.create(busy_file, showWarnings = FALSE)
      invisible(NULL)
    },
    postserialize = function(value, ...) {
      unlink(busy_file)
      value
    }
  ))
}

# The proxy's check: a file that httpuv serves from its own I/O thread, without R's main
# loop, so it answers while R is busy with a long request (a check R had to answer would
# eject a busy replica) and fails once R is gone. httpuv reads static paths from the app it
# starts, which pr_run() builds: they are added to the server as soon as it runs. A stopping
# replica's entry script removes ALIVE_FILE: the check then gets a 404, and the proxy sends
# it no more requests.
alive_file <- Sys.getenv("ALIVE_FILE")
if (!nzchar(alive_file)) alive_file <- tempfile("rscale-alive-")
writeLines("ok", alive_file)
# Once R serves, hold READY_FIFO open for as long as R lives: the health check
# (.rscale/healthcheck.sh) waits on opening it, which returns the moment R serves, instead
# of polling. Both create it if missing; should both do so at once, opening again finds it.
ready_fifo <- Sys.getenv("READY_FIFO")
ready <- NULL
hold_open <- function(path) {
  for (attempt in 1:2) {
    con <- tryCatch(suppressWarnings(fifo(path, open = "w+")), error = function(e) e)
    if (inherits(con, "connection")) return(con)
  }
  message("rscale: cannot open READY_FIFO ", path, " (", conditionMessage(con), "). The health ",
          "check waits on it, so this replica will not become healthy: make ", dirname(path),
          " writable for the API's user, or take READY_FIFO out of the Dockerfile's ENV ",
          "to have the check ask R at once")
  NULL
}
later::later(function() {
  for (server in httpuv::listServers()) {
    server$setStaticPath("/__rscale/alive" = httpuv::staticPath(alive_file, indexhtml = FALSE))
  }
  if (nzchar(ready_fifo)) ready <<- hold_open(ready_fifo)
})

plumber::pr_run(api, host = host, port = port)
