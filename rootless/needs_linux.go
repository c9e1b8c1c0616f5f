package rootless

/*
#include <stdlib.h>
int box_needs_namespace(const char *buf, size_t n);
*/
import "C"

import (
	"strings"
	"unsafe"
)

// NeedsNamespace says whether a box started with args (argv, program
// first) enters the user namespace before it runs, deciding exactly as the
// C constructor does: it is the constructor's own function.
func NeedsNamespace(args []string) bool {
	if len(args) == 0 {
		return true
	}
	line := strings.Join(args, "\x00") + "\x00"
	buf := C.CString(line)
	defer C.free(unsafe.Pointer(buf))
	return C.box_needs_namespace(buf, C.size_t(len(line))) != 0
}
