pr() %>%
  pr_mount("/v1", plumb(dir = "v1")) %>%
  pr_mount("/v2", plumb(dir = "v2"))
