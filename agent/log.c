#include "log.h"

#include <stdarg.h>
#include <stdio.h>

static enum ax_log_level current_level = AX_LOG_INFO;

static const char *const level_names[] = { "error", "warning", "info", "debug" };

void ax_log_set_level(enum ax_log_level level)
{
	current_level = level;
}

enum ax_log_level ax_log_get_level(void)
{
	return current_level;
}

void ax_log(enum ax_log_level level, const char *component, const char *fmt, ...)
{
	if (level > current_level)
		return;
	char line[2048];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	fprintf(stderr, "annexa: %s: [%s] %s\n", level_names[level], component, line);
}
