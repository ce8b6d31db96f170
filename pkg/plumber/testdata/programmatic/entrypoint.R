library(plumber)

hello <- function() "hi"

pr() %>%
  pr_get("/hello", hello) %>%
  pr_post("/data", function(req) req$body, serializer = serializer_unboxed_json()) %>%
  pr_handle(c("PUT", "DELETE"), "/items/<id>", function(id) id) %>%
  pr_delete(path = "/cache", handler = function() NULL) |>
  pr_head("/status", function() NULL) %>%
  pr_set_docs("swagger")
