# An API for load tests: an endpoint that keeps its R process busy for a while, and one
# that answers at once. Both say which R process answered.

#* Keep this R process busy
#* @param seconds How long
#* @get /sleep
function(seconds = 0.2) {
  Sys.sleep(as.numeric(seconds))
  list(pid = Sys.getpid(), host = Sys.info()[["nodename"]], slept = as.numeric(seconds))
}

#* Answer at once
#* @get /fast
function() {
  list(pid = Sys.getpid(), host = Sys.info()[["nodename"]])
}
