#* List users
#* @get /
#* @post /
function() list()

#* One user
#* @param id:int
#* @get /<id:int>
#* @serializer unboxedJSON
function(id) list(id = id)
