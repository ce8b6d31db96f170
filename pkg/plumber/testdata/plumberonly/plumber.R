#* @apiTitle Only plumber.R

#* @get /sum
#* @post /sum
function(a, b) as.numeric(a) + as.numeric(b)

#* @assets ./files /static
list()

#* @filter logger
function(req) {
  plumber::forward()
}

#* @get /broken
