// Code generated from roles.go by TestRolesHeader (go generate ./rootless); DO NOT EDIT.

#ifndef BOX_ROLES_GEN_H
#define BOX_ROLES_GEN_H

#define BOX_ROLE_INIT "__init"
#define BOX_ROLE_NAMESPACE_HOLDER "__nshold"
#define BOX_ROLE_NETWORK_HOLDER "__netholder"
#define BOX_HOLDER_PID_FILE "netholder.pid"
#define BOX_INIT_PATH "/dev/init"

static const char *const box_roles[] = {"init", "__init", "__monitor", "__nshold", "__netguest", "__netholder", NULL};
static const char *const box_storage_helper_prefixes[] = {"storage-", NULL};
static const char *const box_storage_helper_names[] = {"chown-by-maps", NULL};
static const char *const box_outside_verbs[] = {"help", "h", "version", "login", "logout", "search", "completion", "__complete", NULL};
static const char *const box_outside_flags[] = {"--help", "-h", "--version", "-v", NULL};
static const char *const box_global_value_flags[] = {"--root", "--runroot", "--storage-driver", "--log-level", NULL};

#endif
