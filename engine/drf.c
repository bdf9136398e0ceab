/* engine/drf.c: weighted Dominant Resource Fairness, shared by S shards.
 *
 * A client's key is (share, count, name): share = max over scalar names of
 * allocated / cluster total, divided by the client's weight; count = the
 * allocations ever made to it; name breaks the remaining ties. Shares are
 * computed from integers (thousandths), so equal rationals give equal doubles
 * and a tie is decided by count and name, never by rounding.
 *
 * Every shard keeps its own sorted view of every sorter (the role tree's top
 * level, each role's children, each role's frameworks) and walks it without
 * locks. The truth is in the clients' atomic counters, which every shard
 * updates.
 *
 * Invariants:
 *   V1. During a cycle allocations only grow (answers to offers, removals and
 *       finished tasks are applied between cycles), so a view entry, which
 *       holds a key its client had at some earlier moment, is a lower bound of
 *       the client's key now.
 *   V2. Between cycles every view holds the exact keys, sorted, except when
 *       e->views_stale says the cluster total or a weight changed; each shard
 *       refreshes its views at the start of a cycle when that flag is set or
 *       when more than one shard ran the last cycle.
 *   C1. A fwrole client's alloc[] and count change only inside its seqlock
 *       (seq odd) during a cycle, or on the control thread between cycles.
 *   C2. A shard commits an allocation to a fwrole only if the key it read under
 *       the seqlock equals its view entry's key and the entry still sorts no
 *       later than its successor. By V1 every later entry's true key is >= its
 *       view key >= ours, so the framework chosen is the true DRF minimum among
 *       the eligible frameworks of the role at the instant of the commit: the
 *       framework level of a sharded cycle is exactly sequential DRF for some
 *       interleaving of the shards' decisions (tests/stress/test_shards.c).
 *   C3. Role clients are updated with plain atomic adds after the fwrole
 *       commit. A shard validates the role order against fresh role keys before
 *       it commits, so a role can be chosen on a stale key only within the
 *       window of other shards' in-flight commits: at most S-1 offers. The
 *       largest share gap seen this way is the cycle's fairness error
 *       (mc_cycle_stats.fairness_error).
 *
 * Memory orders (seqlock after Boehm, "Can seqlocks get along with programming
 * language memory models?", MSPC 2012):
 *   writer  CAS(seq, s, s+1, acquire); fence(release); adds (relaxed);
 *           store(seq, s+2, release)
 *   reader  s1 = load(seq, acquire); loads (relaxed); fence(acquire);
 *           s2 = load(seq, relaxed); retry unless s1 == s2 and s1 is even
 *   The writer's release fence pairs with the reader's acquire fence: a reader
 *   that saw any of the adds also sees seq != s. The final release store pairs
 *   with the reader's first acquire load. Counters of role clients are plain
 *   relaxed atomics: their values are numbers, they publish nothing.
 */
#include "engine/internal.h"
#include "engine/status.h"

#include <stdlib.h>
#include <string.h>

#define MC__RELAXED memory_order_relaxed

/* ---- keys ------------------------------------------------------------------------- */

double mc__share_of(const mc_engine_t *e, const int64_t *alloc, double weight)
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

void mc__qty(const mc_engine_t *e, int64_t *q, const mc_res_t *r)
{
    memset(q, 0, MC_ENGINE_MAX_DIMS * sizeof(*q));
    for (uint32_t i = 0; i < r->n; i++)
        if (r->items[i].kind == MC_RES_SCALAR)
            q[e->dim_of[r->items[i].name]] += r->items[i].v.milli;
}

void mc__client_load(const mc_engine_t *e, struct mc__client *c, int64_t *alloc)
{
    for (uint32_t d = 0; d < e->ndims; d++)
        alloc[d] = atomic_load_explicit(&c->alloc[d], MC__RELAXED);
}

/* Reads a consistent (alloc, count) of @c: under the seqlock for a fwrole
 * (C1), plainly for a role client. Returns the even seq it read under. */
