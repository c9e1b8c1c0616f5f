package rootless

import (
	"fmt"
	"strings"
)

//go:generate go test -run TestRolesHeader -update-roles-header .

// rolesHeader renders roles_gen.h, the C constructor's copy of this
// package's role table.
func rolesHeader() string {
	var b strings.Builder
	b.WriteString("// Code generated from roles.go by TestRolesHeader (go generate ./rootless); DO NOT EDIT.\n\n")
	b.WriteString("#ifndef BOX_ROLES_GEN_H\n#define BOX_ROLES_GEN_H\n\n")
	fmt.Fprintf(&b, "#define BOX_ROLE_INIT %q\n", string(RoleInit))
	fmt.Fprintf(&b, "#define BOX_ROLE_NAMESPACE_HOLDER %q\n", string(RoleNamespaceHolder))
	fmt.Fprintf(&b, "#define BOX_ROLE_NETWORK_HOLDER %q\n", string(RoleNetworkHolder))
	fmt.Fprintf(&b, "#define BOX_HOLDER_PID_FILE %q\n", HolderPidFile)
	fmt.Fprintf(&b, "#define BOX_INIT_PATH %q\n\n", InitPath)
	list := func(name string, words []string) {
		fmt.Fprintf(&b, "static const char *const %s[] = {", name)
		for _, w := range words {
			fmt.Fprintf(&b, "%q, ", w)
		}
		b.WriteString("NULL};\n")
	}
	var roles []string
	for _, r := range []Role{RoleContainerInit, RoleInit, RoleMonitor, RoleNamespaceHolder, RoleNetworkGuest, RoleNetworkHolder} {
		roles = append(roles, string(r))
	}
	list("box_roles", roles)
	list("box_storage_helper_prefixes", storageHelperPrefixes)
	list("box_storage_helper_names", storageHelperNames)
	list("box_outside_verbs", outsideVerbs)
	list("box_outside_flags", outsideFlags)
	list("box_global_value_flags", GlobalValueFlags)
	b.WriteString("\n#endif\n")
	return b.String()
}
