library(plumber)

# plumber sources this file; the annotation below is not an endpoint here.
#* @get /not-an-endpoint
# pr_mount("/x", plumb("x.R"))
message("pr_mount('/y', plumb('x.R')) is only text")

pr("plumber.R") %>%
  pr_mount("/users", plumb("api/users.R")) %>%
  # the trailing slash of the prefix must not double
  pr_mount("/orders/", plumber::plumb(file = "api/orders.R")) |>
  pr_static("/assets", "./www") %>%
  pr_get("/health", function() "ok", serializer = serializer_text())
