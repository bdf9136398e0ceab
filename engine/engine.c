/* engine/engine.c: the engine's registry and API: roles, agents, frameworks,
 * answers to offers, time, queries and the books. The DRF order lives in
 * drf.c, allocation cycles in shard.c; the objects in internal.h.
 *
 * Every function here runs on the control thread between cycles (internal.h),
 * so it reads and writes engine state without synchronisation; allocation
 * changes go through mc__charge(), which keeps every shard's DRF view exact.
 *
 * Invariants (asserted by mc_engine_check(), tests/engine/test_engine.c and
 * every golden scenario run with --check):
 *   E1. For every agent: free + Σ holds (offered + used) == total, and no
 *       range element or scalar amount is counted twice.
 *   E2. The allocation of a fwrole client equals the scalar quantities of its
 *       holds; a role's self client equals the sum of its fwroles; a role's
 *       node client equals its self plus its children's nodes.
 *   E3. A hold never has an empty offered and used vector with no tasks: it
 *       is deleted when it empties.
 *   E4. An agent's filters are sorted by key (framework slot << 8 | role index).
 */
#define _GNU_SOURCE
#include "engine/engine.h"
#include "engine/internal.h"
#include "engine/status.h"
#include "engine/sym.h"

#include <math.h>
#include <sched.h>
#include <stdio.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* ---- small helpers ------------------------------------------------------------- */

void *mc__zalloc_lines(size_t n, size_t size)
{
    if (size && n > (SIZE_MAX - 63) / size)
        return NULL;
    size_t bytes = (n * size + 63) & ~(size_t)63; /* aligned_alloc wants a multiple */
    void *p = aligned_alloc(64, bytes ? bytes : 64);
    if (p)
        memset(p, 0, bytes);
    return p;
}

int mc__grow_to(void *pp, uint32_t *cap, uint32_t need, size_t elem)
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

/* Adds (sign = +1) or takes (-1) an agent's total @r to or from the
 * cluster's, and lists again the dims that have a total (e->live).
 * Context: control thread, between cycles. */
static void mc__total_add(mc_engine_t *e, const mc_res_t *r, int sign)
{
    mc__qty_add(e, e->total, r, sign);
    e->nlive = 0;
    for (uint32_t d = 0; d < e->ndims; d++)
        if (e->total[d] > 0)
            e->live[e->nlive++] = (uint8_t)d;
}

/* @r joins (sign = +1) or leaves (-1) the free resources of @a as its shard
 * counts them: only an active agent's count (mc__scales_set). */
static void mc__free_count(mc_engine_t *e, const struct mc__agent *a, const mc_res_t *r, int sign)
{
    if (a->active)
        mc__qty_add(e, e->shards[a->shard].free, r, sign);
}

/* ---- roles -------------------------------------------------------------------------- */

static struct mc__role *mc__role_get(const mc_engine_t *e, const char *name)
{
    int64_t i = mc_idmap_get(&e->role_ids, name);
    return i < 0 ? NULL : e->roles[i];
}

static void mc__role_free(mc_engine_t *e, struct mc__role *r)
{
    if (!r)
        return;
    mc__sorter_fini(e, &r->children);
    mc__sorter_fini(e, &r->fws);
    mc__client_fini(&r->node);
    mc__client_fini(&r->self);
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
    r = mc__zalloc_lines(1, sizeof(*r));
    if (!r || !(r->name = strdup(name)))
        goto out_free;
    int64_t sym = mc_sym_intern(name, strlen(name));
    if (sym < 0)
        goto out_free;
    r->sym = (uint32_t)sym;
    r->parent = parent;
    r->leaf = true;
    r->idx = e->nroles;
    if (mc__client_init(e, &r->node, MC__ROLE_NODE, r, r->name, 1.0) ||
        mc__client_init(e, &r->self, MC__ROLE_SELF, r, r->name, 1.0) ||
        mc__sorter_init(e, &r->children) || mc__sorter_init(e, &r->fws) ||
        mc__sorter_insert(e, &r->children, &r->self))
        goto out_free;
    if (mc__sorter_insert(e, parent ? &parent->children : &e->top, &r->node))
        goto out_free;
    if (mc_idmap_put(&e->role_ids, r->name, e->nroles)) {
        mc__sorter_remove(e, &r->node);
        goto out_free;
    }
    for (struct mc__role *g = r; g; g = g->parent)
        if (g->guarantee.n)
            r->groot = g;
    e->roles[e->nroles++] = r;
    if (parent)
        parent->leaf = false;
    *rc = MC_OK;
    return r;
out_free:
    mc__role_free(e, r);
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
    if (weight > 0 && weight != r->node.weight) {
        r->node.weight = r->self.weight = weight;
        e->views_stale = true; /* drf.c V2: every sorter is sorted again at the next cycle */
    }
    mc__quota_roots(e);
    e->blocked_gen++; /* B1 */
    return MC_OK;
out_dims:
    mc__dims_rollback(e, ndims);
    return rc;
}

