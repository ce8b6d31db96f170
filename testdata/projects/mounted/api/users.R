#* List users
#* @get /
function() {
  data.frame(id = 1:2, name = c("ada", "grace"))
}

#* One user
#* @param id:int The user's id
#* @get /<id:int>
function(id) {
  list(id = as.integer(id))
}
