#include "host.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

static char agent_host[256];

void ax_host_configure(const char *configured)
{
	snprintf(agent_host, sizeof(agent_host), "%s", configured ? configured : "");
}

const char *ax_host_name(const char *configured)
{
	if (configured && configured[0])
		return configured;
	if (!agent_host[0] && gethostname(agent_host, sizeof(agent_host) - 1) != 0)
		snprintf(agent_host, sizeof(agent_host), "unknown");
	return agent_host;
}