/* ---- engine lifetime ---------------------------------------------------------------- */

/* The CPUs this process may run on (its affinity mask: a cgroup cpuset or
 * taskset), or the online CPUs when the mask cannot be read. */
static uint32_t mc__cpus(void)
{
    cpu_set_t set;
    if (!sched_getaffinity(0, sizeof(set), &set) && CPU_COUNT(&set) > 0)
        return (uint32_t)CPU_COUNT(&set);
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n > 0 ? (uint32_t)n : 1;
}

int mc_engine_create(mc_engine_t **out, const struct mc_engine_config *cfg)
{
    mc_engine_t *e = mc__zalloc_lines(1, sizeof(*e));
    if (!e)
        return MC_ENOMEM;
    if (cfg)
        e->cfg = *cfg;
    if (!e->cfg.interval_ns)
        e->cfg.interval_ns = MC_NS_PER_SEC;
    if (!e->cfg.clock)
        e->cfg.clock = mc__monotonic;
    e->nshards = e->cfg.shards;
    if (!e->nshards) {
        long n = sysconf(_SC_NPROCESSORS_ONLN);
        e->nshards = n > 0 ? (uint32_t)n : 1;
    }
    if (e->nshards > MC_ENGINE_MAX_SHARDS) {
        free(e);
        return MC_EINVAL;
    }
    e->nthreads = e->cfg.threads ? e->cfg.threads : mc__cpus();
    if (e->nthreads > e->nshards)
        e->nthreads = e->nshards;
    mc_idmap_init(&e->fw_ids);
    mc_idmap_init(&e->agent_ids);
    mc_idmap_init(&e->role_ids);
    atomic_init(&e->cycle_seq, 0);
    atomic_init(&e->stop, 0);
    /* a client's slot (S > 1) starts at two lines, room for 13 live dims
     * (drf.c mc__slots_fit grows them all when more are live) */
    e->slot_size = MC__SLOT_MIN;
    e->dim_of = malloc(MC_SYM_MAX);
    e->shards = mc__zalloc_lines(e->nshards, sizeof(*e->shards));
    if (!e->dim_of || !e->shards || mc__sorter_init(e, &e->top))
        goto out_free;
    memset(e->dim_of, 0xff, MC_SYM_MAX);
    mc_engine_seed(e, e->cfg.seed);
    /* the well-known scalars always have dimensions, so shares are stable */
    static const uint32_t known[] = {MC_SYM_CPUS, MC_SYM_MEM, MC_SYM_DISK, MC_SYM_GPUS};
    for (uint32_t i = 0; i < 4; i++) {
        e->dim_of[known[i]] = (uint8_t)i;
        e->dim_sym[e->ndims++] = known[i];
    }
    e->last_cycle = mc__now(e);
    e->blocked_gen = 1; /* no agent starts out blocked (B1) */
    if (mc__shards_start(e))
        goto out_free;
    *out = e;
    return MC_OK;
out_free:
    mc__sorter_fini(e, &e->top);
    free(e->dirty);
    free(e->sort_keys);
    free(e->shards);
    free(e->dim_of);
    free(e);
    return MC_ENOMEM;
}

unsigned mc_engine_shards(const mc_engine_t *e)
{
    return e->nshards;
}

unsigned mc_engine_threads(const mc_engine_t *e)
{
    return e->nthreads;
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
        mc__shres_put(a->filters[i].refused);
    mc__shres_put(a->last_refused);
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
    for (uint32_t i = 0; f->roles && i < f->nroles; i++)
        mc__client_fini(&f->roles[i].c);
    free(f->min);
    free(f->roles);
    free(f->id);
    free(f);
}

