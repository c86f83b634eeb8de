/* catalog.h - the ISO/IEC 27001 Annex A catalogs (2022 and 2013) and the
 * Annex B correspondence, loaded from schemas/.
 *
 * Controls are kept sorted in numeric order ("5.2" < "5.10"), so a set of
 * controls is a bitmap over that order and iterating it yields sorted ids. */
#ifndef AX_AGENT_CATALOG_H
#define AX_AGENT_CATALOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "diag.h"
#include "err.h"

#define AX_CSET_MAX 128

struct ax_cset {
	uint64_t w[AX_CSET_MAX / 64];
};

static inline void ax_cset_add(struct ax_cset *s, unsigned i) { s->w[i / 64] |= 1ULL << (i % 64); }
static inline bool ax_cset_has(const struct ax_cset *s, unsigned i) { return s->w[i / 64] >> (i % 64) & 1; }
static inline bool ax_cset_empty(const struct ax_cset *s) { return !(s->w[0] | s->w[1]); }
static inline void ax_cset_or(struct ax_cset *a, const struct ax_cset *b) { a->w[0] |= b->w[0]; a->w[1] |= b->w[1]; }
static inline void ax_cset_andnot(struct ax_cset *a, const struct ax_cset *b) { a->w[0] &= ~b->w[0]; a->w[1] &= ~b->w[1]; }

struct ax_control {
	char *id;
	char *title;
	char *group; /* 2022: theme; 2013: clause group such as A.9 */
	bool new_in_2022;
};

struct ax_catalog {
	struct ax_control *c2022;
	size_t n2022;
	struct ax_control *c2013;
	size_t n2013;
	struct ax_cset *to2013; /* per 2022 control: its 2013 predecessors */
};

/* Loads the three files; problems are added to diag with the file name. */
ax_err ax_catalog_load(struct ax_catalog *cat, struct ax_diag *diag) AX_WARN_UNUSED;
void ax_catalog_finish(struct ax_catalog *cat);
/* Index of a 2022 id, or -1. */
int ax_catalog_find2022(const struct ax_catalog *cat, const char *id);
/* Numeric order of dotted ids ("A.12.4.1", "8.15"). */
int ax_control_id_cmp(const char *a, const char *b);

#endif
