/* log.h - leveled logging to stderr (journald picks it up).
 *
 * Messages carry a "[component]" prefix. Never pass a secret to these
 * functions: secrets live in struct ax_secret and have no printer. */
#ifndef AX_AGENT_LOG_H
#define AX_AGENT_LOG_H

enum ax_log_level { AX_LOG_ERROR, AX_LOG_WARN, AX_LOG_INFO, AX_LOG_DEBUG };

void ax_log_set_level(enum ax_log_level level);
enum ax_log_level ax_log_get_level(void);
void ax_log(enum ax_log_level level, const char *component, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

#define ax_error(comp, ...) ax_log(AX_LOG_ERROR, comp, __VA_ARGS__)
#define ax_warn(comp, ...) ax_log(AX_LOG_WARN, comp, __VA_ARGS__)
#define ax_info(comp, ...) ax_log(AX_LOG_INFO, comp, __VA_ARGS__)
#define ax_debug(comp, ...) ax_log(AX_LOG_DEBUG, comp, __VA_ARGS__)

#endif