void mc_engine_destroy(mc_engine_t *e)
{
    if (!e)
        return;
    mc__view_retire(e);
    mc__shards_stop(e);
    for (uint32_t i = 0; i < e->nagent_slots; i++)
        if (e->agents[i])
            mc__agent_free(e->agents[i]);
    for (uint32_t i = 0; i < e->nfws_slots; i++)
        if (e->fws[i])
            mc__fw_free(e->fws[i]);
    for (uint32_t i = 0; i < e->nroles; i++)
        mc__role_free(e, e->roles[i]);
    for (uint32_t k = 0; k < e->nshards; k++) {
        free(e->shards[k].agents);
        free(e->shards[k].cand);
        free(e->shards[k].due);
        free(e->shards[k].touched);
        free(e->shards[k].floored);
        free(e->shards[k].role_ok);
        free(e->shards[k].ok_subtree);
        free(e->shards[k].chunk);
        mc__chunks_free(e->shards[k].spare);
        free(e->shards[k].recs);
        free(e->shards[k].fstart);
    }
    free(e->shards);
    free(e->agents);
    free(e->fws);
    free(e->free_agents.free);
    free(e->free_fws.free);
    free(e->roles);
    mc__sorter_fini(e, &e->top);
    free(e->dirty);
    free(e->sort_keys);
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

/* Returns a free slot of the table @arrp (*@nslots slots in use or freed),
 * reusing a freed one first; or a negative status. The free list always has
 * room for every slot, so giving one back (mc__slot_put) cannot fail. */
static int64_t mc__slot_take(void *arrp, uint32_t *nslots, uint32_t *cap, struct mc__slots *fl)
{
    if (fl->n)
        return fl->free[--fl->n];
    int rc = mc__grow(arrp, cap, *nslots + 1, sizeof(void *));
    if (rc || (rc = mc__grow(&fl->free, &fl->cap, *nslots + 1, sizeof(*fl->free))))
        return rc;
    (*(void ***)arrp)[*nslots] = NULL;
    return (*nslots)++;
}

static void mc__slot_put(struct mc__slots *fl, uint32_t slot)
{
    fl->free[fl->n++] = slot;
}

static unsigned mc__hold_bit(uint32_t fw, uint32_t fr)
{
    return (unsigned)((mc__filter_key(fw, fr) * 0x9e3779b97f4a7c15ull) >> 57); /* 0..127 */
}

static void mc__hold_mark(struct mc__agent *a, uint32_t fw, uint32_t fr)
{
    unsigned b = mc__hold_bit(fw, fr);
    a->hold_bits[b >> 6] |= 1ull << (b & 63);
}

struct mc__hold *mc__hold_find(struct mc__agent *a, uint32_t fw, uint32_t fr)
{
    unsigned b = mc__hold_bit(fw, fr);
    if (!(a->hold_bits[b >> 6] >> (b & 63) & 1))
        return NULL; /* H1 */
    for (uint32_t i = 0; i < a->nholds; i++)
        if (a->holds[i].fw == fw && a->holds[i].fr == fr)
            return &a->holds[i];
    return NULL;
}

struct mc__hold *mc__hold_add(struct mc__agent *a, uint32_t fw, uint32_t fr)
{
    if (mc__grow(&a->holds, &a->capholds, a->nholds + 1, sizeof(*a->holds)))
        return NULL;
    struct mc__hold *h = &a->holds[a->nholds++];
    memset(h, 0, sizeof(*h));
    h->fw = fw;
    h->fr = fr;
    mc__hold_mark(a, fw, fr);
    return h;
}

void mc__hold_del(struct mc__agent *a, struct mc__hold *h)
{
    *h = a->holds[--a->nholds];
    a->hold_bits[0] = a->hold_bits[1] = 0; /* H1: only the holds left */
    for (uint32_t i = 0; i < a->nholds; i++)
        mc__hold_mark(a, a->holds[i].fw, a->holds[i].fr);
}

/* Deletes hold @h of @a if it is empty (E4). */
void mc__hold_gc(struct mc__agent *a, struct mc__hold *h)
{
    if (h->offered.n || h->used.n || h->tasks)
        return;
    mc__hold_fini(h);
    mc__hold_del(a, h);
}

/* ---- agents ----------------------------------------------------------------------------- */

int mc_engine_agent_add(mc_engine_t *e, const char *id, const mc_res_t *total, const char *attrs)
{
    return mc_engine_agent_add_used(e, id, total, attrs, NULL, 0);
}

/* Finds @fw's fwrole for @role, or NULL. */
static struct mc__fwrole *mc__fwrole_get(const mc_engine_t *e, const char *fw, const char *role)
{
    struct mc__fw *f = mc__fw_get(e, fw);
    for (uint32_t i = 0; f && i < f->nroles; i++)
        if (strcmp(f->roles[i].role->name, role) == 0)
            return &f->roles[i];
    return NULL;
}

int mc_engine_agent_add_used(mc_engine_t *e, const char *id, const mc_res_t *total,
                             const char *attrs, const struct mc_agent_use *used, size_t nused)
{
    if (!mc_id_valid(id, strlen(id)) || nused > MC_AGENT_MAX_USES)
        return MC_EINVAL;
    if (mc__agent_get(e, id))
        return MC_EEXIST;
    /* every use names a framework subscribed to the role, and all of them
     * together fit in the total: checked before anything changes */
    mc_res_t free = MC_RES_INIT;
    int rc = mc_res_copy(&free, total);
    for (size_t u = 0; u < nused && rc == MC_OK; u++) {
        if (!mc__fwrole_get(e, used[u].framework, used[u].role))
            rc = MC_ENOENT;
        else
            rc = mc_res_sub(&free, used[u].res);
    }
    if (rc) {
        mc_res_fini(&free);
        return rc;
    }
    uint32_t ndims = e->ndims;
    if ((rc = mc__dims_reserve(e, total)))
        goto out_free;
    for (uint32_t i = 0; i < total->n; i++) {
        const struct mc_res_item *it = &total->items[i];
        if (it->kind == MC_RES_SCALAR &&
            __builtin_add_overflow(e->total[e->dim_of[it->name]], it->v.milli, &(int64_t){0})) {
            rc = MC_ERANGE;
            goto out_dims;
        }
    }
    int64_t slot = mc__slot_take(&e->agents, &e->nagent_slots, &e->capagents, &e->free_agents);
    rc = MC_ENOMEM;
    if (slot < 0)
        goto out_dims;
    struct mc__agent *a = mc__zalloc_lines(1, sizeof(*a));
    if (!a || !(a->id = strdup(id)) || (attrs && !(a->attrs = strdup(attrs))) ||
        mc_res_copy(&a->total, total) ||
        (nused && !(a->holds = calloc(nused, sizeof(*a->holds))))) {
        if (a)
            mc__agent_free(a);
        goto out_slot;
    }
    a->capholds = (uint32_t)nused; /* exactly: most agents keep few holds */
    for (size_t u = 0; u < nused; u++) {
        struct mc__fwrole *fr = mc__fwrole_get(e, used[u].framework, used[u].role);
        struct mc__hold *h = mc__hold_find(a, fr->fw_idx, fr->idx);
        if (!h)
            h = mc__hold_add(a, fr->fw_idx, fr->idx); /* within the capacity grown above */
        if (!h || mc_res_add(&h->used, used[u].res)) {
            mc__agent_free(a);
            goto out_slot;
        }
        h->tasks += used[u].tasks;
    }
    /* the agent goes to the shard with the fewest agents */
    struct mc__shard *sh = &e->shards[0];
    for (uint32_t k = 1; k < e->nshards; k++)
        if (e->shards[k].nagents < sh->nagents)
            sh = &e->shards[k];
    if (mc_idmap_put(&e->agent_ids, a->id, (uint32_t)slot)) {
        mc__agent_free(a);
        goto out_slot;
    }
    if (mc__grow(&sh->agents, &sh->capagents, sh->nagents + 1, sizeof(*sh->agents))) {
        mc_idmap_del(&e->agent_ids, a->id);
        mc__agent_free(a);
        goto out_slot;
    }
    a->free = free;
    a->idx = (uint32_t)slot;
    a->active = true;
    a->shard = sh->id;
    a->spos = sh->nagents;
    sh->agents[sh->nagents++] = (struct mc__sagent){a, true};
    e->agents[slot] = a;
    mc__total_add(e, total, 1);
    mc__free_count(e, a, &a->free, 1);
    e->views_stale = true; /* the cluster total changed every share (drf.c V2) */
    for (uint32_t k = 0; k < a->nholds; k++) {
        struct mc__fw *f = e->fws[a->holds[k].fw];
        f->tasks += a->holds[k].tasks;
        mc__charge(e, &f->roles[a->holds[k].fr], &a->holds[k].used, 1);
    }
    e->pending = true;
    return MC_OK;
out_slot:
    mc__slot_put(&e->free_agents, (uint32_t)slot);
out_dims:
    mc__dims_rollback(e, ndims);
out_free:
    mc_res_fini(&free);
    return rc;
}

/* Withdraws the outstanding offer of hold @h: back to the agent, no filter. */
/* Returns @r from the hold @h's @part (offered or used) to @a's free vector
 * and uncharges it. The free vector is extended first: that is the one step
 * that can fail (out of memory), and then nothing has changed (E1). */
static int mc__hold_return(mc_engine_t *e, struct mc__agent *a, struct mc__hold *h,
                           const mc_res_t *r)
{
    int rc = mc_res_add(&a->free, r); /* cannot overflow: the sum stays within total */
    if (rc)
        return rc;
    mc__free_count(e, a, r, 1);
    a->blocked = false; /* B1: the free vector changed */
    struct mc__fw *f = e->fws[h->fw];
    mc__charge(e, &f->roles[h->fr], r, -1);
    return MC_OK;
}

static int mc__hold_return_offer(mc_engine_t *e, struct mc__agent *a, struct mc__hold *h)
{
    if (!h->offered.n)
        return MC_OK;
    int rc = mc__hold_return(e, a, h, &h->offered);
    if (rc == MC_OK)
        mc_res_clear(&h->offered);
    return rc;
}

/* Tells the caller that @f's outstanding offer on @a is rescinded. */
static void mc__rescind(const mc_engine_t *e, const struct mc__fw *f, const struct mc__agent *a)
{
    if (e->cfg.on_rescind)
        e->cfg.on_rescind(e->cfg.cb_arg, f->id, a->id, f->udata, a->udata);
}

int mc_engine_agent_remove(mc_engine_t *e, const char *id)
{
    struct mc__agent *a = mc__agent_get(e, id);
    if (!a)
        return MC_ENOENT;
    for (uint32_t i = 0; i < a->nholds; i++) {
        struct mc__hold *h = &a->holds[i];
        struct mc__fw *f = e->fws[h->fw];
        if (h->offered.n)
            mc__rescind(e, f, a);
        mc__charge(e, &f->roles[h->fr], &h->offered, -1);
        mc__charge(e, &f->roles[h->fr], &h->used, -1);
        f->tasks -= h->tasks;
    }
    mc__total_add(e, &a->total, -1);
    struct mc__shard *sh = &e->shards[a->shard];
    mc__free_count(e, a, &a->free, -1);
    sh->agents[a->spos] = sh->agents[--sh->nagents];
    sh->agents[a->spos].a->spos = a->spos;
    mc_idmap_del(&e->agent_ids, a->id);
    e->agents[a->idx] = NULL;
    mc__slot_put(&e->free_agents, a->idx);
    mc__agent_free(a);
    e->views_stale = true;
    return MC_OK;
}

int mc_engine_agent_activate(mc_engine_t *e, const char *id, bool active)
{
    struct mc__agent *a = mc__agent_get(e, id);
    if (!a)
        return MC_ENOENT;
    if (active && !a->active)
        e->pending = true;
    mc__free_count(e, a, &a->free, -1);
    a->active = active;
    e->shards[a->shard].agents[a->spos].active = active;
    mc__free_count(e, a, &a->free, 1);
    return MC_OK;
}

int mc_engine_agent_udata(mc_engine_t *e, const char *id, void *udata)
{
    struct mc__agent *a = mc__agent_get(e, id);
    if (!a)
        return MC_ENOENT;
    a->udata = udata;
    return MC_OK;
}

/* Framework role @fr starts (+1) or stops (-1) taking offers in its role. */
static void mc__role_active(mc_engine_t *e, const struct mc__fwrole *fr, int delta)
{
    struct mc__role *r = fr->role;
    e->nactive_fwroles += (uint32_t)delta; /* F1 */
    e->ordered_stale = true;
    r->nactive += (uint32_t)delta;
    r->nactive_default += fr->own_min ? 0 : (uint32_t)delta;
    for (struct mc__role *x = r; x; x = x->parent)
        x->nactive_subtree += (uint32_t)delta;
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
    int64_t slot = mc__slot_take(&e->fws, &e->nfws_slots, &e->capfws, &e->free_fws);
    if (slot < 0)
        return (int)slot;
    struct mc__fw *f = calloc(1, sizeof(*f));
    if (!f) {
        mc__slot_put(&e->free_fws, (uint32_t)slot);
        return MC_ENOMEM;
    }
    rc = MC_ENOMEM;
    if (!(f->id = strdup(id)) || !(f->roles = mc__zalloc_lines(nroles, sizeof(*f->roles))))
        goto out_free;
    if (nmin) {
        if (!(f->min = calloc(nmin, sizeof(*f->min))))
            goto out_free;
        for (f->nmin = 0; f->nmin < nmin; f->nmin++)
            if (mc_res_copy(&f->min[f->nmin], &min_alloc[f->nmin]))
                goto out_free;
    }
    f->idx = (uint32_t)slot;
    for (f->nroles = 0; f->nroles < nroles; f->nroles++) {
        struct mc__fwrole *fr = &f->roles[f->nroles];
        fr->fw = f;
        fr->fw_idx = f->idx;
        fr->idx = f->nroles;
        fr->role = rs[f->nroles];
        fr->own_min = nmin > 0;
        if (mc__client_init(e, &fr->c, MC__FWROLE, fr, f->id, 1.0))
            goto out_free;
    }
    if (mc_idmap_put(&e->fw_ids, f->id, (uint32_t)slot))
        goto out_free;
    for (uint32_t i = 0; i < f->nroles; i++) {
        if (mc__sorter_insert(e, &f->roles[i].role->fws, &f->roles[i].c)) {
            while (i--)
                mc__sorter_remove(e, &f->roles[i].c);
            mc_idmap_del(&e->fw_ids, f->id);
            goto out_free;
        }
    }
    for (uint32_t i = 0; i < f->nroles; i++)
        mc__role_active(e, &f->roles[i], 1);
    e->fws[slot] = f;
    e->pending = true;
    e->blocked_gen++; /* a new candidate everywhere (shard.c B1) */
    return MC_OK;
out_free:
    mc__fw_free(f);
    mc__slot_put(&e->free_fws, (uint32_t)slot);
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
            /* out of memory part-way, what is done stays done and consistent,
             * and removing the framework again finishes the job */
            int rc = mc__hold_return_offer(e, a, h);
            if (rc || (rc = mc__hold_return(e, a, h, &h->used)))
                return rc;
            f->tasks -= h->tasks;
            mc__hold_fini(h);
            mc__hold_del(a, h);
        }
        /* its filters: keys of its pairs are contiguous (E4) */
        uint32_t k = (uint32_t)mc__filter_find(a, mc__filter_key(f->idx, 0));
        while (k < a->nfilters && mc__filter_fw(a->filters[k].key) == f->idx)
            mc__filter_remove(a, k);
    }
    for (uint32_t i = 0; i < f->nroles; i++) {
        mc__sorter_remove(e, &f->roles[i].c);
        if (!f->roles[i].suppressed)
            mc__role_active(e, &f->roles[i], -1);
    }
    mc_idmap_del(&e->fw_ids, f->id);
    e->fws[f->idx] = NULL;
    e->filt_epoch++; /* F1: its filters went, uncounted */
    mc__slot_put(&e->free_fws, f->idx);
    e->blocked_gen++; /* its slot may be reused by a framework without filters (B1) */
    mc__fw_free(f);
    return MC_OK;
}

