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
 * locks. With one shard this is sequential DRF. With S > 1 the shards decide
 * at the same time from one snapshot of the shares, the allocations as the
 * cycle found them, plus what each shard itself allocated since, counted as
 * if every shard had allocated alike from its own agents. No shard reads
 * during a cycle what another one writes, so shards do not wait for, retry
 * against or take cache lines from each other.
 *
 * Invariants:
 *   C1. A client's alloc[] and count change during a cycle only with one
 *       shard (its commits); with S > 1, shard k adds only to the client's
 *       slots[k], and when every shard is done the control thread adds the
 *       slots into alloc[] and count and zeroes them (mc__fold): between
 *       cycles every slot is zero and alloc[] is exact.
 *   V1. During a cycle allocations only grow (answers to offers, removals and
 *       finished tasks are applied between cycles), so keys only grow and
 *       entries only move towards the end of their lists.
 *   V2. Shard k's key of a client is (mc__vent_key): share = max over names d
 *       of (alloc[d] + slots[k].alloc[d] * free[d] / free_k[d]) / total[d]
 *       (a slot holds the live dims only, by their index in e->live),
 *       divided by the weight, where free and free_k are the free units of d
 *       on the active agents of the cluster and of shard k when the cycle
 *       started (mc__scales_set), raised to the entry's floor (shard.c Q5);
 *       count = count + slots[k].count.
 *       With one shard, and between cycles, this is the exact key. Every view
 *       holds its shard's keys, sorted: each commit rekeys what it changed,
 *       except a role's node or self entry that is not `ordered` (no other
 *       entry of its sorter can receive offers this cycle, so its key orders
 *       nothing the walk reads: mc__roles_ordered), rekeyed once after the
 *       visits with one shard (mc__rekey_due) and by the refresh with several
 *       (R2). With several shards, entries keep the keys they sort by between
 *       cycles, and the sorters whose keys changed are refreshed when the
 *       next cycle starts.
 *   R1. Between cycles e->dirty lists each sorter the next cycle refreshes,
 *       once (sorter->dirty), and has room for every sorter. With S > 1 the
 *       control thread lists the sorter of every client whose allocation
 *       changed (mc__client_add), of every client a shard allocated to and
 *       of every node a shard gave a floor (mc__fold, after the cycle), if
 *       it has more than one member (R4); with
 *       any S, the next cycle lists every sorter when the cluster total or a
 *       weight changed (e->views_stale).
 *   R2. When a cycle starts the control thread re-reads every key of each
 *       listed sorter and sorts it once, while the workers wake
 *       (mc__views_sort: the keys are exact then, so every shard's order is
 *       the same), and each shard relinks its view of every listed sorter
 *       in that order (mc__views_refresh), and of no other; after the cycle
 *       the list is emptied (mc__views_done) before the fold lists the next
 *       cycle's sorters.
 *   R3. So between cycles every entry of a sorter that is not listed holds
 *       its client's key (and no floor), but for R4. mc_engine_check()
 *       checks every view's shape after every command, and R3's keys.
 *   R4. A sorter with one member is not listed (mc__client_mark): its
 *       entries order nothing, so their keys may be old (a key is compared
 *       only with another entry of its view, and a commit computes its own
 *       anew). When a second member joins, each view's first one is rekeyed
 *       before the newcomer is linked (mc__sorter_insert). With a role per
 *       framework (the quota benchmark: 3,000 roles) this spares each shard
 *       the refresh of two one-member views per role.
 *   C2. A commit goes to the first eligible entry of the shard's view: with one
 *       shard the DRF minimum; with S > 1 the minimum by the shard's estimates.
 *       Shard k's estimate of a client differs from its true share at the
 *       cycle's end by what the other shards allocated to it, less what the
 *       scale supposed; mc__fold() reports the largest such difference over
 *       the clients each shard allocated to (mc_cycle_stats.fairness_error).
 *       When the shards' agents are alike and so are the frameworks' answers
 *       on them, the estimates are right on average; otherwise a cycle can
 *       give a client up to about one shard's worth of its offers more or
 *       less than sequential DRF, and the next cycle starts from the true
 *       shares (docs/engine.md, "Fairness across shards").
 *
 * Memory orders: none in this file. alloc[] and count are written by the
 * control thread between cycles or by the only shard, slots[k] by shard k
 * during a cycle and the control thread after it; e->dirty and the sorters'
 * dirty flags by the control thread between cycles, which shards only read;
 * the cycle's start (the release store of cycle_seq, the workers' acquire
 * load) and its end (the release store of each shard's done, the control
 * thread's acquire load; shard.c S2) order every access from two threads.
 */
#include "engine/internal.h"
#include "engine/status.h"

#include <math.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

/* ---- keys ------------------------------------------------------------------------- */

/* Name @d's share of @a allocated units: the one expression every share is
 * made of, so that shares computed in different passes agree to the bit. */
static inline double mc__dim_share(const mc_engine_t *e, uint32_t d, int64_t a)
{
    return a > 0 ? (double)a / (double)e->total[d] : 0;
}

/* The share of @alloc, plus @part (NULL: none; by live index, a slot's)
 * counted @scale per unit (V2): max over names of alloc / total + part *
 * scale, / @weight. With no part, the exact share; a part of zero adds
 * exactly nothing. */
static inline __attribute__((always_inline)) double
mc__share_plus(const mc_engine_t *e, const int64_t *alloc, const int64_t *part, const double *scale,
               double weight)
{
    double s = 0;
    for (uint32_t i = 0; i < e->nlive; i++) {
        uint32_t d = e->live[i];
        double x = mc__dim_share(e, d, alloc[d]);
        if (part && part[i] > 0)
            x += (double)part[i] * scale[d];
        if (x > s)
            s = x;
    }
    return s / weight;
}

double mc__share_of(const mc_engine_t *e, const int64_t *alloc, double weight)
{
    return mc__share_plus(e, alloc, NULL, NULL, weight);
}

void mc__qty(const mc_engine_t *e, int64_t *q, const mc_res_t *r)
{
    /* every dimension a caller reads is < ndims. Zeroed with plain stores
     * the loads below can be forwarded from: the C library's memset of a
     * few bytes may use a masked vector store, which the loop's read of q[]
     * then waits on until it retires (11 % of a churn cycle). A loop that
     * stores zeros is such a call too, unless its stores are volatile. */
    for (uint32_t d = 0; d < e->ndims; d++)
        ((volatile int64_t *)q)[d] = 0;
    for (uint32_t i = 0; i < r->n; i++)
        if (r->items[i].kind == MC_RES_SCALAR)
            q[e->dim_of[r->items[i].name]] += r->items[i].v.milli;
}

/* Context: between cycles, or a cycle's only shard (C1). */
void mc__client_load(const mc_engine_t *e, const struct mc__client *c, int64_t *alloc)
{
    memcpy(alloc, c->alloc, e->ndims * sizeof(*alloc));
}

/* The shard of view entry @v. */
static uint32_t mc__vent_shard(const struct mc__vent *v)
{
    return (uint32_t)(v - v->c->vents);
}

/* @c's exact key (V2): its share and count without any shard's part.
 * Context: between cycles, a cycle's only shard, or any shard while every
 * part is zero (C1). */
static void mc__client_key(const mc_engine_t *e, const struct mc__client *c, double *share,
                           uint64_t *count)
{
    *share = mc__share_of(e, c->alloc, c->weight);
    *count = c->count;
}

/* @v's shard's key of its client (V2). Context: that shard during a cycle,
 * when its part has room for every live dim (mc__slots_fit). Between
 * cycles every part is zero (C1) and mc__client_key() gives the same key
 * without reading a part, which may have room for fewer dims than are live
 * by then. */
static inline __attribute__((always_inline)) void
mc__vent_key(const mc_engine_t *e, const struct mc__vent *v, double *share, uint64_t *count)
{
    const struct mc__client *c = v->c;
    if (!c->slots) {
        mc__client_key(e, c, share, count);
        return;
    }
    const struct mc__shard *sh = &e->shards[mc__vent_shard(v)];
    const struct mc__cslot *sl = mc__slot(e, c, sh->id);
    *share = mc__share_plus(e, c->alloc, sl->alloc, sh->scale, c->weight);
    if (sl->floor > *share)
        *share = sl->floor; /* a bound this shard learnt otherwise (shard.c Q5) */
    *count = c->count + sl->count;
}

/* A share's IEEE 754 bits as an unsigned integer. Shares are never
 * negative, -0 or NaN (mc__share_plus starts from +0 and only adds and
 * divides by a weight > 0), and such doubles order like their bits: one
 * integer compare instead of a double compare and its unordered case. */
static inline uint64_t mc__share_bits(double s)
{
    uint64_t b;
    memcpy(&b, &s, sizeof(b));
    return b;
}

/* Compares key (@sa, @ca) of @a's client with (@sb, @cb) of @b's. */
static int mc__key_cmp(double sa, uint64_t ca, const struct mc__vent *a, double sb, uint64_t cb,
                       const struct mc__vent *b)
{
    uint64_t xa = mc__share_bits(sa), xb = mc__share_bits(sb);
    if (xa != xb)
        return xa < xb ? -1 : 1;
    if (ca != cb)
        return ca < cb ? -1 : 1;
    if (a->name_key != b->name_key) /* ties of share and count are common: no client line */
        return a->name_key < b->name_key ? -1 : 1;
    int c = strcmp(a->c->name, b->c->name);
    if (c)
        return c;
    return (a->c->kind > b->c->kind) - (a->c->kind < b->c->kind);
}

static int mc__vent_cmp(const struct mc__vent *a, const struct mc__vent *b)
{
    return mc__key_cmp(a->share, a->count, a, b->share, b->count, b);
}

static inline bool mc__vent_less(const struct mc__vent *a, const struct mc__vent *b)
{
    return mc__vent_cmp(a, b) < 0;
}

/* ---- skip lists ------------------------------------------------------------------- */

#define MC__SMALL_VIEW 8 /* members whose entries all go on list 0 alone */

/* A new member's level. In a view of up to MC__SMALL_VIEW members it is 1,
 * so that a small view (the top level's few roles, a role's children) is a
 * sorted doubly linked list while it stays small, which mc__list_move()
 * rekeys without a search (w->level == 1). */
static uint32_t mc__skip_level(struct mc__view *w)
{
    if (w->n <= MC__SMALL_VIEW)
        return 1;
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
        if (t && t != v && mc__vent_less(t, v)) {
            up[l] = x = t;
            continue;
        }
        for (;;) {
            struct mc__vent *nx = x ? x->next[l] : w->lv[l].head;
            if (!nx || !mc__vent_less(nx, v))
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
    /* the first node is first on each of its lists: no search, and its
     * predecessor is the head on each (read as NULL below, not stored in
     * up[]: the compiler makes a loop of NULL stores a memset call, whose
     * masked vector store the reads of up[] then wait on; mc__qty). On
     * list 0 the predecessor is v->prev: a node on list 0 alone (3 in 4)
     * needs no search either. */
    struct mc__vent *up[MC__SKIP_LEVELS];
    bool first = !v->prev;
    if (!first && v->level > 1)
        mc__skip_find(w, v, up); /* keys are unique: v follows up[l] on each of its lists */
    for (uint32_t l = 0; l < v->level; l++) {
        struct mc__vent *u = first ? NULL : l ? up[l] : v->prev;
        struct mc__vent **slot = u ? &u->next[l] : &w->lv[l].head;
        *slot = v->next[l];
        if (!v->next[l])
            w->lv[l].tail = u;
    }
    if (v->next[0])
        v->next[0]->prev = v->prev;
}

/* Moves @v, whose key changed, to its place in @w, a view whose entries
 * are all on list 0 alone: a walk from where it was, forward when its key
 * grew (always, during a cycle: V1), backward otherwise; a few steps in a
 * view that small. */
static void mc__list_move(struct mc__view *w, struct mc__vent *v)
{
    struct mc__vent *p = v->prev, *n = v->next[0];
    *(p ? &p->next[0] : &w->lv[0].head) = n;
    *(n ? &n->prev : &w->lv[0].tail) = p;
    if (n && mc__vent_less(n, v)) {
        for (p = n; (n = p->next[0]) && mc__vent_less(n, v);)
            p = n;
    } else {
        for (; p && mc__vent_less(v, p); p = p->prev)
            n = p;
    }
    v->prev = p;
    v->next[0] = n;
    *(p ? &p->next[0] : &w->lv[0].head) = v;
    *(n ? &n->prev : &w->lv[0].tail) = v;
}

/* Gives @v the key (@share, @count). An entry whose new key still sorts
 * between its neighbours stays where it is on every list. */
static void mc__vent_rekey(struct mc__vent *v, double share, uint64_t count)
{
    if (share == v->share && count == v->count)
        return;
    struct mc__vent *p = v->prev, *n = v->next[0];
    if ((!p || mc__key_cmp(p->share, p->count, p, share, count, v) < 0) &&
        (!n || mc__key_cmp(share, count, v, n->share, n->count, n) < 0)) {
        v->share = share;
        v->count = count;
        return;
    }
    if (v->view->level == 1) {
        v->share = share;
        v->count = count;
        mc__list_move(v->view, v);
        return;
    }
    mc__skip_unlink(v->view, v);
    v->share = share;
    v->count = count;
    mc__skip_link(v->view, v);
}

/* Rekeys @v from its client (V2). */
static void mc__vent_refresh(mc_engine_t *e, struct mc__vent *v)
{
    double share;
    uint64_t count;
    mc__vent_key(e, v, &share, &count);
    mc__vent_rekey(v, share, count);
}

/* ---- sorters and clients ------------------------------------------------------------ */

int mc__sorter_init(mc_engine_t *e, struct mc__sorter *s)
{
    s->dirty = false;
    s->order = NULL;
    s->caporder = 0;
    /* room in the refresh list for every sorter, so that listing one never fails (R1) */
    if (mc__grow(&e->dirty, &e->capdirty, e->nsorters + 1, sizeof(*e->dirty)))
        return MC_ENOMEM;
    s->views = mc__zalloc_lines(e->nshards, sizeof(*s->views));
    if (!s->views)
        return MC_ENOMEM;
    e->nsorters++;
    for (uint32_t k = 0; k < e->nshards; k++)
        s->views[k].rng = k + 1;
    return MC_OK;
}

void mc__sorter_fini(mc_engine_t *e, struct mc__sorter *s)
{
    if (!s->views)
        return;
    for (uint32_t k = 0; k < e->nshards; k++)
        free(s->views[k].all);
    free(s->views);
    free(s->order);
    s->order = NULL;
    s->views = NULL;
    e->nsorters--;
}

/* Lists the sorter of @c (if it is in one) for the next cycle's refresh
 * (R1), unless @c is its only member (R4). Context: control thread, between
 * cycles. Never fails: e->dirty has room for every sorter. */
static void mc__client_mark(mc_engine_t *e, const struct mc__client *c)
{
    struct mc__sorter *s = c->sorter;
    if (!s || s->dirty || s->views[0].n < 2)
        return;
    s->dirty = true;
    e->dirty[e->ndirty++] = s;
}

int mc__client_init(mc_engine_t *e, struct mc__client *c, uint8_t kind, void *owner,
                    const char *name, double weight)
{
    memset(c->alloc, 0, sizeof(c->alloc));
    c->count = 0;
    c->kind = kind;
    c->ordered = false; /* set by mc__roles_ordered() */
    c->owner = owner;
    c->name = name;
    c->sorter = NULL;
    uint64_t name_key = 0;
    for (size_t i = 0; i < 8 && name[i]; i++)
        name_key |= (uint64_t)(unsigned char)name[i] << (56 - 8 * i);
    c->weight = weight;
    c->vents = mc__zalloc_lines(e->nshards, sizeof(*c->vents));
    c->slots = NULL; /* C1: a part per shard when there are several (zeroed) */
    if (e->nshards > 1 && !(c->slots = mc__zalloc_lines(e->nshards, e->slot_size))) {
        free(c->vents);
        c->vents = NULL;
        return MC_ENOMEM;
    }
    if (!c->vents)
        return MC_ENOMEM;
    for (uint32_t k = 0; k < e->nshards; k++) {
        c->vents[k].c = c;
        c->vents[k].name_key = name_key;
    }
    return MC_OK;
}

void mc__client_fini(struct mc__client *c)
{
    free(c->vents);
    free(c->slots);
    c->vents = NULL;
    c->slots = NULL;
}

/* Every client (roles' nodes and selves, frameworks' fwroles) into @out,
 * when not NULL; returns how many there are. */
static uint32_t mc__clients(mc_engine_t *e, struct mc__client **out)
{
    uint32_t n = 0;
    for (uint32_t r = 0; r < e->nroles; r++) {
        if (out) {
            out[n] = &e->roles[r]->node;
            out[n + 1] = &e->roles[r]->self;
        }
        n += 2;
    }
    for (uint32_t f = 0; f < e->nfws_slots; f++)
        for (uint32_t i = 0; e->fws[f] && i < e->fws[f]->nroles; i++, n++)
            if (out)
                out[n] = &e->fws[f]->roles[i].c;
    return n;
}

/* C1, S > 1, on the control thread before a cycle: gives every client's
 * slots room for the dims live now. Every slot is zero between cycles, so
 * new zeroed ones replace them; all or nothing (MC_ENOMEM: the old ones
 * stay, and so does the room they have). */
int mc__slots_fit(mc_engine_t *e)
{
    if (e->nshards == 1 || e->nlive <= mc__slot_dims(e))
        return MC_OK;
    size_t head = offsetof(struct mc__cslot, alloc);
    size_t size = (head + e->nlive * sizeof(int64_t) + 63) & ~(size_t)63;
    size = size < MC__SLOT_MIN ? MC__SLOT_MIN : size;
    uint32_t n = mc__clients(e, NULL);
    struct mc__client **cs = malloc((n ? n : 1) * sizeof(*cs));
    char **fresh = calloc(n ? n : 1, sizeof(*fresh));
    int rc = cs && fresh ? MC_OK : MC_ENOMEM;
    for (uint32_t i = 0; i < n && rc == MC_OK; i++)
        if (!(fresh[i] = mc__zalloc_lines(e->nshards, size)))
            rc = MC_ENOMEM;
    if (rc == MC_OK) {
        mc__clients(e, cs);
        for (uint32_t i = 0; i < n; i++) {
            free(cs[i]->slots);
            cs[i]->slots = fresh[i];
            fresh[i] = NULL;
        }
        e->slot_size = size;
    }
    for (uint32_t i = 0; fresh && i < n; i++)
        free(fresh[i]);
    free(fresh);
    free(cs);
    return rc;
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
    if (mc__grow(&e->sort_keys, &e->capsort, 2 * (s->views[0].n + 1), sizeof(*e->sort_keys)) ||
        (e->nshards > 1 && mc__grow(&s->order, &s->caporder, s->views[0].n + 1, sizeof(*s->order))))
        return MC_ENOMEM;
    for (uint32_t k = 0; k < e->nshards; k++) {
        struct mc__view *w = &s->views[k];
        if (mc__grow(&w->all, &w->cap, w->n + 1, sizeof(*w->all))) {
            while (k--)
                mc__view_remove(&c->vents[k]);
            return MC_ENOMEM;
        }
        if (w->n == 1) { /* R4: the sole member's key may be old; now it orders */
            struct mc__vent *o = w->all[0];
            mc__client_key(e, o->c, &o->share, &o->count);
        }
        struct mc__vent *v = &c->vents[k];
        mc__client_key(e, c, &v->share, &v->count);
        v->view = w;
        v->stamp = 0;
        v->idx = w->n;
        w->all[w->n++] = v;
        v->level = mc__skip_level(w);
        mc__skip_link(w, v);
    }
    c->sorter = s;
    return MC_OK;
}

void mc__sorter_remove(mc_engine_t *e, struct mc__client *c)
{
    for (uint32_t k = 0; k < e->nshards; k++)
        if (c->vents[k].view)
            mc__view_remove(&c->vents[k]);
    c->sorter = NULL;
}

/* ---- between cycles: the control thread changes allocations ------------------------ */

static void mc__client_add(mc_engine_t *e, struct mc__client *c, const int64_t *q, int sign)
{
    for (uint32_t d = 0; d < e->ndims; d++)
        c->alloc[d] += sign * q[d];
    /* keeps V2 with one shard; with several, the next cycle refreshes the
     * client's sorter (R1), so its entries keep the keys they sort by until then */
    if (e->nshards > 1)
        mc__client_mark(e, c);
    else if (!e->views_stale)
        mc__vent_refresh(e, &c->vents[0]);
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

#define MC__SORT_RUN 16 /* runs sorted by insertion before the merges */

/* The order of mc__key_cmp(), on keys copied out of their entries; the
 * entries themselves settle ties of share, count and name_key. */
static inline bool mc__skey_less(const struct mc__skey *a, const struct mc__skey *b)
{
    bool ls = a->share < b->share, es = a->share == b->share;
    bool lc = a->count < b->count, ec = a->count == b->count;
    bool ln = a->name_key < b->name_key, en = a->name_key == b->name_key;
    if (__builtin_expect(es & ec & en, 0)) /* names alike in their first 8 bytes */
        return mc__vent_less(a->v, b->v);
    return ls | (es & (lc | (ec & ln)));
}

/* Sorts @a[0..@n) by key, with @tmp room for @n more: runs of MC__SORT_RUN
 * by insertion, then merged pairwise, back and forth between the two
 * arrays. O(n log n) compares for any input, each inlined on keys side by
 * side (qsort's call per compare, then a compare that read two entries,
 * were most of R2's sort); every key is unique (mc__key_cmp), so every
 * correct sort gives the same order. */
static void mc__skeys_sort(struct mc__skey *a, struct mc__skey *tmp, uint32_t n)
{
    for (uint32_t lo = 0; lo < n; lo += MC__SORT_RUN) {
        uint32_t hi = n - lo > MC__SORT_RUN ? lo + MC__SORT_RUN : n;
        for (uint32_t i = lo + 1; i < hi; i++) {
            struct mc__skey x = a[i];
            uint32_t k = i;
            for (; k > lo && mc__skey_less(&x, &a[k - 1]); k--)
                a[k] = a[k - 1];
            a[k] = x;
        }
    }
    struct mc__skey *src = a, *dst = tmp;
    for (uint64_t w = MC__SORT_RUN; w < n; w *= 2) {
        for (uint64_t lo = 0; lo < n; lo += 2 * w) {
            uint64_t mid = n - lo > w ? lo + w : n, hi = n - lo > 2 * w ? lo + 2 * w : n;
            uint64_t i = lo, j = mid, k = lo;
            if (mid == hi || !mc__skey_less(&src[mid], &src[mid - 1])) {
                /* in order already (keys that changed little since the
                 * last sort): copied, not merged */
                memcpy(dst + lo, src + lo, (hi - lo) * sizeof(*dst));
                continue;
            }
            /* without a branch on the compare, whose outcome is a coin toss
             * on keys in no order: a mispredicted branch a step was most of
             * the merges' time */
            while (i < mid && j < hi) {
                bool right = mc__skey_less(&src[j], &src[i]);
                dst[k++] = right ? src[j] : src[i];
                j += right;
                i += !right;
            }
            while (i < mid)
                dst[k++] = src[i++];
            while (j < hi)
                dst[k++] = src[j++];
        }
        struct mc__skey *t = src;
        src = dst;
        dst = t;
    }
    if (src != a)
        memcpy(a, src, n * sizeof(*a));
}

/* ---- refreshing views (R1, R2) ---------------------------------------------------- */

#define MC__AHEAD 16 /* entries whose lines a refresh asks for ahead of the one it reads */
#define MC__STAGE 4  /* views between the steps of mc__views_refresh()'s prefetches */

/* Re-reads every key of @s's view of shard 0 and sorts its members (R2);
 * with S > 1 copies them, in that order and with their keys, to the
 * sorter's order for the other shards. Context: the control thread when a
 * cycle starts, after it woke the workers and before it publishes
 * sorted_seq, when every shard's part of every client is zero (C1), so each
 * key is its client's exact one (V2) and the same in every shard's view:
 * the one order every shard's view then takes (mc__view_relink). Entries
 * and clients lie anywhere: their lines are asked for MC__AHEAD entries
 * early. */
static void mc__sorter_sort(mc_engine_t *e, struct mc__sorter *s)
{
    struct mc__view *w = &s->views[0];
    if (!w->n) /* listed with every sorter (views_stale); nothing may be allocated yet */
        return;
    /* sort_keys and order have room for every member: mc__sorter_insert */
    struct mc__skey *keys = e->sort_keys;
    for (uint32_t i = 0; i < w->n; i++) {
        if (i + MC__AHEAD < w->n)
            __builtin_prefetch(w->all[i + MC__AHEAD], 1);
        if (i + MC__AHEAD / 2 < w->n) { /* its entry has arrived by now */
            const struct mc__client *c = w->all[i + MC__AHEAD / 2]->c;
            __builtin_prefetch(&c->weight);
            __builtin_prefetch(&c->count);
        }
        struct mc__vent *v = w->all[i];
        mc__client_key(e, v->c, &v->share, &v->count);
        keys[i] = (struct mc__skey){mc__share_bits(v->share), v->count, v->name_key, v};
    }
    mc__skeys_sort(keys, keys + w->n, w->n);
    for (uint32_t i = 0; i < w->n; i++) {
        struct mc__vent *v = w->all[i] = keys[i].v;
        if (e->nshards > 1)
            s->order[i] = (struct mc__sorted){v->c, v->share, v->count};
    }
}

/* Shard @shard's view of @s in the order mc__sorter_sort() gave it, with
 * the same keys, its lists rebuilt in one pass (each entry keeps its
 * level), without floors. Other shards' views are not read: shard 0's
 * takes the order it was sorted in, the others the sorter's copy. */
static void mc__view_relink(struct mc__sorter *s, uint32_t shard)
{
    struct mc__view *w = &s->views[shard];
    for (uint32_t i = 0; shard && i < w->n; i++) {
        if (i + MC__AHEAD < w->n)
            __builtin_prefetch(&s->order[i + MC__AHEAD].c->vents);
        const struct mc__sorted *o = &s->order[i];
        struct mc__vent *v = &o->c->vents[shard];
        v->share = o->share;
        v->count = o->count;
        w->all[i] = v;
    }
    struct mc__vent *last[MC__SKIP_LEVELS] = {0};
    for (uint32_t l = 0; l < w->level; l++)
        w->lv[l].head = NULL;
    for (uint32_t i = 0; i < w->n; i++) {
        if (i + MC__AHEAD < w->n)
            __builtin_prefetch(w->all[i + MC__AHEAD]->next, 1);
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

/* Lists @s again as entry *@n of e->dirty if it is listed, after listing
 * it when @all. */
static void mc__relist(mc_engine_t *e, struct mc__sorter *s, bool all, uint32_t *n)
{
    s->dirty = s->dirty || all;
    if (s->dirty)
        e->dirty[(*n)++] = s;
}

/* R2, on the control thread before the cycle starts: when every key
 * changed, every sorter is listed. A long list is rebuilt in the roles'
 * order (mostly their addresses' order) rather than the order the sorters
 * were listed in, so that every shard's refresh reads them in turn. */
void mc__views_prepare(mc_engine_t *e)
{
    bool all = e->views_stale;
    if (!all && e->ndirty <= e->nsorters / 4)
        return;
    uint32_t n = 0;
    mc__relist(e, &e->top, all, &n);
    for (uint32_t r = 0; r < e->nroles; r++) {
        mc__relist(e, &e->roles[r]->children, all, &n);
        mc__relist(e, &e->roles[r]->fws, all, &n);
    }
    e->ndirty = n;
}

/* R2, on the control thread once the cycle has started: sorts each listed
 * sorter once, for every shard (mc__sorter_sort), while the workers wake;
 * no shard reads a listed sorter before the control thread's release of
 * sorted_seq that follows (shard.c). */
void mc__views_sort(mc_engine_t *e)
{
    struct mc__sorter **d = e->dirty;
    for (uint32_t i = 0; i < e->ndirty; i++) {
        if (i + 2 * MC__STAGE < e->ndirty)
            __builtin_prefetch(&d[i + 2 * MC__STAGE]->views);
        if (i + MC__STAGE < e->ndirty)
            __builtin_prefetch(d[i + MC__STAGE]->views[0].all);
        mc__sorter_sort(e, d[i]);
    }
}

/* R2, by each shard when its cycle starts: its view of every listed
 * sorter takes the order mc__views_sort() gave it (the slots are zero,
 * C1: the keys are exact, and every shard's alike). */
void mc__views_refresh(mc_engine_t *e, uint32_t shard)
{
    /* most listed views are small (a role's one framework, its self): each
     * is a chain of misses (sorter, view, members, entry, client), so every
     * link is asked for a few views before the one that follows it */
    struct mc__sorter **d = e->dirty;
    uint32_t n = e->ndirty;
    for (uint32_t i = 0; i < n; i++) {
        if (i + 4 * MC__STAGE < n)
            __builtin_prefetch(&d[i + 4 * MC__STAGE]->views);
        if (i + 3 * MC__STAGE < n)
            __builtin_prefetch(&d[i + 3 * MC__STAGE]->views[shard], 1);
        if (i + 2 * MC__STAGE < n)
            __builtin_prefetch(d[i + 2 * MC__STAGE]->views[shard].all, 1);
        if (shard && i + MC__STAGE < n) /* the order it takes (shard 0's is its own all) */
            __builtin_prefetch(d[i + MC__STAGE]->order);
        mc__view_relink(d[i], shard);
    }
}

/* After every shard is done (S2): the listed sorters are refreshed. */
void mc__views_done(mc_engine_t *e)
{
    for (uint32_t i = 0; i < e->ndirty; i++)
        e->dirty[i]->dirty = false;
    e->ndirty = 0;
}

/* The shape of shard @shard's view of @s, as mc_engine_check() asserts it
 * for every view between cycles: list 0 holds every member once, in key
 * order (by the keys the entries hold), with matching back links, every
 * higher list is in that order too, and every list ends at its tail; and
 * R3: unless the next cycle refreshes it, every entry holds its client's key
 * now (floors are in the slots, which mc__client_folded() checks). */
bool mc__view_ok(const mc_engine_t *e, const struct mc__sorter *s, uint32_t shard)
{
    const struct mc__view *w = &s->views[shard];
    bool exact = !e->views_stale && !s->dirty && w->n > 1; /* R3, R4 */
    const struct mc__vent *prev = NULL;
    uint32_t n = 0;
    for (const struct mc__vent *v = w->level ? w->lv[0].head : NULL; v; prev = v, v = v->next[0]) {
        if (v->prev != prev || ++n > w->n) /* the order: the loop over every list below */
            return false;
        if (!(v->share >= 0) || signbit(v->share)) /* what mc__share_bits() relies on */
            return false;
        if (!exact)
            continue;
        double share;
        uint64_t count;
        mc__client_key(e, v->c, &share, &count); /* C1: every part zero */
        if (v->share != share || v->count != count)
            return false;
    }
    for (uint32_t l = 0; l < w->level; l++) {
        const struct mc__vent *last = NULL;
        for (const struct mc__vent *v = w->lv[l].head; v; last = v, v = v->next[l])
            if (l >= v->level || (last && !mc__vent_less(last, v)))
                return false;
        if (last != w->lv[l].tail)
            return false;
    }
    return n == w->n;
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
 * among its children (a leaf role, whose self entry is its children's only
 * one, where its node sorts), subtrees without active frameworks skipped. The walk
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
        if (v->c->kind == MC__ROLE_SELF || r->leaf) {
            /* a leaf's node stands for its self entry, the only one in its
             * children's view: no walk into that view (a line per role) */
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

/* A role's self or node entry is ordered when another entry of its sorter
 * can receive offers: only then can its key change a decision (the walk
 * skips every entry that cannot, mc__role_iter_next). A self entry is in its
 * role's children sorter, a node in its parent's (the top level's for a
 * top-level role); roles come parents first (a role is created after its
 * ancestors, and none is removed), so one pass sets both. */
void mc__roles_ordered(mc_engine_t *e)
{
    bool top = mc__sorter_live(e, &e->top) > 1;
    for (uint32_t i = 0; i < e->nroles; i++) {
        struct mc__role *r = e->roles[i];
        r->self.ordered = mc__sorter_live(e, &r->children) > 1;
        r->node.ordered = r->parent ? r->parent->self.ordered : top;
    }
}

/* S > 1: @r's guarantee is met (Q5), so @r's subtree and every ancestor's
 * hold at least the guarantee: shard @shard's keys of their nodes are raised
 * to that share for the rest of the cycle, which moves a role met by other
 * shards' offers behind the unmet ones (keys only grow: V1). */
void mc__role_floor(mc_engine_t *e, struct mc__role *r, uint32_t shard)
{
    struct mc__shard *sh = &e->shards[shard];
    sh->floored[sh->nfloored++] = r->idx; /* once per role and cycle: room for every role */
    int64_t q[MC_ENGINE_MAX_DIMS];
    mc__qty(e, q, &r->guarantee);
    for (struct mc__role *x = r; x; x = x->parent) {
        struct mc__cslot *sl = mc__slot(e, &x->node, shard);
        double floor = mc__share_of(e, q, x->node.weight);
        if (floor > sl->floor) {
            sl->floor = floor;
            mc__vent_refresh(e, &x->node.vents[shard]);
        }
    }
}

/* One shard: rekeys the path entries that the roles' commits left for
 * later (not ordered: nothing in this cycle's walk depended on their keys;
 * the ordered ones each commit rekeyed), so the views are exact again when
 * the cycle ends (V2). */
void mc__rekey_due(mc_engine_t *e, struct mc__shard *sh)
{
    struct mc__client *chain[MC__CHAIN_MAX];
    for (uint32_t i = 0; i < sh->ndue; i++) {
        struct mc__role *r = e->roles[sh->due[i]];
        for (uint32_t j = 0, n = mc__role_chain(r, chain); j < n; j++)
            if (!chain[j]->ordered)
                mc__vent_refresh(e, &chain[j]->vents[sh->id]);
        r->rekey_due = false;
    }
    sh->ndue = 0;
}

/* With S > 1, on the control thread before a cycle: each shard's scale
 * (V2). A shard that holds the fraction f of the free units of a name counts
 * each unit it allocates as 1/f: as if the other shards allocated alike from
 * theirs. */
void mc__scales_set(mc_engine_t *e)
{
    int64_t free[MC_ENGINE_MAX_DIMS] = {0};
    for (uint32_t k = 0; k < e->nshards; k++)
        for (uint32_t d = 0; d < e->ndims; d++)
            free[d] += e->shards[k].free[d];
    for (uint32_t k = 0; k < e->nshards; k++) {
        struct mc__shard *sh = &e->shards[k];
        for (uint32_t d = 0; d < e->ndims; d++)
            sh->scale[d] = e->total[d] > 0 && sh->free[d] > 0
                               ? (double)free[d] / (double)sh->free[d] / (double)e->total[d]
                               : 0;
    }
}

/* Adds @q and one allocation to @c for shard @sh (C1): to the client with
 * one shard, to the shard's slot with several. With @share, also gives
 * @c's key for that shard after it (mc__vent_key's): with one shard in the
 * same pass over the dims (mc__dim_share, as mc__share_plus takes them). */
static inline __attribute__((always_inline)) void
mc__client_commit(const mc_engine_t *e, struct mc__shard *sh, struct mc__client *c,
                  const int64_t *q, double *share, uint64_t *count)
{
    if (c->slots) {
        struct mc__cslot *sl = mc__slot(e, c, sh->id);
        if (!sl->count) /* the first this cycle: listed for mc__fold() */
            sh->touched[sh->ntouched++] = c;
        for (uint32_t i = 0; i < e->nlive; i++)
            sl->alloc[i] += q[e->live[i]];
        sl->count++;
        if (share)
            mc__vent_key(e, &c->vents[sh->id], share, count);
        return;
    }
    double s = 0;
    for (uint32_t i = 0; i < e->nlive; i++) { /* q is zero beyond the live dims */
        uint32_t d = e->live[i];
        int64_t a = c->alloc[d] += q[d];
        if (share) {
            double x = mc__dim_share(e, d, a);
            if (x > s)
                s = x;
        }
    }
    c->count++;
    if (share) {
        *share = s / c->weight;
        *count = c->count;
    }
}

/* Commits the allocation @q to the fwrole of view entry @v, the first
 * eligible one of its shard's view (C2), and to the role clients on its
 * role's path (C1), and rekeys their entries (V2). Context: @v's shard. */
void mc__commit(mc_engine_t *e, struct mc__shard *sh, struct mc__vent *v, const int64_t *q)
{
    double share;
    uint64_t count;
    mc__client_commit(e, sh, v->c, q, &share, &count);
    mc__vent_rekey(v, share, count);
    /* the next visit that reaches this view (of fwroles) starts at its new
     * first entry, whose lines were last read about a view's length of
     * offers ago: ask for them now, a few visits before they are needed (its
     * entry was just compared, so it is in cache) */
    struct mc__vent *h = mc__view_first(v->view);
    if (h != v) {
        struct mc__client *c = h->c;
        __builtin_prefetch(mc__fwrole_of(c));
        __builtin_prefetch(&c->weight);
        if (e->nshards > 1) /* the address waits for the line of weight and slots */
            __builtin_prefetch(mc__slot(e, c, sh->id), 1);
        else
            __builtin_prefetch(&c->count, 1);
    }
    struct mc__role *role = mc__fwrole_of(v->c)->role;
    struct mc__client *chain[MC__CHAIN_MAX];
    bool later = false;
    for (uint32_t i = 0, n = mc__role_chain(role, chain); i < n; i++) {
        /* an entry that is not ordered competes with nothing this cycle:
         * mc__rekey_due() (one shard) or the next cycle's refresh (several)
         * rekeys it (V2) */
        if (chain[i]->ordered) {
            mc__client_commit(e, sh, chain[i], q, &share, &count);
            mc__vent_rekey(&chain[i]->vents[sh->id], share, count);
        } else {
            mc__client_commit(e, sh, chain[i], q, NULL, NULL);
            later = true;
        }
    }
    if (later && e->nshards == 1 && !role->rekey_due) {
        role->rekey_due = true;
        sh->due[sh->ndue++] = role->idx;
    }
}

/* With S > 1, by shard @sh when its visits are done, in parallel with the
 * other shards and while its parts are in its cache: the share it counted
 * for each client it allocated to (mc__vent_key's, without Q5's floor), for
 * the fold's fairness error. Every client still holds what the cycle found
 * (C1), and the shard's slots are its own. */
void mc__estimates(const mc_engine_t *e, const struct mc__shard *sh)
{
    for (uint32_t i = 0; i < sh->ntouched; i++) {
        struct mc__client *c = sh->touched[i];
        struct mc__cslot *sl = mc__slot(e, c, sh->id);
        sl->est = mc__share_plus(e, c->alloc, sl->alloc, sh->scale, c->weight);
    }
}

/* The fold's reads are a chain of misses per client (the client's first
 * line for where its slots are, then its part and its allocation, lines
 * another core wrote): each pass asks for a client's first line
 * 2 * MC__STAGE clients ahead and for the other two MC__STAGE ahead. */
static inline void mc__fold_ahead(const mc_engine_t *e, const struct mc__shard *sh, uint32_t k,
                                  uint32_t i)
{
    if (i + 2 * MC__STAGE < sh->ntouched)
        __builtin_prefetch(sh->touched[i + 2 * MC__STAGE]);
    if (i + MC__STAGE < sh->ntouched) {
        struct mc__client *c = sh->touched[i + MC__STAGE];
        __builtin_prefetch(mc__slot(e, c, k), 1);
        __builtin_prefetch(&c->count, 1);
    }
}

/* With S > 1, on the control thread once every shard is done (C1): adds
 * each shard's part of the cycle's allocations into the clients and zeroes
 * it. Returns the cycle's fairness error (C2): the largest difference, over
 * the clients each shard allocated to, between the share that shard counted
 * for the client and the client's true share. Each pass reads, for each
 * shard, only the parts it wrote (its touched list): a client most shards
 * left alone costs no read of their parts' lines, which other cores wrote. */
double mc__fold(mc_engine_t *e)
{
    /* a part holds the live dims only (mc__client_commit) */
    for (uint32_t k = 0; k < e->nshards; k++) {
        struct mc__shard *sh = &e->shards[k];
        for (uint32_t i = 0; i < sh->ntouched; i++) {
            mc__fold_ahead(e, sh, k, i);
            struct mc__client *c = sh->touched[i];
            struct mc__cslot *sl = mc__slot(e, c, k);
            for (uint32_t j = 0; j < e->nlive; j++) {
                uint32_t d = e->live[j];
                c->alloc[d] += sl->alloc[j];
                sl->alloc[j] = 0;
            }
            c->count += sl->count;
            sl->count = 0;
            c->folded = -1; /* its share changed: computed once, below */
        }
    }
    /* every shard wrote its parts' estimates when its visits ended (mc__estimates) */
    double err = 0;
    for (uint32_t k = 0; k < e->nshards; k++) {
        struct mc__shard *sh = &e->shards[k];
        for (uint32_t i = 0; i < sh->ntouched; i++) {
            mc__fold_ahead(e, sh, k, i);
            struct mc__client *c = sh->touched[i];
            struct mc__cslot *sl = mc__slot(e, c, k);
            if (c->folded < 0) { /* the first of its parts: the client's share now */
                c->folded = mc__share_of(e, c->alloc, c->weight);
                mc__client_mark(e, c); /* its key changed (R1) */
            }
            double gap = fabs(sl->est - c->folded); /* estimates and shares are never NaN */
            if (gap > err)
                err = gap;
            sl->est = 0; /* C1: every part zero between cycles */
        }
        sh->ntouched = 0;
        /* the floors Q5 set this cycle go; the keys they raised, at the
         * next refresh (R1) */
        for (uint32_t i = 0; i < sh->nfloored; i++) {
            if (i + 2 * MC__STAGE < sh->nfloored) /* as above: the role, then its part */
                __builtin_prefetch(&e->roles[sh->floored[i + 2 * MC__STAGE]]->node);
            if (i + MC__STAGE < sh->nfloored)
                __builtin_prefetch(mc__slot(e, &e->roles[sh->floored[i + MC__STAGE]]->node, k), 1);
            for (struct mc__role *x = e->roles[sh->floored[i]]; x; x = x->parent) {
                mc__slot(e, &x->node, k)->floor = 0;
                mc__client_mark(e, &x->node);
            }
        }
        sh->nfloored = 0;
    }
    return err;
}

/* Whether every slot of @c is zero (no floor either), as C1 has it
 * between cycles. */
bool mc__client_folded(const mc_engine_t *e, const struct mc__client *c)
{
    for (uint32_t k = 0; c->slots && k < e->nshards; k++) {
        const struct mc__cslot *sl = mc__slot(e, c, k);
        if (sl->count || sl->floor != 0 || sl->est != 0)
            return false;
        for (uint32_t j = 0, n = mc__slot_dims(e); j < n; j++)
            if (sl->alloc[j])
                return false;
    }
    return true;
}
