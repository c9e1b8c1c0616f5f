package storage

// Version is box's version; scripts/build adds the commit with -ldflags -X
// ("0.1.0-dev+abc1234").
var Version = "0.1.0-dev"

// BuildTime is when scripts/build built box (RFC 3339, set with -ldflags
// -X); empty for other builds.
var BuildTime = ""
