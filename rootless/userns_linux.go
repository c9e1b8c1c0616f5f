package rootless

// The C constructor in userns_linux.c does the child half of Enter;
// importing C links it into the binary.

import "C"
