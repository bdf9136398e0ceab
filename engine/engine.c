/* engine/engine.c: the allocator engine. API: engine.h; rules: docs/engine.md.
 *
 * Objects
 *   role     a node of the role tree ("eng" is the parent of "eng/web"). Its
 *            `node` client carries the allocation of its whole subtree and sits
 *            in the parent's `children` sorter (top-level roles in e->top).
 *            Its `self` client carries the allocation of the frameworks
 *            subscribed to the role itself and always sits in its own
 *            `children` sorter, so a role's own frameworks compete with its
 *            child roles the way Mesos's virtual "." leaf does.
 *   fwrole   one framework in one role: a client of the role's `fws` sorter.
 *   agent    total and free vectors, the holds of frameworks on it, and the
 *            refuse filters installed on it.
 *   hold     what one framework holds on one agent in one role: outstanding
 *            offered resources plus resources used by running tasks.
 *
 * Invariants (asserted by mc_engine_check(), tests/engine/test_engine.c and
 * every golden scenario run with --check):
 *   E1. For every agent: free + Σ holds (offered + used) == total, and no
 *       range element or scalar amount is counted twice.
 *   E2. The allocation of a fwrole client equals the scalar quantities of
 *       its holds; a role's
 *       self client equals the sum of its fwroles; a role's node client equals
 *       its self plus its children's nodes.
 *   E3. Every sorter is sorted by (share, count, name) whenever e->dirty is
 *       false; shares are recomputed only from integer allocations and the
 *       cluster total, so equal rationals give equal doubles and ties are
 *       broken by allocation count and then by name, never by rounding.
 *   E4. A hold never has an empty offered and used vector with no tasks: it
 *       is deleted when it empties.
 *
 * Sorting. Within a cycle every decision re-sorts only the clients it changed
 * (the fwrole, its role's self and each ancestor's node), by moving each to its
 * new place in a sorted array: O(depth + distance moved). Events outside a
 * cycle that change the cluster total set e->dirty; the next cycle recomputes
 * every share and sorts every array once. As in Mesos, an agent visit takes a
 * snapshot of the role order, and each role visit a snapshot of its framework
 * order, and walks the snapshot while the live arrays move.
 */
#include "engine/engine.h"
#include "engine/idmap.h"
#include "engine/status.h"
#include "engine/sym.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define MC__NONE UINT32_MAX

/* ---- types -------------------------------------------------------------------- */

enum mc__client_kind { MC__ROLE_NODE, MC__ROLE_SELF, MC__FWROLE };

struct mc__sorter;

struct mc__client {
    int64_t alloc[MC_ENGINE_MAX_DIMS]; /* scalar quantities allocated, thousandths */
    uint64_t count;                    /* allocations ever made to this client */
    double share;                      /* weighted dominant share (cached) */
    double weight;
    const char *name;          /* tie-break key */
    uint8_t kind;              /* enum mc__client_kind */
    void *owner;               /* struct mc__role * or struct mc__fwrole * */
    struct mc__sorter *sorter; /* the array this client is in */
    uint32_t pos;              /* its index there */
};

struct mc__sorter {
    struct mc__client **v;
    uint32_t n, cap;
};

struct mc__role {
    char *name;
    uint32_t sym;
    uint32_t depth;
    struct mc__role *parent;
    struct mc__client node, self;
    struct mc__sorter children;           /* child nodes + self */
    struct mc__sorter fws;                /* fwrole clients */
    uint32_t nfw_subtree;                 /* fwroles in this subtree */
    mc_res_t guarantee, limit;            /* unreserved scalar quantities; empty = none */
    int64_t consumed[MC_ENGINE_MAX_DIMS]; /* quota consumption (cycle scratch) */
    struct mc__role *groot;               /* highest ancestor-or-self with a guarantee */
};

struct mc__fwrole {
    struct mc__fw *fw;
    struct mc__role *role;
    struct mc__client c;
    bool suppressed;
};

struct mc__fw {
    char *id;
    uint32_t idx;
    uint32_t nroles;
    struct mc__fwrole *roles;
    uint64_t tasks;
    uint64_t revive_gen; /* filters installed under an older generation are void */
    mc_res_t *min;
    size_t nmin;
};

struct mc__hold {
    uint32_t fw; /* framework slot */
    uint32_t fr; /* index into fw->roles */
    mc_res_t offered, used;
    uint64_t tasks;
    uint64_t offered_at; /* clock when the outstanding offer began */
};

struct mc__filter {
    uint32_t fw, fr;
    uint64_t gen;     /* fw->revive_gen when installed */
    uint64_t expires; /* clock */
    mc_res_t refused;
};

struct mc__agent {
    char *id;
    char *attrs;
    uint32_t idx;
    bool active;
    mc_res_t total, free;
    struct mc__hold *holds;
    uint32_t nholds, capholds;
    struct mc__filter *filters;
    uint32_t nfilters, capfilters;
};

/* A decision of the current cycle, kept until the cycle publishes. */
struct mc__decision {
    uint32_t fw, agent;
    struct mc__role *role;
    mc_res_t res;
    uint64_t seq;
};

struct mc_engine {
    struct mc_engine_config cfg;
    uint64_t rng[4];

    struct mc__fw **fws;
    uint32_t nfws_slots, capfws;
    mc_idmap_t fw_ids;
    struct mc__agent **agents;
    uint32_t nagent_slots, capagents;
    mc_idmap_t agent_ids;
    struct mc__role **roles;
    uint32_t nroles, caproles;
    mc_idmap_t role_ids;
    struct mc__sorter top; /* top-level role nodes */

    uint32_t dim_sym[MC_ENGINE_MAX_DIMS];
    uint32_t ndims;
    uint8_t *dim_of;                   /* symbol -> dim, 0xff = none */
    int64_t total[MC_ENGINE_MAX_DIMS]; /* cluster total, every agent */
    uint32_t nquota;                   /* roles with a guarantee or a limit */

    bool dirty;   /* shares/order stale (E3 suspended) */
    bool pending; /* an event asked for a cycle */
    bool in_cycle;
    uint64_t last_cycle; /* clock at the start of the last cycle */

    /* cycle scratch */
    uint32_t *cand;
    uint32_t capcand;
    struct mc__role **order;
    uint32_t caporder;
    struct mc__client **snap;
    uint32_t capsnap;
    struct mc__decision *dec;
    uint32_t ndec, capdec;
    int64_t required[MC_ENGINE_MAX_DIMS], available[MC_ENGINE_MAX_DIMS];
};

/* ---- small helpers ------------------------------------------------------------- */

static int mc__grow(void *pp, uint32_t *cap, uint32_t need, size_t elem)
{
    if (need <= *cap)
        return MC_OK;
    uint64_t ncap = *cap ? *cap : 8;
    while (ncap < need)
        ncap *= 2;
    if (ncap > UINT32_MAX)
        return MC_ELIMIT;
    void *p = realloc(*(void **)pp, ncap * elem);
    if (!p)
        return MC_ENOMEM;
    *(void **)pp = p;
    *cap = (uint32_t)ncap;
    return MC_OK;
}

static uint64_t mc__now(const mc_engine_t *e)
{
    return e->cfg.clock(e->cfg.clock_arg);
}

static uint64_t mc__monotonic(void *arg)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * MC_NS_PER_SEC + (uint64_t)ts.tv_nsec;
}

