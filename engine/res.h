/* engine/res.h: resource vectors with exact arithmetic.
 *
 * A vector holds scalars (cpus, mem in MB, disk in MB, gpus, any other name)
 * and range sets (ports), each either unreserved or reserved for one role.
 * Scalars are fixed point in thousandths (mc_milli_t), like Mesos's three
 * decimals, so 0.1 + 0.2 cpus is exactly 0.3 and sums never drift.
 *
 * Representation invariants (checked by mc_res_valid(), asserted in tests):
 *   R1. items[] is sorted by (kind, name, role) in canonical order: scalars
 *       before ranges; names by mc_sym_cmp_resource(); unreserved before
 *       reserved, reserved roles by name.
 *   R2. No two items share (kind, name, role).
 *   R3. No item is zero: scalars are > 0, range sets are non-empty.
 *   R4. A range set is sorted, disjoint and non-adjacent (coalesced).
 * Because of R1-R4 two vectors are equal iff their items are equal, and the
 * canonical text of a vector is unique.
 *
 * Ownership: the caller owns the mc_res_t; the vector owns its item and range
 * arrays. Context: a vector is not thread-safe; share it read-only or copy. */
#ifndef MC_ENGINE_RES_H
#define MC_ENGINE_RES_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef int64_t mc_milli_t;
#define MC_MILLI 1000

#define MC_RES_MAX_MILLI  INT64_MAX    /* largest scalar: 9223372036854775.807 */
#define MC_RES_MAX_ITEMS  1024u        /* items in one vector */
#define MC_RES_MAX_RANGES 65536u       /* intervals in one range set */
#define MC_RES_MAX_BOUND  (1ull << 62) /* largest range bound */

enum mc_res_kind { MC_RES_SCALAR = 0, MC_RES_RANGES = 1 };

struct mc_range {
    uint64_t lo, hi; /* inclusive, lo <= hi */
};

struct mc_res_item {
    uint32_t name;   /* mc_sym id of the resource name */
    uint32_t role;   /* mc_sym id of the reservation role; MC_SYM_NONE if unreserved */
    uint8_t kind;    /* enum mc_res_kind */
    uint32_t nrange; /* MC_RES_RANGES: number of intervals */
    union {
        mc_milli_t milli;        /* MC_RES_SCALAR: value in thousandths */
        struct mc_range *ranges; /* MC_RES_RANGES: owned array of nrange intervals */
    } v;
};

typedef struct mc_res {
    uint32_t n, cap;
    struct mc_res_item *items;
} mc_res_t;

#define MC_RES_INIT                                                                                \
    {                                                                                              \
        0, 0, NULL                                                                                 \
    }

void mc__res_release(mc_res_t *r); /* frees @r's arrays (mc_res_fini) */

static inline void mc_res_init(mc_res_t *r)
{
    r->n = r->cap = 0;
    r->items = NULL;
}

/* Frees the arrays; @r is empty and reusable. Inline: most vectors an
 * allocation cycle is done with own nothing. */
static inline void mc_res_fini(mc_res_t *r)
{
    if (r->items)
        mc__res_release(r);
    mc_res_init(r);
}

void mc_res_clear(mc_res_t *r);

/* dst := src. Returns 0 or MC_ENOMEM (dst unchanged). */
int mc_res_copy(mc_res_t *dst, const mc_res_t *src);

/* Parses the text form: items `name:value` joined by ';', a scalar value a
 * non-negative decimal (`1.5`), a range set `[a-b,c-d]` (or `[a]`), a
 * reservation `name(role):value`. Duplicate items add up; "" and "-" are the
 * empty vector. Decimals beyond three places are rounded to the nearest
 * thousandth. On error returns MC_ESYNTAX / MC_ERANGE / MC_ELIMIT / MC_ENOMEM,
 * sets *@why (if non-NULL) to a static message and leaves @r empty, holding
 * no memory. */
int mc_res_parse(mc_res_t *r, const char *s, size_t len, const char **why);

/* Writes the canonical text of @r (`-` when empty) like snprintf: returns the
 * length it needs, writes at most @size bytes including the NUL. */
size_t mc_res_format(const mc_res_t *r, char *buf, size_t size);

/* Returns the canonical text of @r in memory from malloc(), or NULL on
 * MC_ENOMEM. The caller frees it. */
char *mc_res_str(const mc_res_t *r);

/* Writes a thousandths value without trailing zeros ("4096", "0.5"). */
size_t mc_milli_format(mc_milli_t v, char *buf, size_t size);

/* a += b. Returns 0, MC_ERANGE (a scalar would overflow) or MC_ENOMEM; on error
 * @a is unchanged. */
int mc_res_add(mc_res_t *a, const mc_res_t *b);

/* a -= b. Returns 0, MC_EEXCEED if @a does not contain @b, or MC_ENOMEM; on
 * error @a is unchanged. */
int mc_res_sub(mc_res_t *a, const mc_res_t *b);

/* True when @a contains @b: every scalar of @b is <= the same item of @a and
 * every range set of @b is a subset of the same item of @a. */
bool mc_res_contains(const mc_res_t *a, const mc_res_t *b);

bool mc_res_equal(const mc_res_t *a, const mc_res_t *b);

static inline bool mc_res_empty(const mc_res_t *r)
{
    return r->n == 0;
}

/* The value of scalar (@name, @role) in @r, 0 if absent. */
mc_milli_t mc_res_scalar(const mc_res_t *r, uint32_t name, uint32_t role);

/* Sum of scalar @name over every role (unreserved and reserved). */
mc_milli_t mc_res_quantity(const mc_res_t *r, uint32_t name);

/* dst := the items of @src for which @keep(item, arg) is true.
 * Returns 0 or MC_ENOMEM. */
typedef bool (*mc_res_pred_cb)(const struct mc_res_item *it, void *arg);
int mc_res_filter(mc_res_t *dst, const mc_res_t *src, mc_res_pred_cb keep, void *arg);

/* Checks invariants R1-R4. */
bool mc_res_valid(const mc_res_t *r);

#ifdef __cplusplus
}
#endif

#endif
