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
 *       when more than one shard ran the last cycle. With one shard the views
 *       also stay exact through the cycle: each commit rekeys the entries it
 *       changed, except those on the path of a role that is not contested
 *       (C3), whose order decides nothing this cycle: mc__rekey_due() rekeys
 *       them once after the visits (mc_engine_check() asserts exact views
 *       between cycles).
 *   C1. A fwrole client's alloc[] and count change only inside its seqlock
 *       (seq odd) during a cycle, or on the control thread between cycles.
 *   C2. A shard commits an allocation to a fwrole only if the key it read under
 *       the seqlock equals its view entry's key and the entry still sorts no
 *       later than its successor. By V1 every later entry's true key is >= its
 *       view key >= ours, so the framework chosen is the true DRF minimum among
 *       the eligible frameworks of the role at the instant of the commit: the
 *       framework level of a sharded cycle is exactly sequential DRF for some
 *       interleaving of the shards' decisions (tests/stress/test_shards.c).
 *       With one shard the view entry is the client's key (V2), so the
 *       commit uses it without reading the client first.
 *   C3. Role clients are updated in the committing shard's own part (one
 *       writer per part) after the fwrole commit. A shard validates the role
 *       order against fresh role keys before it commits, unless nothing on the
 *       role's path competes (r->contested), so a role can be chosen on a stale
 *       key only within the window of other shards' in-flight commits. The
 *       largest share gap seen this way is the cycle's fairness error
 *       (mc_cycle_stats.fairness_error).
 *
 * Memory orders (seqlock after Boehm, "Can seqlocks get along with programming
 * language memory models?", MSPC 2012):
 *   writer  CAS(seq, s, s+1, acquire); fence(release); stores (relaxed) of
 *           the sums read under s (the CAS shut out every other writer);
 *           store(seq, s+2, release)
 *   reader  s1 = load(seq, acquire); loads (relaxed); fence(acquire);
 *           s2 = load(seq, relaxed); retry unless s1 == s2 and s1 is even
 *   The writer's release fence pairs with the reader's acquire fence: a reader
 *   that saw any of the stores also sees seq != s. The final release store pairs
 *   with the reader's first acquire load. The per-shard parts of role clients
 *   are relaxed atomics with one writer each: their values are numbers, they
 *   publish nothing.
 */
#include "engine/internal.h"
#include "engine/status.h"

#include <sched.h>
#include <stdlib.h>
#include <string.h>

#define MC__RELAXED   memory_order_relaxed
#define MC__SEQ_SPINS 64 /* pauses while a seqlock is held before yielding the core */

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
    memset(q, 0, e->ndims * sizeof(*q)); /* every index read is a dimension < ndims */
    for (uint32_t i = 0; i < r->n; i++)
        if (r->items[i].kind == MC_RES_SCALAR)
            q[e->dim_of[r->items[i].name]] += r->items[i].v.milli;
}

void mc__client_load(const mc_engine_t *e, struct mc__client *c, int64_t *alloc)
{
    if (!c->slots) {
        for (uint32_t d = 0; d < e->ndims; d++)
            alloc[d] = atomic_load_explicit(&c->alloc[d], MC__RELAXED);
        return;
    }
    for (uint32_t d = 0; d < e->ndims; d++)
        alloc[d] = 0;
    for (uint32_t k = 0; k < e->nshards; k++)
        for (uint32_t d = 0; d < e->ndims; d++)
            alloc[d] += atomic_load_explicit(&c->slots[k].alloc[d], MC__RELAXED);
}

static uint64_t mc__client_count(const mc_engine_t *e, struct mc__client *c)
{
    if (!c->slots)
        return atomic_load_explicit(&c->count, MC__RELAXED);
    uint64_t n = 0;
    for (uint32_t k = 0; k < e->nshards; k++)
        n += atomic_load_explicit(&c->slots[k].count, MC__RELAXED);
    return n;
}

/* Adds @q (and @dcount allocations) to shard @k's part of role client @c.
 * Context: shard @k during a cycle, or the control thread between cycles:
 * one writer per slot, so a load and a store suffice. */
static void mc__slot_add(const mc_engine_t *e, struct mc__client *c, uint32_t k, const int64_t *q,
                         int sign, uint64_t dcount)
{
    struct mc__cslot *sl = &c->slots[k];
    for (uint32_t d = 0; d < e->ndims; d++)
        if (q[d])
            atomic_store_explicit(&sl->alloc[d],
                                  atomic_load_explicit(&sl->alloc[d], MC__RELAXED) + sign * q[d],
                                  MC__RELAXED);
    if (dcount)
        atomic_store_explicit(&sl->count, atomic_load_explicit(&sl->count, MC__RELAXED) + dcount,
                              MC__RELAXED);
}

