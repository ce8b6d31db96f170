library(jsonlite)

#* Parse JSON
#* @post /parse
function(req) {
  fromJSON(req$postBody)
}

#* @get /version
function() {
  list(jsonlite = as.character(packageVersion("jsonlite")))
}
