/* annexa controls: the 2022 catalog with, per control, the rules that
 * evidence it (directly, and as a related control). */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "diag.h"
#include "rules.h"

static void print_rules(const struct ax_rules *rs, unsigned idx, bool related)
{
	size_t n = 0;
	for (size_t i = 0; i < rs->count; i++) {
		const struct ax_cset *set = related ? &rs->rules[i].related : &rs->rules[i].controls;
		if (ax_cset_has(set, idx))
			printf("%s%s", n++ ? ", " : "", rs->rules[i].id);
	}
	if (n == 0)
		printf("-");
}

int ax_cmd_controls(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	struct ax_diag diag;
	ax_diag_init(&diag);
	struct ax_rules *rs = ax_rules_load(NULL, &diag);
	ax_diag_print(&diag, stderr);
	ax_diag_finish(&diag);
	if (!rs)
		return AX_EXIT_USAGE;
	const struct ax_catalog *cat = &rs->catalog;
	printf("ISO/IEC 27001:2022 Annex A: %zu controls, %zu mapping rules (%s)\n", cat->n2022,
	       rs->count, rs->mapping_version);
	for (size_t i = 0; i < cat->n2022; i++) {
		const struct ax_control *c = &cat->c2022[i];
		printf("\n%-5s %s (%s)%s\n      2013:", c->id, c->title, c->group,
		       c->new_in_2022 ? " [new in 2022]" : "");
		size_t n = 0;
		for (size_t k = 0; k < cat->n2013; k++)
			if (ax_cset_has(&cat->to2013[i], (unsigned)k))
				printf(" %s", cat->c2013[k].id), n++;
		printf("%s\n      evidence: ", n ? "" : " -");
		print_rules(rs, (unsigned)i, false);
		printf("\n      related:  ");
		print_rules(rs, (unsigned)i, true);
		printf("\n");
	}
	ax_rules_destroy(rs);
	return AX_EXIT_OK;
}
