# An API for load tests: an endpoint that keeps its R process busy for a while, and one
# that answers at once. Both say which R process answered, and when R started on the request.
# Given an id, the busy ones log it as they start, with their host: a test counts in the logs
# how often R started a request.

started_note <- function(id) {
  if (nzchar(id)) message("rscale-test: started ", id, " on ", Sys.info()[["nodename"]])
}

#* Keep this R process busy
#* @param seconds How long
#* @param id Logged as R starts on the request
#* @get /sleep
function(seconds = 0.2, id = "") {
  started <- as.numeric(Sys.time())
  started_note(id)
  Sys.sleep(as.numeric(seconds))
  list(pid = Sys.getpid(), host = Sys.info()[["nodename"]], slept = as.numeric(seconds), started = started)
}

#* Keep this R process busy, as a POST: work that must not run twice
#* @param seconds How long
#* @param id Logged as R starts on the request
#* @post /work
function(seconds = 1, id = "") {
  started <- as.numeric(Sys.time())
  started_note(id)
  Sys.sleep(as.numeric(seconds))
  list(pid = Sys.getpid(), host = Sys.info()[["nodename"]], slept = as.numeric(seconds), started = started)
}

#* Answer at once
#* @get /fast
function() {
  list(pid = Sys.getpid(), host = Sys.info()[["nodename"]], started = as.numeric(Sys.time()))
}