static uint64_t mc__client_read(const mc_engine_t *e, struct mc__client *c, int64_t *alloc,
                                uint64_t *count)
{
    if (c->kind != MC__FWROLE) {
        mc__client_load(e, c, alloc);
        *count = atomic_load_explicit(&c->count, MC__RELAXED);
        return 0;
    }
    for (;;) {
        uint64_t s1 = atomic_load_explicit(&c->seq, memory_order_acquire); /* pair: writer's end */
        if (s1 & 1) {
            mc__cpu_relax();
            continue;
        }
        mc__client_load(e, c, alloc);
        *count = atomic_load_explicit(&c->count, MC__RELAXED);
        atomic_thread_fence(memory_order_acquire); /* pair: writer's release fence */
        if (atomic_load_explicit(&c->seq, MC__RELAXED) == s1)
            return s1;
    }
}

static int mc__vent_cmp(const struct mc__vent *a, const struct mc__vent *b)
{
    if (a->share != b->share)
        return a->share < b->share ? -1 : 1;
    if (a->count != b->count)
        return a->count < b->count ? -1 : 1;
    int c = strcmp(a->c->name, b->c->name);
    if (c)
        return c;
    return (a->c->kind > b->c->kind) - (a->c->kind < b->c->kind);
}

/* Moves @v to its place in its view after its key changed. Returns true if
 * it moved. */
static bool mc__vent_fix(struct mc__vent *v)
{
    struct mc__view *w = v->view;
    uint32_t i = v->pos, from = i;
    while (i > 0 && mc__vent_cmp(v, w->v[i - 1]) < 0) {
        w->v[i] = w->v[i - 1];
        w->v[i]->pos = i;
        i--;
    }
    while (i + 1 < w->n && mc__vent_cmp(v, w->v[i + 1]) > 0) {
        w->v[i] = w->v[i + 1];
        w->v[i]->pos = i;
        i++;
    }
    w->v[i] = v;
    v->pos = i;
    return i != from;
}

static void mc__vent_set(const mc_engine_t *e, struct mc__vent *v, const int64_t *alloc,
                         uint64_t count)
{
    v->share = mc__share_of(e, alloc, v->c->weight);
    v->count = count;
}

bool mc__vent_refresh(mc_engine_t *e, struct mc__vent *v)
{
    int64_t alloc[MC_ENGINE_MAX_DIMS];
    uint64_t count;
    mc__client_read(e, v->c, alloc, &count);
    double share = mc__share_of(e, alloc, v->c->weight);
    if (share == v->share && count == v->count)
        return false;
    v->share = share;
    v->count = count;
    return mc__vent_fix(v);
}

/* ---- sorters and clients ------------------------------------------------------------ */

int mc__sorter_init(mc_engine_t *e, struct mc__sorter *s)
{
    s->views = calloc(e->nshards, sizeof(*s->views));
    return s->views ? MC_OK : MC_ENOMEM;
}

void mc__sorter_fini(mc_engine_t *e, struct mc__sorter *s)
{
    for (uint32_t k = 0; s->views && k < e->nshards; k++)
        free(s->views[k].v);
    free(s->views);
    s->views = NULL;
}

int mc__client_init(mc_engine_t *e, struct mc__client *c, uint8_t kind, void *owner,
                    const char *name, double weight)
{
    atomic_init(&c->seq, 0);
    for (uint32_t d = 0; d < MC_ENGINE_MAX_DIMS; d++)
        atomic_init(&c->alloc[d], 0);
    atomic_init(&c->count, 0);
    c->kind = kind;
    c->owner = owner;
    c->name = name;
    c->weight = weight;
    c->vents = calloc(e->nshards, sizeof(*c->vents));
    if (!c->vents)
        return MC_ENOMEM;
    for (uint32_t k = 0; k < e->nshards; k++)
        c->vents[k].c = c;
    return MC_OK;
}

void mc__client_fini(struct mc__client *c)
{
    free(c->vents);
    c->vents = NULL;
}

static void mc__view_remove(struct mc__vent *v)
{
    struct mc__view *w = v->view;
    for (uint32_t i = v->pos; i + 1 < w->n; i++) {
        w->v[i] = w->v[i + 1];
        w->v[i]->pos = i;
    }
    w->n--;
    v->view = NULL;
}

