# An API for load tests: an endpoint that keeps its R process busy for a while, and one
# that answers at once. Both say which R process answered, and when R started on the request.

#* Keep this R process busy
#* @param seconds How long
#* @get /sleep
function(seconds = 0.2) {
  started <- as.numeric(Sys.time())
  Sys.sleep(as.numeric(seconds))
  list(pid = Sys.getpid(), host = Sys.info()[["nodename"]], slept = as.numeric(seconds), started = started)
}

#* Answer at once
#* @get /fast
function() {
  list(pid = Sys.getpid(), host = Sys.info()[["nodename"]], started = as.numeric(Sys.time()))
}
