/* External output modules: shared objects in plugin_dir, one per type,
 * named TYPE.so and exporting AX_OUTPUT_PLUGIN_SYMBOL. They stay loaded
 * for the life of the process (their option tables back config structs). */
#include <dlfcn.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "outputs/output.h"

#define MAX_PLUGINS 32

static struct {
	void *handle;
	const struct ax_output_ops *ops;
} plugins[MAX_PLUGINS];
static size_t nplugins;

const struct ax_output_ops *ax_output_plugin_find(const char *type)
{
	for (size_t i = 0; i < nplugins; i++)
		if (strcmp(plugins[i].ops->conf.name, type) == 0)
			return plugins[i].ops;
	return NULL;
}

static bool sane_type(const char *type)
{
	return type[0] && strspn(type, "abcdefghijklmnopqrstuvwxyz0123456789_-") == strlen(type);
}

static const struct ax_output_ops *check(const char *path, const char *type, void *handle,
					 char *why, size_t len)
{
	const struct ax_output_ops *ops = dlsym(handle, AX_OUTPUT_PLUGIN_SYMBOL);
	if (!ops)
		snprintf(why, len, "plugin %s does not export %s (is it an annexa output module?)", path, AX_OUTPUT_PLUGIN_SYMBOL);
	else if (ops->abi_version != AX_OUTPUT_ABI_VERSION)
		snprintf(why, len, "plugin %s was built for output ABI %u; this annexa needs %u: rebuild it against this version's outputs/output.h",
			 path, ops->abi_version, (unsigned)AX_OUTPUT_ABI_VERSION);
	else if (!ops->conf.name || strcmp(ops->conf.name, type) != 0)
		snprintf(why, len, "plugin %s names its type '%s', not '%s'", path, ops->conf.name ? ops->conf.name : "(none)", type);
	else if (!ops->conf.tables || !ops->create || !ops->send || !ops->destroy)
		snprintf(why, len, "plugin %s lacks option tables or a create, send or destroy hook", path);
	else
		return ops;
	return NULL;
}

int ax_output_plugin_load(const char *dir, const char *type, const struct ax_output_ops **out,
			  char *why, size_t len)
{
	char path[4096];
	struct stat st;
	*out = ax_output_plugin_find(type);
	if (*out)
		return 0;
	if (!dir || !dir[0] || !sane_type(type))
		return -1;
	snprintf(path, sizeof(path), "%s/%s.so", dir, type);
	if (stat(path, &st) != 0)
		return -1; /* no such plugin: the caller says "unknown type" */
	if (nplugins == MAX_PLUGINS) {
		snprintf(why, len, "plugin %s: more than %d plugins", path, MAX_PLUGINS);
		return 1;
	}
	void *handle = dlopen(path, RTLD_NOW | RTLD_LOCAL);
	if (!handle) {
		snprintf(why, len, "cannot load plugin %s: %s", path, dlerror());
		return 1;
	}
	const struct ax_output_ops *ops = check(path, type, handle, why, len);
	if (!ops) {
		dlclose(handle);
		return 1;
	}
	plugins[nplugins].handle = handle;
	plugins[nplugins++].ops = ops;
	*out = ops;
	return 0;
}

void ax_output_plugins_unload(void)
{
	while (nplugins > 0)
		dlclose(plugins[--nplugins].handle);
}
