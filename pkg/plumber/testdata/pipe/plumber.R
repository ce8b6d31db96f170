#* Health of the root router
#* @get /
function() {
  list(status = "ok")
}

#* Echo back the input
#* @param msg The message to echo
#* @get /echo
function(msg = "") {
  list(msg = paste0("The message is: '", msg, "'"))
}