int mc_engine_framework_udata(mc_engine_t *e, const char *id, void *udata)
{
    struct mc__fw *f = mc__fw_get(e, id);
    if (!f)
        return MC_ENOENT;
    f->udata = udata;
    return MC_OK;
}

/* Suppresses or revives the fwroles of @fw named by @role (all when NULL). */
static int mc__fw_roles(mc_engine_t *e, const char *fw, const char *role, bool suppress)
{
    struct mc__fw *f = mc__fw_get(e, fw);
    if (!f)
        return MC_ENOENT;
    bool found = false;
    for (uint32_t i = 0; i < f->nroles; i++) {
        if (role && strcmp(role, f->roles[i].role->name) != 0)
            continue;
        if (f->roles[i].suppressed != suppress)
            mc__role_active(e, &f->roles[i], suppress ? -1 : 1);
        f->roles[i].suppressed = suppress;
        found = true;
    }
    if (!found)
        return MC_ENOENT;
    e->blocked_gen++; /* B1 */
    e->filt_epoch++;  /* F1: filters voided, or pairs no longer counted */
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
    if ((rc = mc__hold_return(e, a, h, &rest))) {
        mc_res_fini(&rest);
        mc_res_fini(&used);
        return rc;
    }
    mc_res_fini(&rest);
    mc_res_fini(&h->used);
    h->used = used;
    mc_res_clear(&h->offered);
    h->tasks++;
    f->tasks++;
    return MC_OK;
}

