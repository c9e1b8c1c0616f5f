package storage

// Version is box's version; scripts/build adds the commit with -ldflags -X.
var Version = "0.1.0-dev"
