#* @get /
function() list()

#* @get /<a>/<b:double>
function(a, b) list(a = a, b = b)