/* Installs a filter of hold @h's framework and role on @a, refusing @refused
 * for @duration. The refused vector is shared with the agent's previous one
 * when they are equal. Out of memory, no filter is installed: the offer may
 * come back sooner, which Mesos's semantics allow. */
static void mc__filter_install(mc_engine_t *e, struct mc__agent *a, struct mc__hold *h,
                               uint64_t duration, const mc_res_t *refused)
{
    if (mc__grow(&a->filters, &a->capfilters, a->nfilters + 1, sizeof(*a->filters)))
        return;
    struct mc__shres *sr = a->last_refused;
    if (!sr || !mc_res_equal(&sr->r, refused)) {
        if (!(sr = calloc(1, sizeof(*sr))))
            return;
        if (mc_res_copy(&sr->r, refused)) {
            free(sr);
            return;
        }
        sr->refs = 1; /* the agent's reference */
        mc__shres_put(a->last_refused);
        a->last_refused = sr;
    }
    sr->refs++;
    uint64_t key = mc__filter_key(h->fw, h->fr);
    uint32_t i = (uint32_t)mc__filter_find(a, key + 1); /* after the pair's others (E4) */
    uint64_t expires = mc__now(e) + duration;
    if (!a->nfilters) { /* F1: a fresh summary */
        a->nkeys = 0;
        a->filt_min_exp = UINT64_MAX;
        a->filt_epoch = e->filt_epoch;
    }
    a->nkeys += mc__filter_counts(e, a, i, key);
    if (expires < a->filt_min_exp)
        a->filt_min_exp = expires;
    memmove(&a->filters[i + 1], &a->filters[i], (a->nfilters - i) * sizeof(*a->filters));
    a->nfilters++;
    struct mc__filter *flt = &a->filters[i];
    flt->key = key;
    flt->gen = e->fws[h->fw]->revive_gen;
    flt->expires = expires;
    flt->refused = sr;
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
        rc = mc__hold_return(e, a, h, &h->offered);
        if (rc)
            return rc; /* this offer is still outstanding, with no filter */
        if (duration)
            mc__filter_install(e, a, h, duration, &h->offered);
        mc_res_clear(&h->offered);
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
        if ((rc = mc__hold_return(e, a, h, res))) {
            mc_res_fini(&used);
            return rc;
        }
        mc_res_fini(&h->used);
        h->used = used;
        h->tasks--;
        f->tasks--;
        mc__hold_gc(a, h);
        return MC_OK;
    }
    return MC_EEXCEED;
}