/* Reads a consistent (alloc, count) of @c: under the seqlock for a fwrole
 * (C1), plainly for a role client. Returns the even seq it read under. */
static uint64_t mc__client_read(const mc_engine_t *e, struct mc__client *c, int64_t *alloc,
                                uint64_t *count)
{
    if (c->kind != MC__FWROLE) {
        mc__client_load(e, c, alloc);
        *count = mc__client_count(e, c);
        return 0;
    }
    for (unsigned spins = 0;; spins++) {
        uint64_t s1 = atomic_load_explicit(&c->seq, memory_order_acquire); /* pair: writer's end */
        if (s1 & 1) {
            /* a writer is inside (a few stores); if it stays there, its thread
             * was preempted, as happens with more shards than cores: give it
             * the core rather than spin out the time slice */
            if (spins < MC__SEQ_SPINS)
                mc__cpu_relax();
            else
                sched_yield();
            continue;
        }
        mc__client_load(e, c, alloc);
        *count = atomic_load_explicit(&c->count, MC__RELAXED);
        atomic_thread_fence(memory_order_acquire); /* pair: writer's release fence */
        if (atomic_load_explicit(&c->seq, MC__RELAXED) == s1)
            return s1;
    }
}

static int mc__key_cmp(double sa, uint64_t ca, const struct mc__client *a, double sb, uint64_t cb,
                       const struct mc__client *b)
{
    if (sa != sb)
        return sa < sb ? -1 : 1;
    if (ca != cb)
        return ca < cb ? -1 : 1;
    if (a->name_key != b->name_key)
        return a->name_key < b->name_key ? -1 : 1;
    int c = strcmp(a->name, b->name);
    if (c)
        return c;
    return (a->kind > b->kind) - (a->kind < b->kind);
}

static int mc__vent_cmp(const struct mc__vent *a, const struct mc__vent *b)
{
    return mc__key_cmp(a->share, a->count, a->c, b->share, b->count, b->c);
}

/* ---- skip lists ------------------------------------------------------------------- */

static uint32_t mc__skip_level(struct mc__view *w)
{
    uint64_t x = w->rng += 0x9e3779b97f4a7c15ull; /* splitmix64 */
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
    x ^= x >> 31;
    uint32_t level = 1;
    while (level < MC__SKIP_LEVELS && (x & 3) == 0) { /* p = 1/4 */
        level++;
        x >>= 2;
    }
    return level;
}

/* Fills up[l] with the last node on list l whose key sorts before @v's
 * (NULL: the head). A list whose last node sorts before @v is answered by
 * that node at once: it follows the node the search has reached (x is on
 * every list below its own), so nothing on the list between them can sort
 * after @v's predecessor; a key that moves to the end costs O(levels). */
static void mc__skip_find(struct mc__view *w, const struct mc__vent *v, struct mc__vent **up)
{
    struct mc__vent *x = NULL; /* NULL stands for the head */
    for (int l = (int)w->level - 1; l >= 0; l--) {
        struct mc__vent *t = w->lv[l].tail;
        if (t && t != v && mc__vent_cmp(t, v) < 0) {
            up[l] = x = t;
            continue;
        }
        for (;;) {
            struct mc__vent *nx = x ? x->next[l] : w->lv[l].head;
            if (!nx || mc__vent_cmp(nx, v) >= 0)
                break;
            x = nx;
        }
        up[l] = x;
    }
}

static void mc__skip_link(struct mc__view *w, struct mc__vent *v)
{
    struct mc__vent *up[MC__SKIP_LEVELS];
    while (w->level < v->level) {
        w->lv[w->level].head = w->lv[w->level].tail = NULL;
        w->level++;
    }
    mc__skip_find(w, v, up);
    for (uint32_t l = 0; l < v->level; l++) {
        struct mc__vent **slot = up[l] ? &up[l]->next[l] : &w->lv[l].head;
        v->next[l] = *slot;
        *slot = v;
        if (!v->next[l])
            w->lv[l].tail = v;
    }
    v->prev = up[0];
    if (v->next[0])
        v->next[0]->prev = v;
}

