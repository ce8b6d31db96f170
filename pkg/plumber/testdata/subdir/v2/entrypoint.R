# Sourced with v2 as the working directory, so this path is relative to v2.
plumb("routes.R")
