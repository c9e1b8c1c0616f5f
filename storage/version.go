package storage

// Version is box's version; scripts/build stamps it with -ldflags -X.
var Version = "0.1.0-dev"