static void mc__skip_unlink(struct mc__view *w, struct mc__vent *v)
{
    struct mc__vent *up[MC__SKIP_LEVELS];
    if (!v->prev) /* the first node is first on each of its lists: no search */
        for (uint32_t l = 0; l < v->level; l++)
            up[l] = NULL;
    else
        mc__skip_find(w, v, up); /* keys are unique: v follows up[l] on each of its lists */
    for (uint32_t l = 0; l < v->level; l++) {
        struct mc__vent **slot = up[l] ? &up[l]->next[l] : &w->lv[l].head;
        *slot = v->next[l];
        if (!v->next[l])
            w->lv[l].tail = up[l];
    }
    if (v->next[0])
        v->next[0]->prev = v->prev;
}

/* Gives @v a new key. Returns true if it moved, i.e. its neighbours on list
 * 0 changed; an entry whose new key still sorts between its neighbours stays
 * where it is on every list. */
static bool mc__vent_rekey(struct mc__vent *v, double share, uint64_t count)
{
    if (share == v->share && count == v->count)
        return false;
    struct mc__vent *p = v->prev, *n = v->next[0];
    if ((!p || mc__key_cmp(p->share, p->count, p->c, share, count, v->c) < 0) &&
        (!n || mc__key_cmp(share, count, v->c, n->share, n->count, n->c) < 0)) {
        v->share = share;
        v->count = count;
        return false;
    }
    mc__skip_unlink(v->view, v);
    v->share = share;
    v->count = count;
    mc__skip_link(v->view, v);
    return true;
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
    return mc__vent_rekey(v, mc__share_of(e, alloc, v->c->weight), count);
}

/* ---- sorters and clients ------------------------------------------------------------ */

int mc__sorter_init(mc_engine_t *e, struct mc__sorter *s)
{
    s->views = mc__zalloc_lines(e->nshards, sizeof(*s->views));
    if (!s->views)
        return MC_ENOMEM;
    for (uint32_t k = 0; k < e->nshards; k++)
        s->views[k].rng = k + 1;
    return MC_OK;
}

void mc__sorter_fini(mc_engine_t *e, struct mc__sorter *s)
{
    for (uint32_t k = 0; s->views && k < e->nshards; k++)
        free(s->views[k].all);
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
    c->name_key = 0;
    for (size_t i = 0; i < 8 && name[i]; i++)
        c->name_key |= (uint64_t)(unsigned char)name[i] << (56 - 8 * i);
    c->weight = weight;
    c->vents = mc__zalloc_lines(e->nshards, sizeof(*c->vents));
    c->slots = NULL;
    if (kind != MC__FWROLE && !(c->slots = mc__zalloc_lines(e->nshards, sizeof(*c->slots)))) {
        free(c->vents);
        c->vents = NULL;
        return MC_ENOMEM;
    }
    if (!c->vents)
        return MC_ENOMEM;
    for (uint32_t k = 0; c->slots && k < e->nshards; k++) {
        for (uint32_t d = 0; d < MC_ENGINE_MAX_DIMS; d++)
            atomic_init(&c->slots[k].alloc[d], 0);
        atomic_init(&c->slots[k].count, 0);
    }
    for (uint32_t k = 0; k < e->nshards; k++)
        c->vents[k].c = c;
    return MC_OK;
}

void mc__client_fini(struct mc__client *c)
{
    free(c->vents);
    free(c->slots);
    c->vents = NULL;
    c->slots = NULL;
}

static void mc__view_remove(struct mc__vent *v)
{
    struct mc__view *w = v->view;
    mc__skip_unlink(w, v);
    w->all[v->idx] = w->all[--w->n];
    w->all[v->idx]->idx = v->idx;
    v->view = NULL;
}

