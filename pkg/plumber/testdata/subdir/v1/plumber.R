#* @get /items
function() list()
