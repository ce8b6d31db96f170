#* @serializer csv
#* @get /list
function() data.frame(id = 1:3)