/* ---- cycles and time ------------------------------------------------------------------------ */

int mc_engine_allocate(mc_engine_t *e, struct mc_cycle_stats *stats)
{
    return mc__cycle(e, stats);
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
                if (mc__hold_return_offer(e, a, h)) {
                    i++; /* out of memory: it times out at the next tick instead */
                    continue;
                }
                mc__rescind(e, e->fws[h->fw], a);
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

_Static_assert(offsetof(struct mc__agent, id) == 0, "mc__sorted reads the id first");
_Static_assert(offsetof(struct mc__fw, id) == 0, "mc__sorted reads the id first");
_Static_assert(offsetof(struct mc__agent, hold_bits) + sizeof(uint64_t[2]) <= 128,
               "the hot fields fit two cache lines");

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
            int64_t alloc[MC_ENGINE_MAX_DIMS];
            mc__client_load(e, &f->roles[k].c, alloc);
            double s = mc__share_of(e, alloc, f->roles[k].role->node.weight);
            share = s > share ? s : share;
        }
        struct mc_fw_info info = {f->id, f->udata, &sum[f->idx], share, f->tasks};
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
        struct mc_agent_info info = {a->id, a->udata, &a->total, &a->free, a->active};
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

/* @c holds @want, and no shard's part of a cycle is left in it (drf.c C1). */
static bool mc__alloc_equal(const mc_engine_t *e, const int64_t *want, struct mc__client *c)
{
    int64_t got[MC_ENGINE_MAX_DIMS];
    mc__client_load(e, c, got);
    return memcmp(want, got, e->ndims * sizeof(*got)) == 0 && mc__client_folded(e, c);
}

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
            if (mc__hold_find(a, hd->fw, hd->fr) != hd) /* H1, and one hold per pair */
                MC__FAIL("agent %s: hold of %s not found by its pair", a->id, f->id);
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
    uint32_t nlive = 0; /* e->live lists exactly the dims with a total, ascending */
    for (uint32_t d = 0; d < e->ndims; d++)
        if (total[d] > 0 && (nlive >= e->nlive || e->live[nlive++] != d))
            MC__FAIL("dim %u has a total but is not listed live", d);
    if (nlive != e->nlive)
        MC__FAIL("%u dims listed live, %u have a total", e->nlive, nlive);
    for (uint32_t k = 0; k < e->nshards; k++) {
        int64_t free[MC_ENGINE_MAX_DIMS] = {0};
        for (uint32_t i = 0; i < e->shards[k].nagents; i++) {
            const struct mc__sagent *sa = &e->shards[k].agents[i];
            const struct mc__agent *a = sa->a;
            if (a->shard != k || a->spos != i || sa->active != a->active)
                MC__FAIL("shard %u: its list of agents disagrees with agent %s", k, a->id);
            if (a->active)
                mc__qty_add(e, free, &a->free, 1);
        }
        if (memcmp(free, e->shards[k].free, sizeof(free)))
            MC__FAIL("shard %u: its count of free resources differs from its agents'", k);
    }
    for (uint32_t i = 0; i < e->nfws_slots; i++) {
        struct mc__fw *f = e->fws[i];
        if (!f)
            continue;
        if (fwtasks[i] != f->tasks)
            MC__FAIL("framework %s: task count differs from its holds", f->id);
        for (uint32_t k = 0; k < f->nroles; k++)
            if (!mc__alloc_equal(e, frq[frbase[i] + k], &f->roles[k].c))
                MC__FAIL("framework %s: role %s allocation differs from its holds", f->id,
                         f->roles[k].role->name);
    }
    for (uint32_t r = 0; r < e->nroles; r++) {
        struct mc__role *role = e->roles[r];
        int64_t self[MC_ENGINE_MAX_DIMS] = {0}, node[MC_ENGINE_MAX_DIMS] = {0},
                x[MC_ENGINE_MAX_DIMS];
        uint32_t active = 0, deflt = 0;
        for (uint32_t k = 0; k < role->fws.views[0].n; k++) {
            const struct mc__client *c = role->fws.views[0].all[k]->c;
            const struct mc__fwrole *fr = c->owner;
            mc__client_load(e, c, x);
            for (uint32_t d = 0; d < e->ndims; d++)
                self[d] += x[d];
            active += !fr->suppressed;
            deflt += !fr->suppressed && !fr->own_min;
        }
        for (uint32_t k = 0; k < role->children.views[0].n; k++) {
            mc__client_load(e, role->children.views[0].all[k]->c, x);
            for (uint32_t d = 0; d < e->ndims; d++)
                node[d] += x[d];
        }
        if (!mc__alloc_equal(e, self, &role->self) || !mc__alloc_equal(e, node, &role->node))
            MC__FAIL("role %s: allocation differs from its frameworks", role->name);
        if (active != role->nactive || deflt != role->nactive_default)
            MC__FAIL("role %s: its counts of active frameworks differ from its frameworks",
                     role->name);
        if (role->leaf != (role->children.views[0].n == 1)) /* drf.c mc__role_iter_next */
            MC__FAIL("role %s: %s, and %u entries in its children's view", role->name,
                     role->leaf ? "a leaf" : "not a leaf", role->children.views[0].n);
        /* every view is a well-formed skip list, and one the next cycle
         * does not refresh holds its clients' keys (drf.c V2, R3) */
        for (uint32_t k = 0; k < e->nshards; k++)
            if (!mc__view_ok(e, &role->fws, k) || !mc__view_ok(e, &role->children, k))
                MC__FAIL("role %s: shard %u's view does not hold its clients' keys in order",
                         role->name, k);
    }
    for (uint32_t k = 0; k < e->nshards; k++)
        if (!mc__view_ok(e, &e->top, k))
            MC__FAIL("shard %u's top-level view does not hold its roles' keys in order", k);
out:
    free(frbase);
    mc_res_fini(&acc);
    free(frq);
    free(fwtasks);
    if (rc == MC_OK && size)
        why[0] = '\0';
    return rc;
}
