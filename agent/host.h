/* host.h - the name this agent reports as its host (annexa.host, syslog
 * HOSTNAME, HEC host): [agent] host when set, else the machine's name. */
#ifndef AX_AGENT_HOST_H
#define AX_AGENT_HOST_H

/* Called once at startup with [agent] host (NULL or "": the machine's). */
void ax_host_configure(const char *configured);
/* configured when non-empty, else the configured agent host, else gethostname(). */
const char *ax_host_name(const char *configured);

#endif
