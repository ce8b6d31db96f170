library(jsonlite)

#* Create an order
#* @post /
function(req) {
  order <- jsonlite::fromJSON(req$postBody)
  list(created = TRUE, items = length(order$items))
}

#* Receipt as text
#* @serializer text
#* @get /<id>/receipt
function(id) {
  paste("Receipt for order", id)
}
