#* @get /items
#* @serializer json
function() list()