/* xoshiro256** seeded through splitmix64. */
static uint64_t mc__splitmix(uint64_t *x)
{
    uint64_t z = (*x += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

static uint64_t mc__rotl(uint64_t x, int k)
{
    return (x << k) | (x >> (64 - k));
}

static uint64_t mc__rand(mc_engine_t *e)
{
    uint64_t *s = e->rng, r = mc__rotl(s[1] * 5, 7) * 9, t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = mc__rotl(s[3], 45);
    return r;
}

/* Uniform in [0, n) without modulo bias. */
static uint32_t mc__rand_below(mc_engine_t *e, uint32_t n)
{
    uint64_t limit = UINT64_MAX - UINT64_MAX % n, r;
    do
        r = mc__rand(e);
    while (r >= limit);
    return (uint32_t)(r % n);
}

static bool mc__name_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
           c == '-' || c == '.';
}

bool mc_id_valid(const char *s, size_t len)
{
    if (len == 0 || len > MC_ID_MAX_LEN)
        return false;
    if ((len == 1 && s[0] == '.') || (len == 2 && s[0] == '.' && s[1] == '.'))
        return false;
    for (size_t i = 0; i < len; i++)
        if (!mc__name_char(s[i]))
            return false;
    return true;
}

bool mc_role_name_valid(const char *s, size_t len)
{
    if (len == 0 || len > MC_ID_MAX_LEN)
        return false;
    size_t start = 0;
    for (size_t i = 0; i <= len; i++) {
        if (i < len && s[i] != '/')
            continue;
        if (!mc_id_valid(s + start, i - start))
            return false;
        start = i + 1;
    }
    return true;
}

/* ---- dimensions and shares ------------------------------------------------------- */

/* Makes sure every scalar name of @r has a dimension. Returns 0 or MC_ELIMIT;
 * on error no dimension was added. */
static int mc__dims_reserve(mc_engine_t *e, const mc_res_t *r)
{
    uint32_t add[MC_ENGINE_MAX_DIMS], nadd = 0;
    for (uint32_t i = 0; i < r->n; i++) {
        const struct mc_res_item *it = &r->items[i];
        if (it->kind != MC_RES_SCALAR || e->dim_of[it->name] != 0xff)
            continue;
        bool dup = false;
        for (uint32_t k = 0; k < nadd; k++)
            dup |= add[k] == it->name;
        if (dup)
            continue;
        if (e->ndims + nadd >= MC_ENGINE_MAX_DIMS)
            return MC_ELIMIT;
        add[nadd++] = it->name;
    }
    for (uint32_t k = 0; k < nadd; k++) {
        e->dim_of[add[k]] = (uint8_t)e->ndims;
        e->dim_sym[e->ndims++] = add[k];
    }
    return MC_OK;
}

/* Forgets the dimensions added since there were @ndims (a failed call). */
static void mc__dims_rollback(mc_engine_t *e, uint32_t ndims)
{
    for (uint32_t d = ndims; d < e->ndims; d++)
        e->dim_of[e->dim_sym[d]] = 0xff;
    e->ndims = ndims;
}

/* q[d] += sign * scalar quantities of @r (every role). */
static void mc__qty_add(const mc_engine_t *e, int64_t *q, const mc_res_t *r, int sign)
{
    for (uint32_t i = 0; i < r->n; i++) {
        const struct mc_res_item *it = &r->items[i];
        if (it->kind == MC_RES_SCALAR)
            q[e->dim_of[it->name]] += sign * it->v.milli;
    }
}

static double mc__share_of(const mc_engine_t *e, const int64_t *alloc, double weight)
{
    double s = 0;
    for (uint32_t d = 0; d < e->ndims; d++) {
        if (e->total[d] <= 0 || alloc[d] <= 0)
            continue;
        double x = (double)alloc[d] / (double)e->total[d];
        if (x > s)
            s = x;
    }
    return s / weight;
}

/* ---- sorters ---------------------------------------------------------------------- */

static int mc__client_cmp(const struct mc__client *a, const struct mc__client *b)
{
    if (a->share != b->share)
        return a->share < b->share ? -1 : 1;
    if (a->count != b->count)
        return a->count < b->count ? -1 : 1;
    int c = strcmp(a->name, b->name);
    if (c)
        return c;
    /* a role's self entry is named after the role, like its node one level up;
     * they never share a sorter, but keep the order total anyway */
    return (a->kind > b->kind) - (a->kind < b->kind);
}

static int mc__client_qcmp(const void *a, const void *b)
{
    return mc__client_cmp(*(struct mc__client *const *)a, *(struct mc__client *const *)b);
}

/* Moves @c to its place in its sorter after its key changed. */
static void mc__sorter_fix(struct mc__client *c)
{
    struct mc__sorter *s = c->sorter;
    uint32_t i = c->pos;
    while (i > 0 && mc__client_cmp(c, s->v[i - 1]) < 0) {
        s->v[i] = s->v[i - 1];
        s->v[i]->pos = i;
        i--;
    }
    while (i + 1 < s->n && mc__client_cmp(c, s->v[i + 1]) > 0) {
        s->v[i] = s->v[i + 1];
        s->v[i]->pos = i;
        i++;
    }
    s->v[i] = c;
    c->pos = i;
}

static int mc__sorter_insert(struct mc__sorter *s, struct mc__client *c)
{
    int rc = mc__grow(&s->v, &s->cap, s->n + 1, sizeof(*s->v));
    if (rc)
        return rc;
    c->sorter = s;
    c->pos = s->n;
    s->v[s->n++] = c;
    mc__sorter_fix(c);
    return MC_OK;
}

static void mc__sorter_remove(struct mc__client *c)
{
    struct mc__sorter *s = c->sorter;
    for (uint32_t i = c->pos; i + 1 < s->n; i++) {
        s->v[i] = s->v[i + 1];
        s->v[i]->pos = i;
    }
    s->n--;
    c->sorter = NULL;
}

static void mc__sorter_resort(mc_engine_t *e, struct mc__sorter *s)
{
    for (uint32_t i = 0; i < s->n; i++)
        s->v[i]->share = mc__share_of(e, s->v[i]->alloc, s->v[i]->weight);
    if (s->n > 1)
        qsort(s->v, s->n, sizeof(*s->v), mc__client_qcmp);
    for (uint32_t i = 0; i < s->n; i++)
        s->v[i]->pos = i;
}

/* Restores E3 after the cluster total or weights changed. */
static void mc__resort_all(mc_engine_t *e)
{
    mc__sorter_resort(e, &e->top);
    for (uint32_t r = 0; r < e->nroles; r++) {
        mc__sorter_resort(e, &e->roles[r]->children);
        mc__sorter_resort(e, &e->roles[r]->fws);
    }
    e->dirty = false;
}

static void mc__client_update(mc_engine_t *e, struct mc__client *c, const int64_t *delta, int sign,
                              bool counted)
{
    for (uint32_t d = 0; d < e->ndims; d++)
        c->alloc[d] += sign * delta[d];
    c->count += counted;
    if (!e->dirty) {
        c->share = mc__share_of(e, c->alloc, c->weight);
        mc__sorter_fix(c);
    }
}

/* Adds (sign = +1) or removes (-1) @r to/from the allocation of @fr: the fwrole,
 * its role's self and every ancestor's node (E2). @counted: this is a new
 * allocation (bumps the allocation counts used for tie-breaks). */
static void mc__charge(mc_engine_t *e, struct mc__fwrole *fr, const mc_res_t *r, int sign,
                       bool counted)
{
    int64_t q[MC_ENGINE_MAX_DIMS] = {0};
    mc__qty_add(e, q, r, 1);
    mc__client_update(e, &fr->c, q, sign, counted);
    mc__client_update(e, &fr->role->self, q, sign, counted);
    for (struct mc__role *x = fr->role; x; x = x->parent)
        mc__client_update(e, &x->node, q, sign, counted);
}

/* ---- roles -------------------------------------------------------------------------- */

static void mc__client_init(struct mc__client *c, uint8_t kind, void *owner, const char *name,
                            double weight)
{
    memset(c, 0, sizeof(*c));
    c->kind = kind;
    c->owner = owner;
    c->name = name;
    c->weight = weight;
}

static struct mc__role *mc__role_get(const mc_engine_t *e, const char *name)
{
    int64_t i = mc_idmap_get(&e->role_ids, name);
    return i < 0 ? NULL : e->roles[i];
}

static void mc__role_free(struct mc__role *r)
{
    if (!r)
        return;
    free(r->children.v);
    free(r->fws.v);
    mc_res_fini(&r->guarantee);
    mc_res_fini(&r->limit);
    free(r->name);
    free(r);
}

/* Finds or creates the role @name and its ancestors. Returns NULL on MC_ENOMEM
 * or MC_ELIMIT (*rc says which). @name must be valid. */
static struct mc__role *mc__role_ensure(mc_engine_t *e, const char *name, int *rc)
{
    struct mc__role *r = mc__role_get(e, name);
    if (r)
        return r;
    struct mc__role *parent = NULL;
    const char *slash = strrchr(name, '/');
    if (slash) {
        char buf[MC_ID_MAX_LEN + 1];
        memcpy(buf, name, (size_t)(slash - name));
        buf[slash - name] = '\0';
        if (!(parent = mc__role_ensure(e, buf, rc)))
            return NULL;
    }
    *rc = MC_ELIMIT;
    if (e->nroles >= MC_ENGINE_MAX_ROLES)
        return NULL;
    *rc = MC_ENOMEM;
    if (mc__grow(&e->roles, &e->caproles, e->nroles + 1, sizeof(*e->roles)))
        return NULL;
    r = calloc(1, sizeof(*r));
    if (!r || !(r->name = strdup(name)))
        goto out_free;
    int64_t sym = mc_sym_intern(name, strlen(name));
    if (sym < 0)
        goto out_free;
    r->sym = (uint32_t)sym;
    r->parent = parent;
    r->depth = parent ? parent->depth + 1 : 0;
    mc__client_init(&r->node, MC__ROLE_NODE, r, r->name, 1.0);
    mc__client_init(&r->self, MC__ROLE_SELF, r, r->name, 1.0);
    if (mc__sorter_insert(&r->children, &r->self))
        goto out_free;
    if (mc__sorter_insert(parent ? &parent->children : &e->top, &r->node))
        goto out_free;
    if (mc_idmap_put(&e->role_ids, r->name, e->nroles)) {
        mc__sorter_remove(&r->node);
        goto out_free;
    }
    for (struct mc__role *g = r; g; g = g->parent)
        if (g->guarantee.n)
            r->groot = g;
    e->roles[e->nroles++] = r;
    e->dirty = true; /* a new client with share 0 was placed without a fresh total */
    *rc = MC_OK;
    return r;
out_free:
    mc__role_free(r);
    return NULL;
}

static bool mc__quota_vector_ok(const mc_res_t *r)
{
    for (uint32_t i = 0; i < r->n; i++)
        if (r->items[i].kind != MC_RES_SCALAR || r->items[i].role != MC_SYM_NONE)
            return false;
    return true;
}

/* Recomputes groot for every role (guarantees changed). */
static void mc__quota_roots(mc_engine_t *e)
{
    e->nquota = 0;
    for (uint32_t i = 0; i < e->nroles; i++) {
        struct mc__role *r = e->roles[i];
        r->groot = NULL;
        for (struct mc__role *g = r; g; g = g->parent)
            if (g->guarantee.n)
                r->groot = g;
        e->nquota += r->guarantee.n || r->limit.n;
    }
}

int mc_engine_role_set(mc_engine_t *e, const char *role, double weight, const mc_res_t *guarantee,
                       const mc_res_t *limit)
{
    if (!mc_role_name_valid(role, strlen(role)) || !(weight >= 0) || !isfinite(weight))
        return MC_EINVAL;
    if ((guarantee && !mc__quota_vector_ok(guarantee)) || (limit && !mc__quota_vector_ok(limit)))
        return MC_EINVAL;
    struct mc__role *r = mc__role_get(e, role);
    const mc_res_t *g = guarantee ? guarantee : r ? &r->guarantee : NULL;
    const mc_res_t *l = limit ? limit : r ? &r->limit : NULL;
    if (g && l && l->n) {
        for (uint32_t i = 0; i < g->n; i++) {
            const struct mc_res_item *it = &g->items[i];
            bool capped = false;
            for (uint32_t k = 0; k < l->n; k++)
                capped |= l->items[k].name == it->name;
            if (capped && mc_res_scalar(l, it->name, MC_SYM_NONE) < it->v.milli)
                return MC_EINVAL;
        }
    }
    uint32_t ndims = e->ndims;
    int rc;
    if ((g && (rc = mc__dims_reserve(e, g))) || (l && (rc = mc__dims_reserve(e, l))))
        goto out_dims;
    if (!r && !(r = mc__role_ensure(e, role, &rc)))
        goto out_dims;
    mc_res_t ng = MC_RES_INIT, nl = MC_RES_INIT;
    if ((guarantee && (rc = mc_res_copy(&ng, guarantee))) ||
        (limit && (rc = mc_res_copy(&nl, limit)))) {
        mc_res_fini(&ng);
        mc_res_fini(&nl);
        return rc; /* the role may exist now, with weight 1: harmless */
    }
    if (guarantee) {
        mc_res_fini(&r->guarantee);
        r->guarantee = ng;
    }
    if (limit) {
        mc_res_fini(&r->limit);
        r->limit = nl;
    }
    if (weight > 0)
        r->node.weight = r->self.weight = weight;
    mc__quota_roots(e);
    e->dirty = true;
    return MC_OK;
out_dims:
    mc__dims_rollback(e, ndims);
    return rc;
}

/* Reserved item @it may be offered to @role when it is reserved for the role
 * or one of its ancestors (Mesos allocatableTo). */
static bool mc__allocatable_to(const struct mc_res_item *it, void *arg)
{
    if (it->role == MC_SYM_NONE)
        return true;
    for (const struct mc__role *r = arg; r; r = r->parent)
        if (r->sym == it->role)
            return true;
    return false;
}

/* ---- engine lifetime ---------------------------------------------------------------- */

int mc_engine_create(mc_engine_t **out, const struct mc_engine_config *cfg)
{
    mc_engine_t *e = calloc(1, sizeof(*e));
    if (!e)
        return MC_ENOMEM;
    if (cfg)
        e->cfg = *cfg;
    if (!e->cfg.interval_ns)
        e->cfg.interval_ns = MC_NS_PER_SEC;
    if (!e->cfg.clock)
        e->cfg.clock = mc__monotonic;
    e->dim_of = malloc(MC_SYM_MAX);
    if (!e->dim_of) {
        free(e);
        return MC_ENOMEM;
    }
    memset(e->dim_of, 0xff, MC_SYM_MAX);
    mc_engine_seed(e, e->cfg.seed);
    mc_idmap_init(&e->fw_ids);
    mc_idmap_init(&e->agent_ids);
    mc_idmap_init(&e->role_ids);
    /* the well-known scalars always have dimensions, so shares are stable */
    static const uint32_t known[] = {MC_SYM_CPUS, MC_SYM_MEM, MC_SYM_DISK, MC_SYM_GPUS};
    for (uint32_t i = 0; i < 4; i++) {
        e->dim_of[known[i]] = (uint8_t)i;
        e->dim_sym[e->ndims++] = known[i];
    }
    e->last_cycle = mc__now(e);
    *out = e;
    return MC_OK;
}

static void mc__hold_fini(struct mc__hold *h)
{
    mc_res_fini(&h->offered);
    mc_res_fini(&h->used);
}

static void mc__agent_free(struct mc__agent *a)
{
    for (uint32_t i = 0; i < a->nholds; i++)
        mc__hold_fini(&a->holds[i]);
    for (uint32_t i = 0; i < a->nfilters; i++)
        mc_res_fini(&a->filters[i].refused);
    free(a->holds);
    free(a->filters);
    mc_res_fini(&a->total);
    mc_res_fini(&a->free);
    free(a->attrs);
    free(a->id);
    free(a);
}

static void mc__fw_free(struct mc__fw *f)
{
    for (size_t i = 0; i < f->nmin; i++)
        mc_res_fini(&f->min[i]);
    free(f->min);
    free(f->roles);
    free(f->id);
    free(f);
}

void mc_engine_destroy(mc_engine_t *e)
{
    if (!e)
        return;
    for (uint32_t i = 0; i < e->nagent_slots; i++)
        if (e->agents[i])
            mc__agent_free(e->agents[i]);
    for (uint32_t i = 0; i < e->nfws_slots; i++)
        if (e->fws[i])
            mc__fw_free(e->fws[i]);
    for (uint32_t i = 0; i < e->nroles; i++)
        mc__role_free(e->roles[i]);
    for (uint32_t i = 0; i < e->ndec; i++)
        mc_res_fini(&e->dec[i].res);
    free(e->agents);
    free(e->fws);
    free(e->roles);
    free(e->top.v);
    free(e->cand);
    free(e->order);
    free(e->snap);
    free(e->dec);
    free(e->dim_of);
    mc_idmap_fini(&e->fw_ids);
    mc_idmap_fini(&e->agent_ids);
    mc_idmap_fini(&e->role_ids);
    free(e);
}

/* ---- lookups ------------------------------------------------------------------------- */

static struct mc__agent *mc__agent_get(const mc_engine_t *e, const char *id)
{
    int64_t i = mc_idmap_get(&e->agent_ids, id);
    return i < 0 ? NULL : e->agents[i];
}

static struct mc__fw *mc__fw_get(const mc_engine_t *e, const char *id)
{
    int64_t i = mc_idmap_get(&e->fw_ids, id);
    return i < 0 ? NULL : e->fws[i];
}

/* Returns a free slot index in @arr (growing it), or a negative status. */
static int64_t mc__slot(void *arrp, uint32_t *nslots, uint32_t *cap)
{
    void **arr = *(void ***)arrp;
    for (uint32_t i = 0; i < *nslots; i++)
        if (!arr[i])
            return i;
    int rc = mc__grow(arrp, cap, *nslots + 1, sizeof(void *));
    if (rc)
        return rc;
    (*(void ***)arrp)[*nslots] = NULL;
    return (*nslots)++;
}

static struct mc__hold *mc__hold_find(struct mc__agent *a, uint32_t fw, uint32_t fr)
{
    for (uint32_t i = 0; i < a->nholds; i++)
        if (a->holds[i].fw == fw && a->holds[i].fr == fr)
            return &a->holds[i];
    return NULL;
}

/* Deletes hold @h of @a if it is empty (E4). */
static void mc__hold_gc(struct mc__agent *a, struct mc__hold *h)
{
    if (h->offered.n || h->used.n || h->tasks)
        return;
    mc__hold_fini(h);
    *h = a->holds[--a->nholds];
}

/* ---- agents ----------------------------------------------------------------------------- */

int mc_engine_agent_add(mc_engine_t *e, const char *id, const mc_res_t *total, const char *attrs)
{
    if (!mc_id_valid(id, strlen(id)))
        return MC_EINVAL;
    if (mc__agent_get(e, id))
        return MC_EEXIST;
    uint32_t ndims = e->ndims;
    int rc = mc__dims_reserve(e, total);
    if (rc)
        return rc;
    for (uint32_t i = 0; i < total->n; i++) {
        const struct mc_res_item *it = &total->items[i];
        if (it->kind == MC_RES_SCALAR &&
            __builtin_add_overflow(e->total[e->dim_of[it->name]], it->v.milli, &(int64_t){0})) {
            rc = MC_ERANGE;
            goto out_dims;
        }
    }
    int64_t slot = mc__slot(&e->agents, &e->nagent_slots, &e->capagents);
    rc = MC_ENOMEM;
    if (slot < 0)
        goto out_dims;
    struct mc__agent *a = calloc(1, sizeof(*a));
    if (!a || !(a->id = strdup(id)) || (attrs && !(a->attrs = strdup(attrs))) ||
        mc_res_copy(&a->total, total) || mc_res_copy(&a->free, total) ||
        mc_idmap_put(&e->agent_ids, a->id, (uint32_t)slot)) {
        if (a)
            mc__agent_free(a);
        goto out_dims;
    }
    a->idx = (uint32_t)slot;
    a->active = true;
    e->agents[slot] = a;
    mc__qty_add(e, e->total, total, 1);
    e->dirty = true;
    e->pending = true;
    return MC_OK;
out_dims:
    mc__dims_rollback(e, ndims);
    return rc;
}

/* Withdraws the outstanding offer of hold @h: back to the agent, no filter. */
static void mc__hold_return_offer(mc_engine_t *e, struct mc__agent *a, struct mc__hold *h)
{
    if (!h->offered.n)
        return;
    struct mc__fw *f = e->fws[h->fw];
    mc__charge(e, &f->roles[h->fr], &h->offered, -1, false);
    mc_res_add(&a->free, &h->offered); /* E1: the sum stays within total */
    mc_res_clear(&h->offered);
}

int mc_engine_agent_remove(mc_engine_t *e, const char *id)
{
    struct mc__agent *a = mc__agent_get(e, id);
    if (!a)
        return MC_ENOENT;
    for (uint32_t i = 0; i < a->nholds; i++) {
        struct mc__hold *h = &a->holds[i];
        struct mc__fw *f = e->fws[h->fw];
        if (h->offered.n && e->cfg.on_rescind)
            e->cfg.on_rescind(e->cfg.cb_arg, f->id, a->id);
        mc__charge(e, &f->roles[h->fr], &h->offered, -1, false);
        mc__charge(e, &f->roles[h->fr], &h->used, -1, false);
        f->tasks -= h->tasks;
    }
    mc__qty_add(e, e->total, &a->total, -1);
    mc_idmap_del(&e->agent_ids, a->id);
    e->agents[a->idx] = NULL;
    mc__agent_free(a);
    e->dirty = true;
    return MC_OK;
}

int mc_engine_agent_activate(mc_engine_t *e, const char *id, bool active)
{
    struct mc__agent *a = mc__agent_get(e, id);
    if (!a)
        return MC_ENOENT;
    if (active && !a->active)
        e->pending = true;
    a->active = active;
    return MC_OK;
}

/* ---- frameworks ---------------------------------------------------------------------------- */

int mc_engine_framework_add(mc_engine_t *e, const char *id, const char *const *roles, size_t nroles,
                            const mc_res_t *min_alloc, size_t nmin)
{
    if (!mc_id_valid(id, strlen(id)) || nroles == 0 || nroles > MC_FW_MAX_ROLES)
        return MC_EINVAL;
    for (size_t i = 0; i < nroles; i++) {
        if (!mc_role_name_valid(roles[i], strlen(roles[i])))
            return MC_EINVAL;
        for (size_t k = 0; k < i; k++)
            if (strcmp(roles[i], roles[k]) == 0)
                return MC_EINVAL;
    }
    for (size_t i = 0; i < nmin; i++)
        if (!mc__quota_vector_ok(&min_alloc[i]))
            return MC_EINVAL;
    if (mc__fw_get(e, id))
        return MC_EEXIST;

    int rc = MC_OK;
    struct mc__role *rs[MC_FW_MAX_ROLES];
    for (size_t i = 0; i < nroles; i++)
        if (!(rs[i] = mc__role_ensure(e, roles[i], &rc)))
            return rc; /* roles created so far stay, empty: harmless */
    int64_t slot = mc__slot(&e->fws, &e->nfws_slots, &e->capfws);
    if (slot < 0)
        return (int)slot;
    struct mc__fw *f = calloc(1, sizeof(*f));
    rc = MC_ENOMEM;
    if (!f || !(f->id = strdup(id)) || !(f->roles = calloc(nroles, sizeof(*f->roles))))
        goto out_free;
    if (nmin) {
        if (!(f->min = calloc(nmin, sizeof(*f->min))))
            goto out_free;
        for (f->nmin = 0; f->nmin < nmin; f->nmin++)
            if (mc_res_copy(&f->min[f->nmin], &min_alloc[f->nmin]))
                goto out_free;
    }
    uint32_t maxfws = 0;
    for (size_t i = 0; i < nroles; i++)
        maxfws = rs[i]->fws.n + 1 > maxfws ? rs[i]->fws.n + 1 : maxfws;
    if (mc__grow(&e->snap, &e->capsnap, maxfws, sizeof(*e->snap)) ||
        mc_idmap_put(&e->fw_ids, f->id, (uint32_t)slot))
        goto out_free;
    f->idx = (uint32_t)slot;
    for (f->nroles = 0; f->nroles < nroles; f->nroles++) {
        struct mc__fwrole *fr = &f->roles[f->nroles];
        fr->fw = f;
        fr->role = rs[f->nroles];
        mc__client_init(&fr->c, MC__FWROLE, fr, f->id, 1.0);
        if (mc__sorter_insert(&fr->role->fws, &fr->c)) {
            while (f->nroles--)
                mc__sorter_remove(&f->roles[f->nroles].c);
            mc_idmap_del(&e->fw_ids, f->id);
            goto out_free;
        }
    }
    for (uint32_t i = 0; i < f->nroles; i++)
        for (struct mc__role *x = f->roles[i].role; x; x = x->parent)
            x->nfw_subtree++;
    e->fws[slot] = f;
    e->dirty = true;
    e->pending = true;
    return MC_OK;
out_free:
    if (f) {
        f->nroles = 0;
        mc__fw_free(f);
    }
    return rc;
}

int mc_engine_framework_remove(mc_engine_t *e, const char *id)
{
    struct mc__fw *f = mc__fw_get(e, id);
    if (!f)
        return MC_ENOENT;
    for (uint32_t i = 0; i < e->nagent_slots; i++) {
        struct mc__agent *a = e->agents[i];
        if (!a)
            continue;
        for (uint32_t k = 0; k < a->nholds;) {
            struct mc__hold *h = &a->holds[k];
            if (h->fw != f->idx) {
                k++;
                continue;
            }
            mc__hold_return_offer(e, a, h);
            mc__charge(e, &f->roles[h->fr], &h->used, -1, false);
            mc_res_add(&a->free, &h->used);
            mc__hold_fini(h);
            *h = a->holds[--a->nholds];
        }
        for (uint32_t k = 0; k < a->nfilters;) {
            if (a->filters[k].fw != f->idx) {
                k++;
                continue;
            }
            mc_res_fini(&a->filters[k].refused);
            a->filters[k] = a->filters[--a->nfilters];
        }
    }
    for (uint32_t i = 0; i < f->nroles; i++) {
        mc__sorter_remove(&f->roles[i].c);
        for (struct mc__role *x = f->roles[i].role; x; x = x->parent)
            x->nfw_subtree--;
    }
    mc_idmap_del(&e->fw_ids, f->id);
    e->fws[f->idx] = NULL;
    mc__fw_free(f);
    e->dirty = true;
    return MC_OK;
}

/* Applies @fn to the fwroles of @fw named by @role (all when NULL). */
static int mc__fw_roles(mc_engine_t *e, const char *fw, const char *role, bool suppress)
{
    struct mc__fw *f = mc__fw_get(e, fw);
    if (!f)
        return MC_ENOENT;
    bool found = false;
    for (uint32_t i = 0; i < f->nroles; i++) {
        if (role && strcmp(role, f->roles[i].role->name) != 0)
            continue;
        f->roles[i].suppressed = suppress;
        found = true;
    }
    if (!found)
        return MC_ENOENT;
    if (!suppress) {
        f->revive_gen++; /* voids every filter of this framework (see mc__filtered) */
        e->pending = true;
    }
    return MC_OK;
}

int mc_engine_suppress(mc_engine_t *e, const char *fw, const char *role)
{
    return mc__fw_roles(e, fw, role, true);
}

int mc_engine_revive(mc_engine_t *e, const char *fw, const char *role)
{
    return mc__fw_roles(e, fw, role, false);
}

/* ---- offers and tasks ------------------------------------------------------------------------ */

static int mc__lookup_pair(const mc_engine_t *e, const char *fw, const char *agent,
                           struct mc__fw **f, struct mc__agent **a)
{
    *f = mc__fw_get(e, fw);
    *a = mc__agent_get(e, agent);
    return *f && *a ? MC_OK : MC_ENOENT;
}

int mc_engine_accept(mc_engine_t *e, const char *fw, const char *agent, const mc_res_t *use)
{
    struct mc__fw *f;
    struct mc__agent *a;
    int rc = mc__lookup_pair(e, fw, agent, &f, &a);
    if (rc)
        return rc;
    struct mc__hold *h = NULL;
    bool any = false;
    for (uint32_t i = 0; i < a->nholds && !h; i++) {
        struct mc__hold *x = &a->holds[i];
        if (x->fw != f->idx || !x->offered.n)
            continue;
        any = true;
        if (mc_res_contains(&x->offered, use))
            h = x;
    }
    if (!h)
        return any ? MC_EEXCEED : MC_ENOOFFER;
    /* build the new vectors first so that a failure changes nothing */
    mc_res_t rest = MC_RES_INIT, used = MC_RES_INIT;
    if ((rc = mc_res_copy(&rest, &h->offered)) || (rc = mc_res_sub(&rest, use)) ||
        (rc = mc_res_copy(&used, &h->used)) || (rc = mc_res_add(&used, use))) {
        mc_res_fini(&rest);
        mc_res_fini(&used);
        return rc;
    }
    mc__charge(e, &f->roles[h->fr], &rest, -1, false);
    mc_res_add(&a->free, &rest);
    mc_res_fini(&rest);
    mc_res_fini(&h->used);
    h->used = used;
    mc_res_clear(&h->offered);
    h->tasks++;
    f->tasks++;
    return MC_OK;
}

static void mc__filter_install(mc_engine_t *e, struct mc__agent *a, struct mc__hold *h,
                               uint64_t duration, mc_res_t *refused)
{
    if (mc__grow(&a->filters, &a->capfilters, a->nfilters + 1, sizeof(*a->filters))) {
        mc_res_fini(refused); /* out of memory: the offer may come back sooner */
        return;
    }
    struct mc__filter *flt = &a->filters[a->nfilters++];
    flt->fw = h->fw;
    flt->fr = h->fr;
    flt->gen = e->fws[h->fw]->revive_gen;
    flt->expires = mc__now(e) + duration;
    flt->refused = *refused;
    mc_res_init(refused);
}

int mc_engine_decline(mc_engine_t *e, const char *fw, const char *agent, double refuse_s)
{
    struct mc__fw *f;
    struct mc__agent *a;
    int rc = mc__lookup_pair(e, fw, agent, &f, &a);
    if (rc)
        return rc;
    if (isnan(refuse_s))
        return MC_EINVAL;
    uint64_t duration = 0;
    if (refuse_s < 0)
        duration = MC_DEFAULT_REFUSE_NS;
    else if (refuse_s > 0)
        duration = refuse_s >= (double)MC_FILTER_MAX_NS / MC_NS_PER_SEC
                       ? MC_FILTER_MAX_NS
                       : (uint64_t)(refuse_s * (double)MC_NS_PER_SEC);
    if (duration && duration < e->cfg.interval_ns)
        duration = e->cfg.interval_ns; /* a filter lasts at least one interval */
    bool any = false;
    for (uint32_t i = 0; i < a->nholds;) {
        struct mc__hold *h = &a->holds[i];
        if (h->fw != f->idx || !h->offered.n) {
            i++;
            continue;
        }
        any = true;
        mc_res_t refused = MC_RES_INIT;
        if (duration && mc_res_copy(&refused, &h->offered) == MC_OK)
            mc__filter_install(e, a, h, duration, &refused);
        mc__hold_return_offer(e, a, h);
        uint32_t before = a->nholds;
        mc__hold_gc(a, h);
        i += a->nholds == before;
    }
    return any ? MC_OK : MC_ENOOFFER;
}

int mc_engine_finish(mc_engine_t *e, const char *fw, const char *agent, const mc_res_t *res)
{
    struct mc__fw *f;
    struct mc__agent *a;
    int rc = mc__lookup_pair(e, fw, agent, &f, &a);
    if (rc)
        return rc;
    for (uint32_t i = 0; i < a->nholds; i++) {
        struct mc__hold *h = &a->holds[i];
        if (h->fw != f->idx || !h->tasks || !mc_res_contains(&h->used, res))
            continue;
        mc_res_t used = MC_RES_INIT;
        if ((rc = mc_res_copy(&used, &h->used)) || (rc = mc_res_sub(&used, res))) {
            mc_res_fini(&used);
            return rc;
        }
        mc__charge(e, &f->roles[h->fr], res, -1, false);
        mc_res_add(&a->free, res);
        mc_res_fini(&h->used);
        h->used = used;
        h->tasks--;
        f->tasks--;
        mc__hold_gc(a, h);
        return MC_OK;
    }
    return MC_EEXCEED;
}

/* ---- the allocation cycle -------------------------------------------------------------------- */

/* True when @r holds at least one of @f's minimum offers in full (default:
 * cpus >= 0.01 or mem >= 32). Quantities count every role. */
static bool mc__min_ok(const struct mc__fw *f, const mc_res_t *r)
{
    if (!f->nmin)
        return mc_res_quantity(r, MC_SYM_CPUS) >= 10 || mc_res_quantity(r, MC_SYM_MEM) >= 32000;
    for (size_t i = 0; i < f->nmin; i++) {
        const mc_res_t *m = &f->min[i];
        bool ok = true;
        for (uint32_t k = 0; k < m->n && ok; k++)
            ok = mc_res_quantity(r, m->items[k].name) >= m->items[k].v.milli;
        if (ok)
            return true;
    }
    return false;
}

/* True when a live refuse filter of (@f, @fr) on @a contains @offer. Drops
 * the filters of that pair that expired or were voided by a revive. */
static bool mc__filtered(mc_engine_t *e, struct mc__agent *a, const struct mc__fw *f, uint32_t fr,
                         const mc_res_t *offer, uint64_t now)
{
    bool hit = false;
    for (uint32_t i = 0; i < a->nfilters;) {
        struct mc__filter *flt = &a->filters[i];
        if (flt->fw != f->idx || flt->fr != fr) {
            i++;
            continue;
        }
        if (now >= flt->expires || flt->gen != f->revive_gen) {
            mc_res_fini(&flt->refused);
            *flt = a->filters[--a->nfilters];
            continue;
        }
        hit |= mc_res_contains(&flt->refused, offer);
        i++;
    }
    return hit;
}

/* Computes the amount of unreserved scalar @it that may go to @r now under
 * quota (limits of @r and its ancestors; guarantees held back as headroom). */
static int64_t mc__quota_cap(const mc_engine_t *e, const struct mc__role *r, uint32_t d,
                             int64_t want, bool stage1)
{
    int64_t cap = want;
    for (const struct mc__role *x = r; x; x = x->parent) {
        if (!x->limit.n)
            continue;
        for (uint32_t k = 0; k < x->limit.n; k++) {
            if (e->dim_of[x->limit.items[k].name] != d)
                continue;
            int64_t room = x->limit.items[k].v.milli - x->consumed[d];
            cap = room < cap ? (room > 0 ? room : 0) : cap;
        }
    }
    int64_t surplus = e->available[d] - e->required[d];
    if (surplus < 0)
        surplus = 0;
    int64_t unsat = 0;
    const struct mc__role *g = stage1 ? r : r->groot;
    if (g) {
        int64_t want_g = mc_res_scalar(&g->guarantee, e->dim_sym[d], MC_SYM_NONE);
        unsat = want_g > g->consumed[d] ? want_g - g->consumed[d] : 0;
        if (stage1 && want_g > 0) /* stage 1 offers guaranteed names up to the guarantee only */
            return cap < unsat ? cap : unsat;
    }
    int64_t headroom_cap = unsat + surplus;
    return cap < headroom_cap ? cap : headroom_cap;
}

/* Builds what may be offered to @fr's role from @avail (already limited to
 * what is allocatable to the role): without quota, all of it. */
static int mc__offer_amount(mc_engine_t *e, const struct mc__role *r, const mc_res_t *avail,
                            bool stage1, mc_res_t *out)
{
    int rc = mc_res_copy(out, avail);
    if (rc || !e->nquota)
        return rc;
    for (uint32_t i = 0; i < out->n;) {
        struct mc_res_item *it = &out->items[i];
        if (it->kind != MC_RES_SCALAR || it->role != MC_SYM_NONE) {
            i++;
            continue;
        }
        int64_t v = mc__quota_cap(e, r, e->dim_of[it->name], it->v.milli, stage1);
        if (v > 0) {
            it->v.milli = v;
            i++;
            continue;
        }
        memmove(it, it + 1, (out->n - i - 1) * sizeof(*it)); /* R3: drop zero items */
        out->n--;
    }
    return MC_OK;
}

/* Records the quota consumption of an unreserved allocation @r to role @role. */
static void mc__quota_consume(mc_engine_t *e, struct mc__role *role, const mc_res_t *r)
{
    for (uint32_t i = 0; i < r->n; i++) {
        const struct mc_res_item *it = &r->items[i];
        if (it->kind != MC_RES_SCALAR || it->role != MC_SYM_NONE)
            continue;
        uint32_t d = e->dim_of[it->name];
        if (role->groot) {
            struct mc__role *g = role->groot;
            int64_t want = mc_res_scalar(&g->guarantee, it->name, MC_SYM_NONE);
            int64_t unsat = want > g->consumed[d] ? want - g->consumed[d] : 0;
            e->required[d] -= it->v.milli < unsat ? it->v.milli : unsat;
        }
        e->available[d] -= it->v.milli;
        for (struct mc__role *x = role; x; x = x->parent)
            x->consumed[d] += it->v.milli;
    }
}

/* Computes consumed quota per role, required and available headroom. */
static void mc__quota_prepare(mc_engine_t *e)
{
    for (uint32_t i = 0; i < e->nroles; i++)
        memset(e->roles[i]->consumed, 0, sizeof(e->roles[i]->consumed));
    memset(e->required, 0, sizeof(e->required));
    memset(e->available, 0, sizeof(e->available));
    for (uint32_t s = 0; s < e->nagent_slots; s++) {
        struct mc__agent *a = e->agents[s];
        if (!a)
            continue;
        for (uint32_t i = 0; i < a->total.n; i++) {
            const struct mc_res_item *it = &a->total.items[i];
            if (it->kind != MC_RES_SCALAR || it->role == MC_SYM_NONE)
                continue;
            int64_t k = mc_idmap_get(&e->role_ids, mc_sym_name(it->role));
            for (struct mc__role *x = k < 0 ? NULL : e->roles[k]; x; x = x->parent)
                x->consumed[e->dim_of[it->name]] += it->v.milli;
        }
        for (uint32_t i = 0; i < a->free.n; i++) {
            const struct mc_res_item *it = &a->free.items[i];
            if (it->kind == MC_RES_SCALAR && it->role == MC_SYM_NONE && a->active)
                e->available[e->dim_of[it->name]] += it->v.milli;
        }
        for (uint32_t h = 0; h < a->nholds; h++) {
            struct mc__hold *hd = &a->holds[h];
            struct mc__role *role = e->fws[hd->fw]->roles[hd->fr].role;
            const mc_res_t *parts[2] = {&hd->offered, &hd->used};
            for (int p = 0; p < 2; p++)
                for (uint32_t i = 0; i < parts[p]->n; i++) {
                    const struct mc_res_item *it = &parts[p]->items[i];
                    if (it->kind != MC_RES_SCALAR || it->role != MC_SYM_NONE)
                        continue;
                    for (struct mc__role *x = role; x; x = x->parent)
                        x->consumed[e->dim_of[it->name]] += it->v.milli;
                }
        }
    }
    for (uint32_t i = 0; i < e->nroles; i++) {
        struct mc__role *r = e->roles[i];
        if (!r->guarantee.n || r->groot != r)
            continue;
        for (uint32_t k = 0; k < r->guarantee.n; k++) {
            uint32_t d = e->dim_of[r->guarantee.items[k].name];
            int64_t unsat = r->guarantee.items[k].v.milli - r->consumed[d];
            e->required[d] += unsat > 0 ? unsat : 0;
        }
    }
}

/* Makes the offer: moves @res from the agent's free vector into the hold. */
static int mc__offer(mc_engine_t *e, struct mc__agent *a, struct mc__fwrole *fr, mc_res_t *res,
                     uint64_t now)
{
    struct mc__fw *f = fr->fw;
    uint32_t fri = (uint32_t)(fr - f->roles);
    int rc = mc__grow(&e->dec, &e->capdec, e->ndec + 1, sizeof(*e->dec));
    if (rc)
        return rc;
    struct mc__hold *h = mc__hold_find(a, f->idx, fri);
    if (!h) {
        if ((rc = mc__grow(&a->holds, &a->capholds, a->nholds + 1, sizeof(*a->holds))))
            return rc;
        h = &a->holds[a->nholds++];
        memset(h, 0, sizeof(*h));
        h->fw = f->idx;
        h->fr = fri;
    }
    mc_res_t merged = MC_RES_INIT;
    if ((rc = mc_res_copy(&merged, &h->offered)) || (rc = mc_res_add(&merged, res))) {
        mc_res_fini(&merged);
        mc__hold_gc(a, h);
        return rc;
    }
    if (!h->offered.n)
        h->offered_at = now;
    mc_res_fini(&h->offered);
    h->offered = merged;
    mc_res_sub(&a->free, res); /* res was built from free, so this cannot fail */
    if (e->nquota)
        mc__quota_consume(e, fr->role, res);
    mc__charge(e, fr, res, 1, true);
    struct mc__decision *dd = &e->dec[e->ndec];
    dd->fw = f->idx;
    dd->agent = a->idx;
    dd->role = fr->role;
    dd->seq = e->ndec++;
    dd->res = *res; /* the decision takes the vector */
    mc_res_init(res);
    return MC_OK;
}

/* Appends to e->order the roles to visit, in DRF order: a depth-first walk of
 * the role tree with siblings in sorted order; a role is emitted where its
 * self entry sorts among its children. Subtrees without frameworks are
 * skipped. */
static void mc__role_order(mc_engine_t *e, const struct mc__sorter *s, uint32_t *n)
{
    for (uint32_t i = 0; i < s->n; i++) {
        struct mc__client *c = s->v[i];
        struct mc__role *r = c->owner;
        if (c->kind == MC__ROLE_SELF) {
            if (r->fws.n)
                e->order[(*n)++] = r;
        } else if (r->nfw_subtree) {
            mc__role_order(e, &r->children, n);
        }
    }
}

/* Visits agent @a once: roles and frameworks in DRF order; stage 1 considers
 * only roles with an unsatisfied guarantee. */
static int mc__visit(mc_engine_t *e, struct mc__agent *a, bool stage1, uint64_t now,
                     struct mc_cycle_stats *st)
{
    uint32_t nroles = 0;
    mc__role_order(e, &e->top, &nroles);
    mc_res_t avail = MC_RES_INIT, toff = MC_RES_INIT;
    int rc = MC_OK;
    for (uint32_t ri = 0; ri < nroles && a->free.n; ri++) {
        struct mc__role *r = e->order[ri];
        if (stage1 && !r->guarantee.n)
            continue;
        if ((rc = mc_res_filter(&avail, &a->free, mc__allocatable_to, r)))
            break;
        if (!avail.n)
            continue;
        uint32_t nf = r->fws.n;
        if (nf)
            memcpy(e->snap, r->fws.v, nf * sizeof(*e->snap)); /* Mesos sorts once per role visit */
        for (uint32_t fi = 0; fi < nf && avail.n; fi++) {
            struct mc__fwrole *fr = e->snap[fi]->owner;
            if (fr->suppressed)
                continue;
            if ((rc = mc__offer_amount(e, r, &avail, stage1, &toff)))
                goto out;
            if (!toff.n || !mc__min_ok(fr->fw, &toff))
                continue;
            if (mc__filtered(e, a, fr->fw, (uint32_t)(fr - fr->fw->roles), &toff, now)) {
                st->filtered++;
                continue;
            }
            if ((rc = mc__offer(e, a, fr, &toff, now)))
                goto out;
            st->offers++;
            if ((rc = mc_res_filter(&avail, &a->free, mc__allocatable_to, r)))
                goto out;
        }
    }
out:
    mc_res_fini(&avail);
    mc_res_fini(&toff);
    return rc;
}

static void mc__shuffle(mc_engine_t *e, uint32_t n)
{
    for (uint32_t i = n; i > 1; i--) {
        uint32_t j = mc__rand_below(e, i);
        uint32_t t = e->cand[i - 1];
        e->cand[i - 1] = e->cand[j];
        e->cand[j] = t;
    }
}

static int mc__dec_cmp(const void *pa, const void *pb)
{
    const struct mc__decision *a = pa, *b = pb;
    if (a->fw != b->fw)
        return a->fw < b->fw ? -1 : 1;
    return a->seq < b->seq ? -1 : a->seq > b->seq;
}

/* Hands the cycle's decisions to the offer callback, one batch per framework. */
static int mc__publish(mc_engine_t *e)
{
    int rc = MC_OK;
    if (e->ndec > 1)
        qsort(e->dec, e->ndec, sizeof(*e->dec), mc__dec_cmp);
    struct mc_offer *batch = e->ndec ? malloc(e->ndec * sizeof(*batch)) : NULL;
    if (e->ndec && !batch)
        rc = MC_ENOMEM;
    for (uint32_t i = 0; i < e->ndec && batch && e->cfg.on_offers;) {
        uint32_t j = i;
        for (; j < e->ndec && e->dec[j].fw == e->dec[i].fw; j++) {
            struct mc__decision *d = &e->dec[j];
            batch[j - i] = (struct mc_offer){.framework = e->fws[d->fw]->id,
                                             .agent = e->agents[d->agent]->id,
                                             .role = d->role->name,
                                             .res = &d->res,
                                             .seq = d->seq};
        }
        e->cfg.on_offers(e->cfg.cb_arg, batch, j - i);
        i = j;
    }
    free(batch);
    for (uint32_t i = 0; i < e->ndec; i++)
        mc_res_fini(&e->dec[i].res);
    e->ndec = 0;
    return rc;
}

int mc_engine_allocate(mc_engine_t *e, struct mc_cycle_stats *stats)
{
    struct mc_cycle_stats st = {0};
    uint64_t t0 = mc__monotonic(NULL), now = mc__now(e);
    int rc;
    e->pending = false;
    e->last_cycle = now;
    if (e->dirty)
        mc__resort_all(e);
    if ((rc = mc__grow(&e->order, &e->caporder, e->nroles, sizeof(*e->order))) ||
        (rc = mc__grow(&e->cand, &e->capcand, e->nagent_slots, sizeof(*e->cand))))
        return rc;
    uint32_t n = 0;
    for (uint32_t i = 0; i < e->nagent_slots; i++)
        if (e->agents[i] && e->agents[i]->active)
            e->cand[n++] = i;
    st.agents = n;
    e->in_cycle = true;
    mc__shuffle(e, n);
    bool quota_stage = false;
    if (e->nquota) {
        mc__quota_prepare(e);
        for (uint32_t i = 0; i < e->nroles && !quota_stage; i++)
            quota_stage = e->roles[i]->guarantee.n && e->roles[i]->fws.n;
    }
    if (quota_stage) {
        for (uint32_t i = 0; i < n && rc == MC_OK; i++)
            if (e->agents[e->cand[i]]->free.n)
                rc = mc__visit(e, e->agents[e->cand[i]], true, now, &st);
        mc__shuffle(e, n);
    }
    for (uint32_t i = 0; i < n && rc == MC_OK; i++)
        if (e->agents[e->cand[i]]->free.n)
            rc = mc__visit(e, e->agents[e->cand[i]], false, now, &st);
    e->in_cycle = false;
    int prc = mc__publish(e); /* what was decided is published even after an error */
    st.duration_ns = mc__monotonic(NULL) - t0;
    if (stats)
        *stats = st;
    return rc ? rc : prc;
}

void mc_engine_expire(mc_engine_t *e)
{
    uint64_t now = mc__now(e);
    if (e->cfg.offer_timeout_ns) {
        for (uint32_t s = 0; s < e->nagent_slots; s++) {
            struct mc__agent *a = e->agents[s];
            for (uint32_t i = 0; a && i < a->nholds;) {
                struct mc__hold *h = &a->holds[i];
                if (!h->offered.n || now - h->offered_at < e->cfg.offer_timeout_ns) {
                    i++;
                    continue;
                }
                if (e->cfg.on_rescind)
                    e->cfg.on_rescind(e->cfg.cb_arg, e->fws[h->fw]->id, a->id);
                mc__hold_return_offer(e, a, h);
                uint32_t before = a->nholds;
                mc__hold_gc(a, h);
                i += a->nholds == before;
            }
        }
    }
}

int mc_engine_tick(mc_engine_t *e)
{
    mc_engine_expire(e);
    if (!e->pending && mc__now(e) - e->last_cycle < e->cfg.interval_ns)
        return 0;
    int rc = mc_engine_allocate(e, NULL);
    return rc ? rc : 1;
}

bool mc_engine_cycle_pending(const mc_engine_t *e)
{
    return e->pending;
}

void mc_engine_seed(mc_engine_t *e, uint64_t seed)
{
    for (int i = 0; i < 4; i++)
        e->rng[i] = mc__splitmix(&seed);
}

bool mc_engine_has_framework(const mc_engine_t *e, const char *id)
{
    return mc__fw_get(e, id) != NULL;
}

bool mc_engine_has_agent(const mc_engine_t *e, const char *id)
{
    return mc__agent_get(e, id) != NULL;
}

/* ---- queries ------------------------------------------------------------------------------ */

static int mc__idptr_cmp(const void *a, const void *b)
{
    return strcmp(**(char *const *const *)a, **(char *const *const *)b);
}

/* Fills @out with the live objects of @arr (whose first field is the id
 * pointer) sorted by id. Returns the count, or -1 on MC_ENOMEM. */
static int64_t mc__sorted(void *const *arr, uint32_t nslots, void ***out)
{
    void **v = malloc((nslots ? nslots : 1) * sizeof(*v));
    if (!v)
        return -1;
    uint32_t n = 0;
    for (uint32_t i = 0; i < nslots; i++)
        if (arr[i])
            v[n++] = arr[i];
    if (n > 1)
        qsort(v, n, sizeof(*v), mc__idptr_cmp);
    *out = v;
    return n;
}

void mc_engine_frameworks(const mc_engine_t *e, mc_fw_info_cb fn, void *arg)
{
    /* A framework's allocation is summed from its holds on demand: ranges of
     * different agents overlap (every agent has port 31000), so a running
     * cross-agent vector could not be decremented exactly. */
    void **v;
    int64_t n = mc__sorted((void *const *)e->fws, e->nfws_slots, &v);
    mc_res_t *sum = n > 0 ? calloc(e->nfws_slots, sizeof(*sum)) : NULL;
    if (n > 0 && !sum)
        n = -1;
    for (uint32_t s = 0; n > 0 && s < e->nagent_slots; s++) {
        struct mc__agent *a = e->agents[s];
        for (uint32_t h = 0; a && h < a->nholds; h++) {
            mc_res_add(&sum[a->holds[h].fw], &a->holds[h].offered);
            mc_res_add(&sum[a->holds[h].fw], &a->holds[h].used);
        }
    }
    for (int64_t i = 0; i < n; i++) {
        struct mc__fw *f = v[i];
        double share = 0;
        for (uint32_t k = 0; k < f->nroles; k++) {
            double s = mc__share_of(e, f->roles[k].c.alloc, f->roles[k].role->node.weight);
            share = s > share ? s : share;
        }
        struct mc_fw_info info = {f->id, &sum[f->idx], share, f->tasks};
        fn(arg, &info);
    }
    for (uint32_t i = 0; sum && i < e->nfws_slots; i++)
        mc_res_fini(&sum[i]);
    free(sum);
    if (n >= 0)
        free(v);
}

void mc_engine_agents(const mc_engine_t *e, mc_agent_info_cb fn, void *arg)
{
    void **v;
    int64_t n = mc__sorted((void *const *)e->agents, e->nagent_slots, &v);
    for (int64_t i = 0; i < n; i++) {
        struct mc__agent *a = v[i];
        struct mc_agent_info info = {a->id, &a->total, &a->free, a->active};
        fn(arg, &info);
    }
    if (n >= 0)
        free(v);
}

#define MC__FAIL(...)                                                                              \
    do {                                                                                           \
        snprintf(why, size, __VA_ARGS__);                                                          \
        rc = MC_EIO;                                                                               \
        goto out;                                                                                  \
    } while (0)

/* acc += part, failing if part overlaps what acc already holds (E1: nothing
 * counted twice) or leaves total. */
static bool mc__book_add(mc_res_t *acc, const mc_res_t *part, const mc_res_t *total)
{
    mc_res_t room = MC_RES_INIT;
    bool ok = mc_res_copy(&room, total) == MC_OK && mc_res_sub(&room, acc) == MC_OK &&
              mc_res_contains(&room, part) && mc_res_add(acc, part) == MC_OK;
    mc_res_fini(&room);
    return ok;
}

int mc_engine_check(const mc_engine_t *e, char *why, size_t size)
{
    int rc = MC_OK;
    mc_res_t acc = MC_RES_INIT;
    uint32_t *frbase = NULL;
    int64_t(*frq)[MC_ENGINE_MAX_DIMS] = NULL;
    uint32_t nfr = 0;
    for (uint32_t i = 0; i < e->nfws_slots; i++)
        nfr += e->fws[i] ? e->fws[i]->nroles : 0;
    frq = calloc(nfr ? nfr : 1, sizeof(*frq));
    uint64_t *fwtasks = calloc(e->nfws_slots ? e->nfws_slots : 1, sizeof(*fwtasks));
    if (!frq || !fwtasks) {
        snprintf(why, size, "out of memory");
        rc = MC_ENOMEM;
        goto out;
    }
    frbase = calloc(e->nfws_slots ? e->nfws_slots : 1, sizeof(*frbase));
    if (!frbase) {
        rc = MC_ENOMEM;
        goto out;
    }
    for (uint32_t i = 0, b = 0; i < e->nfws_slots; i++) {
        frbase[i] = b;
        b += e->fws[i] ? e->fws[i]->nroles : 0;
    }
    int64_t total[MC_ENGINE_MAX_DIMS] = {0};
    for (uint32_t s = 0; s < e->nagent_slots; s++) {
        struct mc__agent *a = e->agents[s];
        if (!a)
            continue;
        mc__qty_add(e, total, &a->total, 1);
        if (!mc_res_valid(&a->free) || mc_res_copy(&acc, &a->free))
            MC__FAIL("agent %s: free vector is malformed", a->id);
        for (uint32_t h = 0; h < a->nholds; h++) {
            struct mc__hold *hd = &a->holds[h];
            struct mc__fw *f = hd->fw < e->nfws_slots ? e->fws[hd->fw] : NULL;
            if (!f || hd->fr >= f->nroles)
                MC__FAIL("agent %s: hold of an unknown framework", a->id);
            if (!hd->offered.n && !hd->used.n && !hd->tasks)
                MC__FAIL("agent %s: empty hold of %s", a->id, f->id);
            if (!mc__book_add(&acc, &hd->offered, &a->total) ||
                !mc__book_add(&acc, &hd->used, &a->total))
                MC__FAIL("agent %s: resources of %s counted twice or beyond the total", a->id,
                         f->id);
            mc__qty_add(e, frq[frbase[hd->fw] + hd->fr], &hd->offered, 1);
            mc__qty_add(e, frq[frbase[hd->fw] + hd->fr], &hd->used, 1);
            fwtasks[hd->fw] += hd->tasks;
        }
        if (!mc_res_equal(&acc, &a->total)) {
            char want[512], got[512];
            mc_res_format(&a->total, want, sizeof(want));
            mc_res_format(&acc, got, sizeof(got));
            MC__FAIL("agent %s: free + offered + used = %s, total = %s", a->id, got, want);
        }
    }
    if (memcmp(total, e->total, sizeof(total)))
        MC__FAIL("cluster total differs from the sum of the agents");
    for (uint32_t i = 0; i < e->nfws_slots; i++) {
        struct mc__fw *f = e->fws[i];
        if (!f)
            continue;
        if (fwtasks[i] != f->tasks)
            MC__FAIL("framework %s: task count differs from its holds", f->id);
        for (uint32_t k = 0; k < f->nroles; k++)
            if (memcmp(frq[frbase[i] + k], f->roles[k].c.alloc, sizeof(frq[0])))
                MC__FAIL("framework %s: role %s allocation differs from its holds", f->id,
                         f->roles[k].role->name);
    }
    for (uint32_t r = 0; r < e->nroles; r++) {
        struct mc__role *role = e->roles[r];
        int64_t self[MC_ENGINE_MAX_DIMS] = {0}, node[MC_ENGINE_MAX_DIMS] = {0};
        for (uint32_t k = 0; k < role->fws.n; k++)
            for (uint32_t d = 0; d < MC_ENGINE_MAX_DIMS; d++)
                self[d] += role->fws.v[k]->alloc[d];
        for (uint32_t k = 0; k < role->children.n; k++) {
            struct mc__client *c = role->children.v[k];
            for (uint32_t d = 0; d < MC_ENGINE_MAX_DIMS; d++)
                node[d] += c->alloc[d];
        }
        if (memcmp(self, role->self.alloc, sizeof(self)) ||
            memcmp(node, role->node.alloc, sizeof(node)))
            MC__FAIL("role %s: allocation differs from its frameworks", role->name);
    }
out:
    free(frbase);
    mc_res_fini(&acc);
    free(frq);
    free(fwtasks);
    if (rc == MC_OK && size)
        why[0] = '\0';
    return rc;
}
