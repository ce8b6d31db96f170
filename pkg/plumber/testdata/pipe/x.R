#* @get /should-not-appear
function() "commented-out mounts are not followed"
