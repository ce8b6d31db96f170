#' @put /settings
#' @png (width = 400)
function() plot(1:10)
