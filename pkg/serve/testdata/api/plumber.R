# The API serve's tests run: a slow endpoint, a fast one, and who served them.

#* Keep this R process busy
#* @param seconds How long
#* @get /sleep
function(seconds = 1) {
  Sys.sleep(as.numeric(seconds))
  list(pid = Sys.getpid(), slept = as.numeric(seconds))
}

#* Answer at once
#* @get /fast
function() {
  list(pid = Sys.getpid())
}