int mc__sorter_insert(mc_engine_t *e, struct mc__sorter *s, struct mc__client *c)
{
    for (uint32_t k = 0; k < e->nshards; k++) {
        struct mc__view *w = &s->views[k];
        if (mc__grow(&w->v, &w->cap, w->n + 1, sizeof(*w->v))) {
            while (k--)
                mc__view_remove(&c->vents[k]);
            return MC_ENOMEM;
        }
        struct mc__vent *v = &c->vents[k];
        int64_t alloc[MC_ENGINE_MAX_DIMS];
        uint64_t count;
        mc__client_read(e, c, alloc, &count);
        mc__vent_set(e, v, alloc, count);
        v->view = w;
        v->pos = w->n;
        v->stamp = 0;
        w->v[w->n++] = v;
        mc__vent_fix(v);
    }
    return MC_OK;
}

void mc__sorter_remove(mc_engine_t *e, struct mc__client *c)
{
    for (uint32_t k = 0; k < e->nshards; k++)
        if (c->vents[k].view)
            mc__view_remove(&c->vents[k]);
}

/* ---- between cycles: the control thread changes allocations ------------------------ */

static void mc__client_add(mc_engine_t *e, struct mc__client *c, const int64_t *q, int sign)
{
    for (uint32_t d = 0; d < e->ndims; d++)
        if (q[d])
            atomic_fetch_add_explicit(&c->alloc[d], sign * q[d], MC__RELAXED);
    if (e->views_stale)
        return;
    for (uint32_t k = 0; k < e->nshards; k++)
        mc__vent_refresh(e, &c->vents[k]); /* keeps V2 */
}

/* Adds (sign = +1) or removes (-1) the scalar quantities of @r to/from the
 * fwrole @fr, its role's self and every ancestor's node. Context: control
 * thread, between cycles. Allocation counts are left alone: they count offers
 * made, which only mc__commit() does. */
void mc__charge(mc_engine_t *e, struct mc__fwrole *fr, const mc_res_t *r, int sign)
{
    int64_t q[MC_ENGINE_MAX_DIMS];
    mc__qty(e, q, r);
    mc__client_add(e, &fr->c, q, sign);
    mc__client_add(e, &fr->role->self, q, sign);
    for (struct mc__role *x = fr->role; x; x = x->parent)
        mc__client_add(e, &x->node, q, sign);
}

/* ---- during a cycle ------------------------------------------------------------------ */

static void mc__view_refresh(mc_engine_t *e, struct mc__view *w)
{
    for (uint32_t i = 0; i < w->n; i++) {
        int64_t alloc[MC_ENGINE_MAX_DIMS];
        uint64_t count;
        mc__client_read(e, w->v[i]->c, alloc, &count);
        mc__vent_set(e, w->v[i], alloc, count);
    }
    /* insertion sort: the order is usually almost right */
    for (uint32_t i = 1; i < w->n; i++) {
        struct mc__vent *v = w->v[i];
        uint32_t j = i;
        while (j > 0 && mc__vent_cmp(v, w->v[j - 1]) < 0) {
            w->v[j] = w->v[j - 1];
            j--;
        }
        w->v[j] = v;
    }
    for (uint32_t i = 0; i < w->n; i++)
        w->v[i]->pos = i;
}

void mc__views_refresh(mc_engine_t *e, uint32_t shard)
{
    mc__view_refresh(e, &e->top.views[shard]);
    for (uint32_t r = 0; r < e->nroles; r++) {
        mc__view_refresh(e, &e->roles[r]->children.views[shard]);
        mc__view_refresh(e, &e->roles[r]->fws.views[shard]);
    }
}

static void mc__role_walk(const struct mc__view *w, struct mc__role **out, uint32_t *n,
                          uint32_t shard)
{
    for (uint32_t i = 0; i < w->n; i++) {
        struct mc__client *c = w->v[i]->c;
        struct mc__role *r = c->owner;
        if (c->kind == MC__ROLE_SELF) {
            if (r->nfws)
                out[(*n)++] = r;
        } else if (r->nfw_subtree) {
            mc__role_walk(&r->children.views[shard], out, n, shard);
        }
    }
}

