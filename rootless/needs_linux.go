package rootless

/*
#include <stdlib.h>
int box_needs_namespace(const char *buf, size_t n);
int box_run_root(const char *buf, size_t n, unsigned uid, char *out, size_t len);
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

// ConstructorRunRoot is the run root in which the C constructor looks for
// the network holder whose user namespace a box started with args (argv,
// program first) by user uid joins: its own function, for tests that it
// agrees with the store's.
func ConstructorRunRoot(args []string, uid int) string {
	line := strings.Join(args, "\x00") + "\x00"
	buf := C.CString(line)
	defer C.free(unsafe.Pointer(buf))
	out := (*C.char)(C.malloc(4096))
	defer C.free(unsafe.Pointer(out))
	if C.box_run_root(buf, C.size_t(len(line)), C.unsigned(uid), out, 4096) != 0 {
		return ""
	}
	return C.GoString(out)
}
