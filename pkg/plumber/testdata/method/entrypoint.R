library(plumber)

users <- plumb("api/users.R")
plumb("api/admin.R") -> admin

root <- pr()
root$mount("/users", users)
root$mount("admin", admin)
root$mount("/static", PlumberStatic$new("./public"))
root$handle(c("GET", "POST"), "/ping", function() "pong")
root$mount("/missing", plumb("api/missing.R"))
root$mount("/outside", plumb("../outside.R"))

root
