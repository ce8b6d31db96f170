# Builds the API from two routers, mounted under their own prefixes.
library(plumber)

users <- plumb("api/users.R")

pr() %>%
  pr_mount("/users", users) %>%
  pr_mount("/orders", plumb("api/orders.R")) %>%
  pr_get("/ping", function() "pong")