int mc__sorter_insert(mc_engine_t *e, struct mc__sorter *s, struct mc__client *c)
{
    for (uint32_t k = 0; k < e->nshards; k++) {
        struct mc__view *w = &s->views[k];
        if (mc__grow(&w->all, &w->cap, w->n + 1, sizeof(*w->all))) {
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
        v->stamp = 0;
        v->idx = w->n;
        w->all[w->n++] = v;
        v->level = mc__skip_level(w);
        mc__skip_link(w, v);
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
    if (c->slots)
        mc__slot_add(e, c, 0, q, sign, 0); /* no shard runs: slot 0 will do */
    else
        for (uint32_t d = 0; d < e->ndims; d++)
            if (q[d])
                atomic_fetch_add_explicit(&c->alloc[d], sign * q[d], MC__RELAXED);
    if (e->views_stale)
        return;
    for (uint32_t k = 0; k < e->nshards; k++)
        mc__vent_refresh(e, &c->vents[k]); /* keeps V2 */
}

/* The clients on @r's path: its self, then its node and every ancestor's.
 * Returns how many (depth <= 128). */
static uint32_t mc__role_chain(struct mc__role *r, struct mc__client **chain)
{
    uint32_t n = 0;
    chain[n++] = &r->self;
    for (struct mc__role *x = r; x; x = x->parent)
        chain[n++] = &x->node;
    return n;
}

#define MC__CHAIN_MAX (MC_ID_MAX_LEN / 2 + 2)

/* Adds (sign = +1) or removes (-1) the scalar quantities of @r to/from the
 * fwrole @fr, its role's self and every ancestor's node. Context: control
 * thread, between cycles. Allocation counts are left alone: they count offers
 * made, which only mc__commit() does. */
void mc__charge(mc_engine_t *e, struct mc__fwrole *fr, const mc_res_t *r, int sign)
{
    int64_t q[MC_ENGINE_MAX_DIMS];
    mc__qty(e, q, r);
    mc__client_add(e, &fr->c, q, sign);
    struct mc__client *chain[MC__CHAIN_MAX];
    for (uint32_t i = 0, n = mc__role_chain(fr->role, chain); i < n; i++)
        mc__client_add(e, chain[i], q, sign);
}

/* ---- during a cycle ------------------------------------------------------------------ */

static int mc__vent_qcmp(const void *a, const void *b)
{
    return mc__vent_cmp(*(struct mc__vent *const *)a, *(struct mc__vent *const *)b);
}

/* Re-reads every key of @w and rebuilds its lists in one pass over the
 * sorted members (each keeps its level). */
static void mc__view_refresh(mc_engine_t *e, struct mc__view *w)
{
    for (uint32_t i = 0; i < w->n; i++) {
        int64_t alloc[MC_ENGINE_MAX_DIMS];
        uint64_t count;
        mc__client_read(e, w->all[i]->c, alloc, &count);
        mc__vent_set(e, w->all[i], alloc, count);
    }
    if (w->n > 1)
        qsort(w->all, w->n, sizeof(*w->all), mc__vent_qcmp);
    struct mc__vent *last[MC__SKIP_LEVELS] = {0};
    for (uint32_t l = 0; l < w->level; l++)
        w->lv[l].head = NULL;
    for (uint32_t i = 0; i < w->n; i++) {
        struct mc__vent *v = w->all[i];
        v->idx = i;
        v->prev = last[0];
        for (uint32_t l = 0; l < v->level; l++) {
            v->next[l] = NULL;
            if (last[l])
                last[l]->next[l] = v;
            else
                w->lv[l].head = v;
            last[l] = v;
        }
    }
    for (uint32_t l = 0; l < w->level; l++)
        w->lv[l].tail = last[l];
}

/* The shape of @w, as mc_engine_check() asserts it for every view: list 0
 * holds every member once, in key order (by the keys the entries hold), with
 * matching back links, every higher list is in that order too, and every list
 * ends at its tail. With @exact, also V2 (one shard): every entry holds its
 * client's key now. */
bool mc__view_ok(const mc_engine_t *e, const struct mc__view *w, bool exact)
{
    const struct mc__vent *prev = NULL;
    uint32_t n = 0;
    for (const struct mc__vent *v = w->level ? w->lv[0].head : NULL; v; prev = v, v = v->next[0]) {
        if (v->prev != prev || ++n > w->n) /* the order: the loop over every list below */
            return false;
        if (!exact)
            continue;
        int64_t alloc[MC_ENGINE_MAX_DIMS];
        uint64_t count;
        mc__client_read(e, v->c, alloc, &count);
        if (v->share != mc__share_of(e, alloc, v->c->weight) || v->count != count)
            return false;
    }
    for (uint32_t l = 0; l < w->level; l++) {
        const struct mc__vent *last = NULL;
        for (const struct mc__vent *v = w->lv[l].head; v; last = v, v = v->next[l])
            if (l >= v->level || (last && mc__vent_cmp(last, v) >= 0))
                return false;
        if (last != w->lv[l].tail)
            return false;
    }
    return n == w->n;
}

void mc__views_refresh(mc_engine_t *e, uint32_t shard)
{
    mc__view_refresh(e, &e->top.views[shard]);
    for (uint32_t r = 0; r < e->nroles; r++) {
        mc__view_refresh(e, &e->roles[r]->children.views[shard]);
        mc__view_refresh(e, &e->roles[r]->fws.views[shard]);
    }
}

void mc__role_iter_init(struct mc__role_iter *it, mc_engine_t *e, uint32_t shard, uint64_t visit)
{
    it->shard = shard;
    it->visit = visit;
    it->role_ok = e->shards[shard].role_ok;
    it->ok_subtree = e->shards[shard].ok_subtree;
    it->depth = 1;
    it->stack[0] = mc__view_first(&e->top.views[shard]);
}

/* The next role in this shard's DRF order: a depth-first walk of the role
 * tree, siblings in view order, a role yielded where its self entry sorts
 * among its children, subtrees without active frameworks skipped. The walk
 * is lazy, so a visit that gives the agent away early touches few roles.
 * Entries only move right during a cycle (V1), and the walk keeps each
 * level's successor before it looks at an entry, so it never loses one; an
 * entry it meets again (it moved past the walk) is skipped by its stamp.
 * Roles that cannot take anything from this shard this cycle (shard.c,
 * mc__roles_possible) are skipped, and so are subtrees without any other. */
struct mc__role *mc__role_iter_next(struct mc__role_iter *it)
{
    while (it->depth > 0) {
        struct mc__vent *v = it->stack[it->depth - 1];
        if (!v) {
            it->depth--;
            continue;
        }
        it->stack[it->depth - 1] = v->next[0];
        if (v->stamp == it->visit)
            continue;
        v->stamp = it->visit;
        struct mc__role *r = v->c->owner;
        if (v->c->kind == MC__ROLE_SELF) {
            if (r->nactive && it->role_ok[r->idx])
                return r;
        } else if (r->nactive_subtree && it->ok_subtree[r->idx] && it->depth < MC__ROLE_DEPTH) {
            it->stack[it->depth++] = mc__view_first(&r->children.views[it->shard]);
        }
    }
    return NULL;
}

/* Entries of a sorter that can receive offers: role nodes with frameworks in
 * their subtree, self entries of roles with frameworks. */
static uint32_t mc__sorter_live(const mc_engine_t *e, const struct mc__sorter *s)
{
    const struct mc__view *w = &s->views[0];
    uint32_t n = 0;
    for (uint32_t i = 0; i < w->n && n < 2; i++) {
        struct mc__client *c = w->all[i]->c;
        struct mc__role *r = c->owner;
        n += c->kind == MC__ROLE_SELF ? r->nactive > 0 : r->nactive_subtree > 0;
    }
    return n;
}

/* A role is contested when a sorter on its path, its own children's
 * included, has two entries that can receive offers: only then can the order
 * of the keys on its path change a decision. Roles come parents first (a role
 * is created after its ancestors, and none is removed), so one pass computes
 * contested(r) = live2(r's children) || contested(parent), the top level in
 * place of the parent for top-level roles. */
void mc__roles_contested(mc_engine_t *e)
{
    bool top = mc__sorter_live(e, &e->top) > 1;
    for (uint32_t i = 0; i < e->nroles; i++) {
        struct mc__role *r = e->roles[i];
        r->contested =
            mc__sorter_live(e, &r->children) > 1 || (r->parent ? r->parent->contested : top);
    }
}

bool mc__role_path_moved(mc_engine_t *e, struct mc__role *r, uint32_t shard)
{
    struct mc__client *chain[MC__CHAIN_MAX];
    bool moved = false;
    for (uint32_t i = 0, n = mc__role_chain(r, chain); i < n; i++)
        moved |= mc__vent_refresh(e, &chain[i]->vents[shard]);
    return moved;
}

/* One shard: rekeys the path entries of the roles whose commits left them
 * for later (not contested: nothing in this cycle's walk depended on their
 * order), so the views are exact again when the cycle ends (V2). */
void mc__rekey_due(mc_engine_t *e, struct mc__shard *sh)
{
    for (uint32_t i = 0; i < sh->ndue; i++) {
        struct mc__role *r = e->roles[sh->due[i]];
        mc__role_path_moved(e, r, sh->id);
        r->rekey_due = false;
    }
    sh->ndue = 0;
}

/* Commits the allocation @q to the fwrole of view entry @v (C1-C3). Returns 0
 * when committed, 1 when the entry's key was stale and it moved (the caller
 * walks on from the same index). Context: the shard that owns @v. */
int mc__commit(mc_engine_t *e, struct mc__shard *sh, struct mc__vent *v, const int64_t *q)
{
    struct mc__client *c = v->c;
    int64_t alloc[MC_ENGINE_MAX_DIMS];
    uint64_t count, s;
    if (e->nshards == 1) {
        /* C1 with one shard: it is the only writer and nobody reads while the
         * cycle runs, so the view key is current (C2 holds without a check)
         * and the updates need no locked instructions; seq still moves by
         * two, so the protocol's invariant (even when quiescent) holds for the
         * next reader */
        mc__client_load(e, c, alloc);
        count = atomic_load_explicit(&c->count, MC__RELAXED);
        s = atomic_load_explicit(&c->seq, MC__RELAXED);
        atomic_store_explicit(&c->seq, s + 1, MC__RELAXED);
        for (uint32_t d = 0; d < e->ndims; d++)
            if (q[d])
                atomic_store_explicit(&c->alloc[d], alloc[d] += q[d], MC__RELAXED);
        atomic_store_explicit(&c->count, count + 1, MC__RELAXED);
        atomic_store_explicit(&c->seq, s + 2, memory_order_release);
        mc__vent_rekey(v, mc__share_of(e, alloc, c->weight), count + 1);
        goto roles;
    }
    for (;;) {
        s = mc__client_read(e, c, alloc, &count);
        if (mc__vent_rekey(v, mc__share_of(e, alloc, c->weight), count))
            return 1; /* no longer first: another shard allocated to it */
        /* pair: readers' acquire load of seq; keeps the adds after the CAS */
        if (atomic_compare_exchange_weak_explicit(&c->seq, &s, s + 1, memory_order_acquire,
                                                  MC__RELAXED))
            break;
    }
    atomic_thread_fence(memory_order_release); /* pair: readers' acquire fence (C1) */
    /* the CAS made this shard the only writer until seq moves on (C1), and
     * alloc[] and count are what it read under s: plain stores of the sums,
     * no locked adds */
    for (uint32_t d = 0; d < e->ndims; d++)
        if (q[d])
            atomic_store_explicit(&c->alloc[d], alloc[d] += q[d], MC__RELAXED);
    atomic_store_explicit(&c->count, count + 1, MC__RELAXED);
    atomic_store_explicit(&c->seq, s + 2, memory_order_release); /* pair: readers' first load */
    mc__vent_rekey(v, mc__share_of(e, alloc, c->weight), count + 1);

roles:;
    /* the role clients, with their staleness measured (C3) */
    struct mc__fwrole *fr = c->owner;
    struct mc__role *role = fr->role;
    struct mc__client *chain[MC__CHAIN_MAX];
    uint32_t n = mc__role_chain(role, chain);
    if (!role->contested && e->nshards == 1 && !role->rekey_due) {
        role->rekey_due = true; /* rekeyed once when the visits end (V2) */
        sh->due[sh->ndue++] = role->idx;
    }
    for (uint32_t i = 0; i < n; i++) {
        struct mc__client *rc = chain[i];
        struct mc__vent *rv = &rc->vents[sh->id];
        mc__slot_add(e, rc, sh->id, q, 1, 1);
        if (!role->contested)
            continue; /* no sibling on its path competes: its key orders nothing this
                       * cycle; mc__rekey_due() (one shard) or the next cycle's refresh
                       * (several) makes the views exact again (V2) */
        if (e->nshards == 1) {
            mc__vent_refresh(e, rv); /* one slot: cheap, and keeps V2 */
            continue;
        }
        int64_t now[MC_ENGINE_MAX_DIMS];
        mc__client_load(e, rc, now);
        /* C3: how far ahead of the next sibling in line this role was */
        for (struct mc__vent *sv = rv->next[0]; sv; sv = sv->next[0]) {
            struct mc__role *sr = sv->c->owner;
            if (sv->c->kind == MC__ROLE_SELF ? !sr->nactive : !sr->nactive_subtree)
                continue; /* nothing to offer to there */
            int64_t before[MC_ENGINE_MAX_DIMS];
            for (uint32_t d = 0; d < e->ndims; d++)
                before[d] = now[d] - q[d];
            double gap = mc__share_of(e, before, rc->weight) - sv->share;
            if (gap > sh->fairness_error)
                sh->fairness_error = gap;
            break;
        }
        mc__vent_rekey(rv, mc__share_of(e, now, rc->weight), mc__client_count(e, rc));
    }
    return 0;
}
