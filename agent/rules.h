/* rules.h - mapping rules: loaded from schemas/mappings (built in) and user
 * files, validated, and compiled into an index keyed by Operation.
 *
 * Rule format and semantics: schemas/README.md. At load time, unknown keys,
 * unknown control ids or categories, malformed conditions, duplicate ids and
 * conflicting rules (equal priority, overlapping match, different category)
 * are errors naming the file and the rule. */
#ifndef AX_AGENT_RULES_H
#define AX_AGENT_RULES_H

#include <stdbool.h>
#include <stddef.h>

#include "catalog.h"
#include "diag.h"
#include "err.h"
#include "option.h"
#include "record.h"
#include "outputs/output.h"

#define AX_FALLBACK_PRIORITY 900

enum ax_cond_op {
	AX_OP_EQUALS,
	AX_OP_IN,
	AX_OP_CONTAINS,
	AX_OP_STARTSWITH,
	AX_OP_EXISTS,
	AX_OP_NOT_EXISTS,
	AX_OP_GTE,
	AX_OP_LTE,
	AX_OP_RAW_CONTAINS,
};

enum ax_path_kind {
	AX_PATH_WALK,      /* Dotted.Path, List[*].Field */
	AX_PATH_NAMEVALUE, /* Parameters.<Name> and its kin: Value of the element named <Name> */
	AX_PATH_MODIFIED,  /* ModifiedProperties.<Name>[.NewValue|.OldValue] */
	AX_PATH_RAW,       /* "*": the record's bytes */
};

struct ax_path_step {
	char *name;
	bool each; /* "name[*]": iterate the list */
};

struct ax_path {
	enum ax_path_kind kind;
	char *array;       /* NAMEVALUE, MODIFIED: the array member */
	char *name;        /* NAMEVALUE, MODIFIED: the element's Name */
	bool old_value;    /* MODIFIED: OldValue instead of NewValue */
	struct ax_path_step *steps; /* WALK */
	size_t nsteps;
	int root_key; /* the first step's or the array's index in ax_rules.keys; -1: none */
};

/* The top-level member a path starts at (WALK: its first step, NAMEVALUE
 * and MODIFIED: the array); NULL for RAW. */
static inline const char *ax_path_first(const struct ax_path *p)
{
	return p->kind == AX_PATH_WALK ? p->steps[0].name : p->kind == AX_PATH_RAW ? NULL : p->array;
}

struct ax_cond {
	enum ax_cond_op op;
	struct ax_path path;
	struct ax_strlist values; /* lower-case; for gte/lte also in number */
	double number;
};

struct ax_conds {
	struct ax_cond *items;
	size_t count;
};

enum { AX_KIND_BIT_O365 = 1, AX_KIND_BIT_GRAPH_ALERT = 2 };

struct ax_sev_map {
	char *from; /* lower-case */
	enum ax_severity to;
};

struct ax_rule {
	char *id;
	char *name;
	char *file;
	int priority;
	unsigned rank; /* position in (priority, id) order */
	bool fallback;
	/* match, all lower-case */
	unsigned kinds; /* AX_KIND_BIT_*, 0: any */
	struct ax_strlist workloads;
	struct ax_strlist operations;
	struct ax_strlist globs;
	struct ax_strlist result_status;
	struct ax_strlist record_type_names;
	long *record_types;
	size_t nrecord_types;
	bool has_record_type; /* record_type or record_type_names given */
	struct ax_conds where, where_any, exclude;
	/* yield */
	char *category;
	enum ax_severity severity;
	struct ax_path severity_from;
	bool has_severity_from;
	struct ax_sev_map *sev_map;
	size_t nsev_map;
	struct ax_cset controls, related;
	struct ax_cset controls_2013; /* the predecessors of controls, derived at load */
	bool drift;
	char *gap; /* a matching record means the evidence stops: the gap watch raises this reason; NULL: no */
};

struct ax_rules {
	struct ax_catalog catalog;
	struct ax_rule *rules; /* sorted by rank */
	size_t count;
	/* Operation index: open addressing, lower-case operation → rule list. */
	struct ax_op_slot *slots;
	size_t nslots;
	unsigned *scan; /* rules every event is checked against (globs, no operation) */
	size_t nscan;
	struct ax_keyset keys; /* the fields and every top-level member a path starts at */
	char mapping_version[64];
};

/* Loads the catalogs, the built-in rules and the user files (may be NULL). */
struct ax_rules *ax_rules_load(const struct ax_strlist *user_files, struct ax_diag *diag);
/* The same, with the built-in rules left out when builtin_rules is false
 * (the catalogs still come in): the rule fuzzer loads only its input. */
struct ax_rules *ax_rules_load_from(const struct ax_strlist *user_files, bool builtin_rules,
				    struct ax_diag *diag);
void ax_rules_destroy(struct ax_rules *rules);
/* Rules an operation is indexed under (count in *n), lower-case op. */
const unsigned *ax_rules_by_operation(const struct ax_rules *rules, const char *op_lc, size_t *n);

#endif
