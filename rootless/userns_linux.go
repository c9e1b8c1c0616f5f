package rootless

/*
#include <stdlib.h>
*/
import "C"

import (
	"os"
	"unsafe"
)

// The constructor in userns_linux.c runs before the Go runtime and reports
// through the C environment, which Go's copy of the environment does not
// see; these variables are copied over so that os.Getenv and the
// environment of every child box starts see them.
var constructorEnv = []string{
	"_BOX_ROOTLESS", "_BOX_USERNS_FALLBACK", "_BOX_USERNS_ERROR",
	"_CONTAINERS_USERNS_CONFIGURED", "_CONTAINERS_ROOTLESS_UID", "_CONTAINERS_ROOTLESS_GID",
}

func init() {
	for _, k := range constructorEnv {
		ck := C.CString(k)
		v := C.getenv(ck)
		C.free(unsafe.Pointer(ck))
		if v != nil {
			_ = os.Setenv(k, C.GoString(v))
		}
	}
}