/* The roles to visit in this shard's DRF order: a depth-first walk of the role
 * tree, siblings in view order, a role emitted where its self entry sorts
 * among its children; subtrees without frameworks are skipped. */
void mc__role_order(mc_engine_t *e, uint32_t shard, struct mc__role **out, uint32_t *n)
{
    *n = 0;
    mc__role_walk(&e->top.views[shard], out, n, shard);
}

/* Commits the allocation @q to the fwrole of view entry @v (C1-C3). Returns 0
 * when committed, 1 when the entry's key was stale and it moved (the caller
 * walks on from the same index). Context: the shard that owns @v. */
int mc__commit(mc_engine_t *e, struct mc__shard *sh, struct mc__vent *v, const int64_t *q)
{
    struct mc__client *c = v->c;
    int64_t alloc[MC_ENGINE_MAX_DIMS];
    uint64_t count, s;
    for (;;) {
        s = mc__client_read(e, c, alloc, &count);
        double share = mc__share_of(e, alloc, c->weight);
        if (share != v->share || count != v->count) {
            v->share = share;
            v->count = count;
            if (mc__vent_fix(v))
                return 1; /* no longer first: another shard allocated to it */
        }
        /* pair: readers' acquire load of seq; keeps the adds after the CAS */
        if (atomic_compare_exchange_weak_explicit(&c->seq, &s, s + 1, memory_order_acquire,
                                                  MC__RELAXED))
            break;
    }
    atomic_thread_fence(memory_order_release); /* pair: readers' acquire fence (C1) */
    for (uint32_t d = 0; d < e->ndims; d++)
        if (q[d])
            atomic_fetch_add_explicit(&c->alloc[d], q[d], MC__RELAXED);
    atomic_fetch_add_explicit(&c->count, 1, MC__RELAXED);
    atomic_store_explicit(&c->seq, s + 2, memory_order_release); /* pair: readers' first load */
    for (uint32_t d = 0; d < e->ndims; d++)
        alloc[d] += q[d];
    mc__vent_set(e, v, alloc, count + 1);
    mc__vent_fix(v);

    /* the role clients, with their staleness measured (C3) */
    struct mc__fwrole *fr = c->owner;
    struct mc__client *chain[MC_ID_MAX_LEN / 2 + 2]; /* depth <= 128 */
    uint32_t n = 0;
    chain[n++] = &fr->role->self;
    for (struct mc__role *x = fr->role; x; x = x->parent)
        chain[n++] = &x->node;
    for (uint32_t i = 0; i < n; i++) {
        struct mc__client *rc = chain[i];
        struct mc__vent *rv = &rc->vents[sh->id];
        int64_t before[MC_ENGINE_MAX_DIMS];
        mc__client_load(e, rc, before);
        for (uint32_t d = 0; d < e->ndims; d++)
            if (q[d])
                before[d] = atomic_fetch_add_explicit(&rc->alloc[d], q[d], MC__RELAXED);
        uint64_t rcount = atomic_fetch_add_explicit(&rc->count, 1, MC__RELAXED);
        if (e->nshards > 1) {
            /* C3: how far ahead of the next sibling in line this role was */
            struct mc__view *w = rv->view;
            for (uint32_t k = rv->pos + 1; k < w->n; k++) {
                struct mc__client *sib = w->v[k]->c;
                struct mc__role *sr = sib->owner;
                if (sib->kind == MC__ROLE_SELF ? !sr->nfws : !sr->nfw_subtree)
                    continue; /* nothing to offer to there */
                double gap = mc__share_of(e, before, rc->weight) - w->v[k]->share;
                if (gap > sh->fairness_error)
                    sh->fairness_error = gap;
                break;
            }
        }
        for (uint32_t d = 0; d < e->ndims; d++)
            before[d] += q[d];
        mc__vent_set(e, rv, before, rcount + 1);
        mc__vent_fix(rv);
    }
    return 0;
}
