/* engine/shard.c: allocation cycles on S shards.
 *
 * The agents are partitioned across S shards, run by T threads: the control
 * thread and T-1 worker threads that sleep between cycles (T1). A cycle:
 *
 *   control: prepare quota budgets, write the cycle's parameters, publish
 *            e->cycle_seq (release) and wake the workers; while they wake,
 *            sort the sorters whose keys changed and publish e->sorted_seq
 *            (release; drf.c R2)
 *   each thread, the control thread too: take the next shard not yet taken
 *            and run it, until none is left. A shard relinks its views of
 *            those sorters in that order (after its acquire of sorted_seq),
 *            shuffles its own agents, visits each (stage 1 for quota
 *            guarantees, then stage 2 for everyone), decides offers from its
 *            own DRF views (drf.c), hands full batches of decisions to the
 *            control thread (through its SPSC ring when a worker runs it),
 *            then groups its offers by framework (P1) and stores
 *            shard->done = cycle (release)
 *   control: drain the rings until every shard is done, add the shards'
 *            parts of the cycle's allocations into the DRF clients (drf.c
 *            C1, mc__fold), then publish the offers, one batch per framework
 *
 *       control ──cycle_seq──▶ workers                 (acquire / release pair)
 *       control ──sorted_seq─▶ each shard              (acquire / release pair)
 *       control ◀──ck_ring──── worker: decision batches (ring.h)
 *       control ◀──done──────── each shard             (release / acquire pair)
 *
 * Invariants:
 *   T1. Threads take shards first come, first served, with a compare-and-swap
 *       on e->next_shard = cycle << 32 | next shard; each shard is taken once
 *       per cycle. T is at most the CPUs the process may use (engine.c), so
 *       with more shards than CPUs each thread runs several, one after the
 *       other, instead of S threads preempting each other. A shard reads and
 *       writes only its own agents, views and parts (S1, drf.c C2), so
 *       which thread runs it, and in which order, changes no decision
 *       without quota (tests/stress/test_shards.c compares 1, 2 and S
 *       threads; with quota the budget races of Q1 may end otherwise). The ticket
 *       carries the cycle: a worker that asks for another shard after the
 *       control thread has begun the next cycle (it saw every done) finds
 *       another cycle's number and takes nothing until its acquire of
 *       cycle_seq. Relaxed: the ticket hands out indices and publishes no
 *       memory (cycle_seq and done do).
 *   T2. A shard's ring is drained when the cycle ends, so the worker that
 *       takes the shard next cycle starts on an empty ring; the workers of
 *       consecutive cycles are ordered by done (release) -> control's
 *       acquire -> cycle_seq (release) -> worker's acquire.
 *   S1. An agent belongs to exactly one shard; during a cycle only that shard
 *       touches its free vector, holds and filters. Hence no resource is ever
 *       offered twice (asserted by mc_engine_check() in every test).
 *   S2. Workers touch engine state only between seeing a new cycle_seq and
 *       storing the done of the last shard they took; the control thread
 *       touches it only outside that window (it waits for every done before
 *       it publishes or returns), but for the sort of the listed sorters,
 *       which no shard reads before its acquire of sorted_seq.
 *   Q1. Quota limits are exact at every shard count: a shard takes quota from
 *       a role's consumed counter with a compare-and-swap that never moves it
 *       past the limit (mc__reserve()). A shard that loses the race for a
 *       role's last budget moves on to the next role, so with S shards a
 *       limited role can end a cycle up to S-1 offers short of its limit
 *       (never past it); the next cycle offers it the rest.
 *   Q2. Headroom is exact: e->surplus[d] = unreserved free - unmet guarantees
 *       at the start of the cycle; an allocation that does not go towards its
 *       own role tree's unmet guarantee is taken out of surplus with a
 *       compare-and-swap that never moves it below zero.
 *   Q3. Budgets taken for an offer that is not made are given back before the
 *       shard moves on.
 *   P1. Publication hands each framework its offers of the cycle in one
 *       batch, shard after shard, each shard's in its decision order. Every
 *       shard builds its part of the batches when its visits end (mc__group,
 *       in parallel with the other shards; its batches stay readable to it
 *       after the hand-over, as the control thread writes only their list
 *       links), and the control thread joins the parts of a framework that
 *       several shards served and calls. Grouping allocates nothing (P2,
 *       mc__group), so every offer a cycle made is published.
 *   Q6. A cycle makes one offer per framework, role and agent, as Mesos's
 *       allocator does: what stage 2 gives a framework's role on an agent
 *       where stage 1 of the same cycle gave it something is added to that
 *       offer (mc__prepare), not made a second one. Each agent keeps its
 *       stage-1 decisions of the cycle (s1_last, a chain in the decisions),
 *       which stay where they are until the cycle has published. A merge
 *       may write a decision whose batch is already handed over: the
 *       control thread writes only the batches' list links during the
 *       cycle (P1) and reads decisions after the shard's done (S2).
 * Progress: shards never wait for each other inside a cycle and never retry
 * a decision; only a quota compare-and-swap retries, when another shard
 * changed the same counter (lock-free).
 */
#define _GNU_SOURCE
#include "engine/internal.h"
#include "engine/ring.h"
#include "engine/status.h"
#include "engine/sym.h"

#include <limits.h>
#include <linux/futex.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#define MC__RELAXED memory_order_relaxed
#define MC__SPINS   2000 /* busy polls before a worker sleeps on the futex */

/* ---- randomness: xoshiro256** seeded through splitmix64 ------------------------- */

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

static uint64_t mc__rand(uint64_t *s)
{
    uint64_t r = mc__rotl(s[1] * 5, 7) * 9, t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = mc__rotl(s[3], 45);
    return r;
}

/* Uniform in [0, n), n > 0, without modulo bias: a draw in the last run of
 * n values of the 64-bit range (cut short unless n divides 2^64) is drawn
 * again. The run of a draw r starts at r - r % n, and the last run is the
 * one that starts above UINT64_MAX - n: one division a draw, where the
 * limit UINT64_MAX - UINT64_MAX % n took a second, most of a shuffle. */
static uint32_t mc__rand_below(uint64_t *s, uint32_t n)
{
    uint64_t r, j;
    do {
        r = mc__rand(s);
        j = r % n;
    } while (r - j > UINT64_MAX - n);
    return (uint32_t)j;
}

void mc_engine_seed(mc_engine_t *e, uint64_t seed)
{
    for (uint32_t k = 0; k < e->nshards; k++) {
        uint64_t x = seed + k * 0x632be59bd9b4e019ull; /* shard 0 uses the seed as is */
        for (int i = 0; i < 4; i++)
            e->shards[k].rng[i] = mc__splitmix(&x);
    }
}

static void mc__shuffle(struct mc__shard *sh, uint32_t n)
{
    for (uint32_t i = n; i > 1; i--) {
        uint32_t j = mc__rand_below(sh->rng, i);
        struct mc__agent *t = sh->cand[i - 1];
        sh->cand[i - 1] = sh->cand[j];
        sh->cand[j] = t;
    }
}

/* ---- waiting ------------------------------------------------------------------------ */

static void mc__futex_wait(_Atomic uint32_t *addr, uint32_t val)
{
    syscall(SYS_futex, (uint32_t *)addr, FUTEX_WAIT_PRIVATE, val, NULL, NULL, 0);
}

static void mc__futex_wake(_Atomic uint32_t *addr)
{
    syscall(SYS_futex, (uint32_t *)addr, FUTEX_WAKE_PRIVATE, INT_MAX, NULL, NULL, 0);
}

/* ---- filters (an agent's, sorted by key) --------------------------------------------- */

int mc__filter_find(const struct mc__agent *a, uint64_t key)
{
    uint32_t lo = 0, hi = a->nfilters;
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        if (a->filters[mid].key < key)
            lo = mid + 1;
        else
            hi = mid;
    }
    return (int)lo;
}

void mc__shres_put(struct mc__shres *s)
{
    if (s && --s->refs == 0) {
        mc_res_fini(&s->r);
        free(s);
    }
}

void mc__filter_remove(struct mc__agent *a, uint32_t i)
{
    uint64_t key = a->filters[i].key;
    /* F1: the pair's last filter. Filters are removed here for candidates
     * (not suppressed, so counted) or under a bumped epoch, whose summary is
     * recomputed before use: the count only needs to stay in range. */
    if (a->nkeys && !(i > 0 && a->filters[i - 1].key == key) &&
        !(i + 1 < a->nfilters && a->filters[i + 1].key == key))
        a->nkeys--;
    mc__shres_put(a->filters[i].refused);
    memmove(&a->filters[i], &a->filters[i + 1], (a->nfilters - i - 1) * sizeof(*a->filters));
    a->nfilters--;
}

/* Does @refused contain the offer of the current epoch? Each shared vector
 * is compared once per offer (refused vectors are shared per agent). */
static bool mc__refused_contains(struct mc__shard *sh, const struct mc__shres *refused,
                                 const mc_res_t *offer)
{
    unsigned slot = (unsigned)(((uintptr_t)refused >> 4) & 3);
    if (sh->memo[slot].refused == refused && sh->memo[slot].epoch == sh->offer_epoch)
        return sh->memo[slot].contains;
    bool c = mc_res_contains(&refused->r, offer);
    sh->memo[slot].refused = refused;
    sh->memo[slot].epoch = sh->offer_epoch;
    sh->memo[slot].contains = c;
    return c;
}

/* mc__filtered() for an agent with filters. */
static bool mc__filter_hit(struct mc__shard *sh, struct mc__agent *a, const struct mc__fwrole *fr,
                           const mc_res_t *offer, uint64_t now)
{
    const struct mc__fw *f = fr->fw;
    uint64_t key = mc__filter_key(fr->fw_idx, fr->idx);
    bool hit = false;
    for (uint32_t i = (uint32_t)mc__filter_find(a, key);
         i < a->nfilters && a->filters[i].key == key;) {
        struct mc__filter *flt = &a->filters[i];
        if (now >= flt->expires || flt->gen != f->revive_gen) {
            mc__filter_remove(a, i);
            continue;
        }
        if (mc__refused_contains(sh, flt->refused, offer)) {
            hit = true;
            if (flt->expires < sh->visit_until)
                sh->visit_until = flt->expires;
        }
        i++;
    }
    return hit;
}

/* True when a live refuse filter of (@f, @fr) on @a contains @offer; drops
 * that pair's filters that expired or were voided by a revive. Inline: an
 * agent without filters (the common case) costs one test, no call and no
 * read of the framework. */
static inline bool mc__filtered(struct mc__shard *sh, struct mc__agent *a,
                                const struct mc__fwrole *fr, const mc_res_t *offer, uint64_t now)
{
    return a->nfilters && mc__filter_hit(sh, a, fr, offer, now);
}

/* F1: drops every expired or voided filter of @a in one pass and recomputes
 * its summary (nkeys, filt_min_exp, filt_epoch). */
static void mc__filters_sweep(const mc_engine_t *e, struct mc__agent *a)
{
    uint32_t n = 0, keys = 0;
    uint64_t min = UINT64_MAX;
    for (uint32_t i = 0; i < a->nfilters; i++) {
        struct mc__filter flt = a->filters[i];
        const struct mc__fw *f = e->fws[mc__filter_fw(flt.key)];
        if (e->now >= flt.expires || !f || flt.gen != f->revive_gen) {
            mc__shres_put(flt.refused);
            continue;
        }
        keys += mc__filter_counts(e, a, n, flt.key);
        min = flt.expires < min ? flt.expires : min;
        a->filters[n++] = flt;
    }
    a->nfilters = n;
    a->nkeys = keys;
    a->filt_min_exp = min;
    a->filt_epoch = e->filt_epoch;
}

/* F1: true when every (framework, role) not suppressed has a live filter on
 * @a and all of @a's filters refuse one shared vector that contains all of
 * @a's free resources. Then every candidate of every role would be filtered
 * (what a role may be offered is part of the free vector, and without quota
 * it is offered as it is), so the visit can end at once: O(1) instead of one
 * filter lookup per candidate. */
static bool mc__all_filtered(struct mc__shard *sh, struct mc__agent *a)
{
    const mc_engine_t *e = sh->e;
    if (e->nquota || !e->nactive_fwroles || a->nfilters < e->nactive_fwroles)
        return false;
    if (a->filt_epoch != e->filt_epoch || e->now >= a->filt_min_exp)
        mc__filters_sweep(e, a);
    const struct mc__shres *sr = a->last_refused;
    if (a->nkeys != e->nactive_fwroles || !sr || sr->refs != a->nfilters + 1 ||
        !mc_res_contains(&sr->r, &a->free))
        return false;
    if (a->filt_min_exp < sh->visit_until)
        sh->visit_until = a->filt_min_exp;
    sh->st.filtered += a->nkeys;
    return true;
}

/* ---- eligibility ------------------------------------------------------------------------ */

/* True when quantities @q (thousandths by dimension) hold the default
 * minimum offer: cpus >= 0.01 or mem >= 32 (always dimensions: engine.c). */
static inline bool mc__default_min_ok(const mc_engine_t *e, const int64_t *q)
{
    return q[e->dim_of[MC_SYM_CPUS]] >= 10 || q[e->dim_of[MC_SYM_MEM]] >= 32000;
}

/* True when quantities @q hold one of @f's minimum offers in full (the
 * default without any). A name no agent has (no dimension) is never met. */
static bool mc__min_ok_q(const mc_engine_t *e, const struct mc__fw *f, const int64_t *q)
{
    if (!f->nmin)
        return mc__default_min_ok(e, q);
    for (size_t i = 0; i < f->nmin; i++) {
        const mc_res_t *m = &f->min[i];
        bool ok = true;
        for (uint32_t k = 0; k < m->n && ok; k++) {
            uint8_t d = e->dim_of[m->items[k].name];
            ok = d != 0xff && q[d] >= m->items[k].v.milli;
        }
        if (ok)
            return true;
    }
    return false;
}

/* mc__min_ok_q() of @fr's framework on quantities @q (mc__qty: every role
 * counted); the default minimum without a read of the framework. */
static bool mc__min_ok(const mc_engine_t *e, const struct mc__fwrole *fr, const int64_t *q)
{
    if (!fr->own_min) /* the common case, on the hot path */
        return mc__default_min_ok(e, q);
    return mc__min_ok_q(e, fr->fw, q);
}

/* The largest quantity, by dimension, that any alternative of any registered
 * framework's minimum offer asks for (the default's where none is set). */
static void mc__min_caps(const mc_engine_t *e, int64_t *cap)
{
    for (uint32_t s = 0; s < e->nfws_slots; s++) {
        const struct mc__fw *f = e->fws[s];
        if (!f)
            continue;
        if (!f->nmin) {
            uint8_t c = e->dim_of[MC_SYM_CPUS], m = e->dim_of[MC_SYM_MEM];
            if (c != 0xff && cap[c] < 10)
                cap[c] = 10;
            if (m != 0xff && cap[m] < 32000)
                cap[m] = 32000;
            continue;
        }
        for (size_t i = 0; i < f->nmin; i++)
            for (uint32_t k = 0; k < f->min[i].n; k++) {
                uint8_t d = e->dim_of[f->min[i].items[k].name];
                if (d != 0xff && cap[d] < f->min[i].items[k].v.milli)
                    cap[d] = f->min[i].items[k].v.milli;
            }
    }
}

#define MC__PREFETCH 8 /* agent records asked for ahead of the agent loop */

/* The two cache lines of an agent record's hot fields. */
static inline void mc__prefetch_agent(const struct mc__agent *a)
{
    __builtin_prefetch(a);
    __builtin_prefetch((const char *)a + 64);
}

/* Marks the roles some active framework of which could take an offer from
 * one of this shard's agents this cycle: a minimum that fits in the largest
 * free quantities of the shard's agents. Free vectors only shrink during a
 * cycle, so a role left out cannot become possible before the next one, and
 * leaving it out changes no decision. Returns MC_ENOMEM or 0. */
static int mc__roles_possible(struct mc__shard *sh, uint32_t ncand)
{
    mc_engine_t *e = sh->e;
    /* one more than the roles, so that no size is ever 0 */
    if (mc__grow(&sh->role_ok, &sh->caproles, e->nroles + 1, sizeof(*sh->role_ok)) ||
        mc__grow(&sh->ok_subtree, &sh->capsubtree, e->nroles + 1, sizeof(*sh->ok_subtree)))
        return MC_ENOMEM;
    /* the most any framework's minimum asks for, by dimension: once the
     * largest free quantities reach it, no further agent changes an answer */
    int64_t cap[MC_ENGINE_MAX_DIMS] = {0}, maxq[MC_ENGINE_MAX_DIMS] = {0};
    mc__min_caps(e, cap);
    uint32_t short_dims = 0;
    for (uint32_t d = 0; d < e->ndims; d++)
        short_dims += cap[d] > 0;
    for (uint32_t i = 0; i < ncand && short_dims; i++) {
        const mc_res_t *fr = &sh->cand[i]->free;
        int64_t q[MC_ENGINE_MAX_DIMS] = {0};
        for (uint32_t k = 0; k < fr->n; k++)
            if (fr->items[k].kind == MC_RES_SCALAR)
                q[e->dim_of[fr->items[k].name]] += fr->items[k].v.milli;
        for (uint32_t d = 0; d < e->ndims; d++) {
            if (q[d] <= maxq[d])
                continue;
            short_dims -= maxq[d] < cap[d] && q[d] >= cap[d];
            maxq[d] = q[d];
        }
    }
    memset(sh->ok_subtree, 0, e->nroles * sizeof(*sh->ok_subtree));
    sh->nok = 0;
    bool deflt = mc__default_min_ok(e, maxq);
    for (uint32_t i = 0; i < e->nroles; i++) {
        struct mc__role *r = e->roles[i];
        /* an active framework with the default minimum answers for the role
         * from the role's record; only one with a minimum of its own needs
         * the walk over the role's frameworks (a chain of misses per role) */
        bool ok = deflt && r->nactive_default;
        const struct mc__view *w = &r->fws.views[sh->id];
        for (uint32_t k = 0; k < w->n && !ok && r->nactive > r->nactive_default; k++) {
            struct mc__fwrole *fr = w->all[k]->c->owner;
            ok = !fr->suppressed && mc__min_ok_q(e, fr->fw, maxq);
        }
        sh->role_ok[i] = ok;
        sh->nok += ok;
        for (struct mc__role *x = ok ? r : NULL; x; x = x->parent)
            sh->ok_subtree[x->idx]++;
    }
    return MC_OK;
}

/* True when every guarantee of @r is met (nothing for stage 1 to give it). */
static bool mc__guarantee_met(const mc_engine_t *e, struct mc__role *r)
{
    for (uint32_t k = 0; k < r->guarantee.n; k++) {
        uint32_t d = e->dim_of[r->guarantee.items[k].name];
        if (atomic_load_explicit(&r->consumed[d], MC__RELAXED) < r->guarantee.items[k].v.milli)
            return false;
    }
    return true;
}

/* Whether stage 1 may still give @r something: it has a guarantee not yet
 * met and frameworks that are not suppressed. */
static bool mc__stage1_open(const mc_engine_t *e, struct mc__role *r)
{
    return r->guarantee.n && r->nactive && !mc__guarantee_met(e, r);
}

/* An item of an agent's free vector may go to role @arg when it is unreserved
 * or reserved for the role or one of its ancestors (Mesos allocatableTo). */
static bool mc__allocatable_to(const struct mc_res_item *it, void *arg)
{
    if (it->role == MC_SYM_NONE)
        return true;
    for (const struct mc__role *r = arg; r; r = r->parent)
        if (r->sym == it->role)
            return true;
    return false;
}

/* ---- quota budgets (Q1-Q3) ----------------------------------------------------------------- */

/* What an offer took out of the quota budgets, to give back if it is not made. */
struct mc__grant {
    int64_t q[MC_ENGINE_MAX_DIMS];       /* taken from consumed on the role chain */
    int64_t surplus[MC_ENGINE_MAX_DIMS]; /* taken from e->surplus */
};

static int64_t mc__cap_of(const mc_res_t *r, uint32_t sym)
{
    for (uint32_t k = 0; k < r->n; k++)
        if (r->items[k].name == sym)
            return r->items[k].v.milli;
    return -1;
}

/* The cap on @x's consumed quota of scalar @sym for an offer to @r: its
 * limit and, in stage 1 for @r itself, its guarantee; -1 for none. */
static int64_t mc__role_cap(const struct mc__role *x, const struct mc__role *r, uint32_t sym,
                            bool stage1)
{
    int64_t cap = x->limit.n ? mc__cap_of(&x->limit, sym) : -1;
    if (stage1 && x == r && x->guarantee.n) {
        int64_t g = mc__cap_of(&x->guarantee, sym);
        if (g >= 0 && (cap < 0 || g < cap))
            cap = g;
    }
    return cap;
}

/* Adds @q to consumed[d] of @r and its ancestors, capping at each limit (and,
 * in stage 1, at @r's own guarantee). Returns the amount added to all of
 * them; *@groot_before receives the groot's consumed before the add. */
static int64_t mc__take_consumed(mc_engine_t *e, struct mc__role *r, uint32_t d, int64_t q,
                                 bool stage1, int64_t *groot_before)
{
    uint32_t sym = e->dim_sym[d];
    struct mc__role *done[MC_ID_MAX_LEN / 2 + 2];
    uint32_t ndone = 0;
    for (struct mc__role *x = r; x && q > 0; x = x->parent) {
        int64_t cap = mc__role_cap(x, r, sym, stage1);
        int64_t old = atomic_load_explicit(&x->consumed[d], MC__RELAXED), take;
        do {
            take = q;
            if (cap >= 0 && old + take > cap)
                take = cap > old ? cap - old : 0;
        } while (take > 0 && !atomic_compare_exchange_weak_explicit(
                                 &x->consumed[d], &old, old + take, MC__RELAXED, MC__RELAXED));
        if (take < q) /* a tighter cap up the chain: the ones below give back the excess */
            for (uint32_t i = 0; i < ndone; i++)
                atomic_fetch_sub_explicit(&done[i]->consumed[d], q - take, MC__RELAXED);
        q = take;
        if (x == r->groot)
            *groot_before = old;
        if (q > 0)
            done[ndone++] = x;
    }
    return q;
}

static void mc__give_back(mc_engine_t *e, struct mc__role *r, const struct mc__grant *g)
{
    if (!e->nquota)
        return;
    for (uint32_t d = 0; d < e->ndims; d++) {
        if (g->q[d])
            for (struct mc__role *x = r; x; x = x->parent)
                atomic_fetch_sub_explicit(&x->consumed[d], g->q[d], MC__RELAXED);
        if (g->surplus[d])
            atomic_fetch_add_explicit(&e->surplus[d], g->surplus[d], MC__RELAXED);
    }
}

/* Gives each unreserved scalar item of @off the amount @fn returns for it,
 * dropping those that become zero (R3). */
typedef int64_t (*mc__amount_fn)(mc_engine_t *e, struct mc__role *r, uint32_t d, uint32_t sym,
                                 int64_t want, bool stage1, struct mc__grant *g);

static void mc__shrink(mc_engine_t *e, struct mc__role *r, mc_res_t *off, bool stage1,
                       mc__amount_fn fn, struct mc__grant *g)
{
    for (uint32_t i = 0; i < off->n;) {
        struct mc_res_item *it = &off->items[i];
        if (it->kind != MC_RES_SCALAR || it->role != MC_SYM_NONE) {
            i++;
            continue;
        }
        int64_t q = fn(e, r, e->dim_of[it->name], it->name, it->v.milli, stage1, g);
        if (q > 0) {
            it->v.milli = q;
            i++;
            continue;
        }
        memmove(it, it + 1, (off->n - i - 1) * sizeof(*it));
        off->n--;
    }
}

/* Takes quota for @want of scalar @d (Q1, Q2) and records it in @g. In stage
 * 1 a guaranteed name is capped at what is still unmet of the role's own
 * guarantee (mc__take_consumed). */
static int64_t mc__reserve_one(mc_engine_t *e, struct mc__role *r, uint32_t d, uint32_t sym,
                               int64_t want, bool stage1, struct mc__grant *g)
{
    int64_t before = 0, q = mc__take_consumed(e, r, d, want, stage1, &before);
    if (q > 0 && e->guarantees) {
        int64_t unmet = 0;
        if (r->groot) {
            int64_t gq = mc__cap_of(&r->groot->guarantee, sym);
            unmet = gq > before ? gq - before : 0;
        }
        int64_t need = q > unmet ? q - unmet : 0; /* beyond its own tree's guarantee */
        int64_t old = atomic_load_explicit(&e->surplus[d], MC__RELAXED), take;
        do {
            take = need < old ? need : (old > 0 ? old : 0);
        } while (take > 0 && !atomic_compare_exchange_weak_explicit(
                                 &e->surplus[d], &old, old - take, MC__RELAXED, MC__RELAXED));
        if (take < need) {
            for (struct mc__role *x = r; x; x = x->parent)
                atomic_fetch_sub_explicit(&x->consumed[d], need - take, MC__RELAXED);
            q -= need - take;
        }
        g->surplus[d] = take;
    }
    g->q[d] = q;
    return q;
}

/* What mc__reserve_one() would grant now, read without taking anything (no
 * read-modify-write on the shared budgets). */
static int64_t mc__estimate_one(mc_engine_t *e, struct mc__role *r, uint32_t d, uint32_t sym,
                                int64_t want, bool stage1, struct mc__grant *g)
{
    int64_t q = want;
    for (struct mc__role *x = r; x; x = x->parent) {
        int64_t cap = mc__role_cap(x, r, sym, stage1);
        if (cap < 0)
            continue;
        int64_t room = cap - atomic_load_explicit(&x->consumed[d], MC__RELAXED);
        q = room < q ? (room > 0 ? room : 0) : q;
    }
    if (q > 0 && e->guarantees) {
        int64_t unmet = 0;
        if (r->groot) {
            int64_t gq = mc__cap_of(&r->groot->guarantee, sym);
            int64_t c = atomic_load_explicit(&r->groot->consumed[d], MC__RELAXED);
            unmet = gq > c ? gq - c : 0;
        }
        int64_t surplus = atomic_load_explicit(&e->surplus[d], MC__RELAXED);
        int64_t allowed = unmet + (surplus > 0 ? surplus : 0);
        q = q < allowed ? q : allowed;
    }
    return q;
}

/* Takes quota for the unreserved scalars of @off (in place: they shrink to
 * what the budgets allow) and records it in @g. */
static void mc__reserve(mc_engine_t *e, struct mc__role *r, mc_res_t *off, bool stage1,
                        struct mc__grant *g)
{
    for (uint32_t d = 0; d < e->ndims; d++) /* the dims mc__give_back() reads */
        g->q[d] = g->surplus[d] = 0;
    mc__shrink(e, r, off, stage1, mc__reserve_one, g);
}

/* mc__reserve() as an estimate: takes nothing, records nothing. Used to rule
 * a candidate out cheaply before reserving for real. */
static void mc__estimate(mc_engine_t *e, struct mc__role *r, mc_res_t *off, bool stage1)
{
    mc__shrink(e, r, off, stage1, mc__estimate_one, NULL);
}

/* Computes each role's consumed quota (reservations plus unreserved
 * resources offered or used), and the headroom surplus. Context: control
 * thread, before the shards start. */
static void mc__quota_prepare(mc_engine_t *e)
{
    int64_t available[MC_ENGINE_MAX_DIMS] = {0}, required[MC_ENGINE_MAX_DIMS] = {0};
    e->guarantees = false;
    e->quota_stage = false;
    for (uint32_t i = 0; i < e->nroles; i++) {
        struct mc__role *r = e->roles[i];
        for (uint32_t d = 0; d < e->ndims; d++) /* no other dim is read before it is zeroed */
            atomic_store_explicit(&r->consumed[d], 0, MC__RELAXED);
        e->guarantees |= r->guarantee.n > 0;
        e->quota_stage |= r->guarantee.n && r->nactive;
    }
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
                atomic_fetch_add_explicit(&x->consumed[e->dim_of[it->name]], it->v.milli,
                                          MC__RELAXED);
        }
        for (uint32_t i = 0; i < a->free.n && a->active; i++) {
            const struct mc_res_item *it = &a->free.items[i];
            if (it->kind == MC_RES_SCALAR && it->role == MC_SYM_NONE)
                available[e->dim_of[it->name]] += it->v.milli;
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
                        atomic_fetch_add_explicit(&x->consumed[e->dim_of[it->name]], it->v.milli,
                                                  MC__RELAXED);
                }
        }
    }
    for (uint32_t i = 0; i < e->nroles; i++) {
        struct mc__role *r = e->roles[i];
        if (!r->guarantee.n || r->groot != r)
            continue;
        for (uint32_t k = 0; k < r->guarantee.n; k++) {
            uint32_t d = e->dim_of[r->guarantee.items[k].name];
            int64_t unmet =
                r->guarantee.items[k].v.milli - atomic_load_explicit(&r->consumed[d], MC__RELAXED);
            required[d] += unmet > 0 ? unmet : 0;
        }
    }
    for (uint32_t d = 0; d < MC_ENGINE_MAX_DIMS; d++)
        atomic_store_explicit(&e->surplus[d], available[d] - required[d], MC__RELAXED);
    uint32_t open = 0;
    for (uint32_t i = 0; i < e->nroles; i++) {
        struct mc__role *r = e->roles[i];
        bool o = mc__stage1_open(e, r);
        atomic_store_explicit(&r->gmet, !o, MC__RELAXED);
        open += o;
    }
    atomic_store_explicit(&e->nunmet, open, MC__RELAXED); /* Q4 */
}

/* Q4: once a committed stage-1 offer meets @r's guarantee, @r is counted out
 * of the roles stage 1 may still serve. */
static void mc__note_met(mc_engine_t *e, struct mc__role *r)
{
    if (!atomic_load_explicit(&r->gmet, MC__RELAXED) && mc__guarantee_met(e, r) &&
        !atomic_exchange_explicit(&r->gmet, 1, MC__RELAXED))
        atomic_fetch_sub_explicit(&e->nunmet, 1, MC__RELAXED);
}

/* Q4: true when stage 1 has nothing left to give: the count says so and a
 * pass over the roles confirms it. The count is a hint: a guarantee it
 * counted as met may have included another shard's reservation that was
 * then given back (Q3); the pass counts such a role in again. */
static bool mc__stage1_done(mc_engine_t *e)
{
    if (atomic_load_explicit(&e->nunmet, MC__RELAXED))
        return false;
    bool done = true;
    for (uint32_t i = 0; i < e->nroles; i++) {
        struct mc__role *r = e->roles[i];
        if (mc__stage1_open(e, r)) {
            done = false;
            if (atomic_exchange_explicit(&r->gmet, 0, MC__RELAXED))
                atomic_fetch_add_explicit(&e->nunmet, 1, MC__RELAXED);
        }
    }
    return done;
}

/* ---- one shard's work ----------------------------------------------------------------------- */

/* Appends batch @c to shard @sh's list. Context: the control thread. */
static void mc__chunk_keep(struct mc__shard *sh, struct mc__chunk *c)
{
    c->next = NULL;
    *sh->chunks_end = c;
    sh->chunks_end = &c->next;
}

static void mc__chunk_flush(struct mc__shard *sh)
{
    struct mc__chunk *c = sh->chunk;
    if (!c || !c->n)
        return;
    sh->chunk = NULL;
    c->own = NULL; /* the shard's own list (P1) */
    *sh->own_end = c;
    sh->own_end = &c->own;
    if (sh->local) { /* the control thread itself */
        mc__chunk_keep(sh, c);
        return;
    }
    while (!mc_ring_push_spsc(&sh->ring, sh->ringbuf, c))
        sched_yield(); /* the control thread drains the ring while it waits */
}

/* An offer being made: everything that can fail is prepared before the
 * commit to the DRF clients (which cannot be undone inside a cycle), so that
 * applying it afterwards cannot fail. */
struct mc__pending {
    struct mc__hold *hold;
    struct mc__decision *merge; /* Q6: stage 1's offer of this framework and role here */
    bool whole;  /* all of the agent's free vector into an empty offer: moved, not copied,
                  * and the decision borrows it (no quota: nothing offers to this hold
                  * again before the cycle publishes) */
    bool copied; /* the decision's record is a copy (the offer is a->free itself) */
    mc_res_t offered, free; /* otherwise: the hold's and the agent's vectors after it */
    mc_res_t record;        /* the decision's copy of the offer, when copied */
};

/* Q6: the decision stage 1 of this cycle made on @a for @fr, or NULL. */
static struct mc__decision *mc__stage1_offer(const struct mc__shard *sh, const struct mc__agent *a,
                                             const struct mc__fwrole *fr)
{
    if (a->s1_cycle != sh->e->cycles)
        return NULL;
    for (struct mc__decision *d = a->s1_last; d; d = d->s1_prev)
        if (d->fw == fr->fw_idx && d->role == fr->role)
            return d;
    return NULL;
}

/* @res is what to offer: either the agent's free vector itself (the common
 * case: everything on the agent goes to one framework), or a vector the
 * caller owns and hands over to the decision at mc__apply(). In stage 2 of
 * a quota cycle, what adds to an offer stage 1 made to the same framework
 * and role here is merged into that offer (Q6). */
static int mc__prepare(struct mc__shard *sh, struct mc__agent *a, struct mc__fwrole *fr,
                       const mc_res_t *res, bool stage1, struct mc__pending *p)
{
    int rc;
    if (sh->chunk && sh->chunk->n == MC__CHUNK)
        mc__chunk_flush(sh);
    if (!sh->chunk) {
        /* P2: room for the records of every decision the new batch can hold */
        if (sh->e->cfg.on_offers &&
            mc__grow(&sh->recs, &sh->caprecs, sh->nseq + MC__CHUNK, sizeof(*sh->recs)))
            return MC_ENOMEM;
        if (sh->spare) {
            sh->chunk = sh->spare;
            sh->spare = sh->spare->next;
        } else if (!(sh->chunk = aligned_alloc(64, sizeof(*sh->chunk)))) {
            return MC_ENOMEM;
        }
        sh->chunk->n = 0;
    }
    /* a new hold is empty until applied */
    if (!(p->hold = mc__hold_find(a, fr->fw_idx, fr->idx)) &&
        !(p->hold = mc__hold_add(a, fr->fw_idx, fr->idx)))
        return MC_ENOMEM;
    mc_res_init(&p->offered);
    mc_res_init(&p->free);
    mc_res_init(&p->record);
    p->merge = !stage1 && sh->e->quota_stage ? mc__stage1_offer(sh, a, fr) : NULL;
    p->whole = res == &a->free && !p->hold->offered.n;
    p->copied = res == &a->free && (!p->whole || sh->e->nquota);
    if (p->merge) { /* the record becomes stage 1's offer and this one */
        p->copied = false;
        if ((rc = mc_res_copy(&p->record, &p->merge->res)) || (rc = mc_res_add(&p->record, res)))
            goto out_fini;
    } else if (p->copied && (rc = mc_res_copy(&p->record, res))) {
        goto out_fini;
    }
    if (p->whole)
        return MC_OK;
    if ((rc = mc_res_copy(&p->offered, &p->hold->offered)) || (rc = mc_res_add(&p->offered, res)) ||
        (rc = mc_res_copy(&p->free, &a->free)) || (rc = mc_res_sub(&p->free, res)))
        goto out_fini;
    return MC_OK;
out_fini:
    mc_res_fini(&p->offered);
    mc_res_fini(&p->free);
    mc_res_fini(&p->record);
    mc__hold_gc(a, p->hold); /* one added above goes again (E4: no empty holds) */
    return rc;
}

/* Makes the prepared offer (of scalar quantities @q) and records the
 * decision. Takes @res unless it is the agent's free vector or merged (Q6). */
static void mc__apply(struct mc__shard *sh, struct mc__agent *a, struct mc__fwrole *fr,
                      mc_res_t *res, const int64_t *q, bool stage1, struct mc__pending *p)
{
    struct mc__hold *h = p->hold;
    if (!h->offered.n)
        h->offered_at = sh->e->now;
    a->blocked = false; /* B1: the free vector changed */
    /* @a is a candidate, so active: its shard counts its free; q is zero
     * beyond the live dims */
    for (uint32_t i = 0; i < sh->e->nlive; i++)
        sh->free[sh->e->live[i]] -= q[sh->e->live[i]];
    if (p->whole) {
        /* the vector moves; the agent keeps nothing free, and the hold's
         * empty arrays (p->whole) as room for what comes back to it */
        mc_res_t room = h->offered;
        h->offered = a->free;
        a->free = room;
    } else {
        mc_res_fini(&h->offered);
        h->offered = p->offered;
        mc_res_fini(&a->free);
        a->free = p->free;
    }
    if (p->merge) { /* Q6: @res stays the caller's */
        if (!p->merge->borrowed)
            mc_res_fini(&p->merge->res);
        p->merge->res = p->record;
        p->merge->borrowed = false;
        sh->owns = true;
        return;
    }
    struct mc__decision *d = &sh->chunk->d[sh->chunk->n++];
    if (stage1) { /* Q6 */
        d->s1_prev = a->s1_cycle == sh->e->cycles ? a->s1_last : NULL;
        a->s1_last = d;
        a->s1_cycle = sh->e->cycles;
    }
    d->fw = fr->fw_idx;
    sh->fstart[d->fw + 1]++; /* P1: counted for mc__group() */
    d->agent_id = a->id;     /* publication then need not read the agent again */
    d->agent_udata = a->udata;
    d->role = fr->role;
    d->seq = sh->nseq++;
    d->borrowed = p->whole && !p->copied;
    if (d->borrowed) {
        d->res = h->offered; /* a shallow view: the hold owns the arrays */
        return;
    }
    sh->owns = true; /* publication frees the decisions' vectors only then */
    if (p->copied) {
        d->res = p->record;
    } else {
        d->res = *res;
        mc_res_init(res);
    }
}

/* The part of @a's free vector that role @r may use: the free vector itself
 * when all of it may go to @r (no reservations for other roles: no copy), or
 * the allocatable items copied into @buf. NULL on MC_ENOMEM. */
static mc_res_t *mc__avail(struct mc__agent *a, struct mc__role *r, mc_res_t *buf)
{
    uint32_t i = 0;
    while (i < a->free.n && mc__allocatable_to(&a->free.items[i], r))
        i++;
    if (i == a->free.n)
        return &a->free;
    return mc_res_filter(buf, &a->free, mc__allocatable_to, r) ? NULL : buf;
}

/* Visits agent @a once: roles, then frameworks, in this shard's DRF order.
 * Stage 1 considers only roles with a guarantee. */
static int mc__visit(struct mc__shard *sh, struct mc__agent *a, bool stage1)
{
    mc_engine_t *e = sh->e;
    uint32_t id = sh->id;
    uint64_t visit = ++sh->visit, offers = sh->st.offers;
    mc_res_t buf = MC_RES_INIT, toff = MC_RES_INIT;
    /* the quantities of what the role may use (avail), and of the copy
     * quota shrinks (toff): each computed once per vector, for every
     * candidate's minimum and for the commit */
    int64_t q[MC_ENGINE_MAX_DIMS], tq[MC_ENGINE_MAX_DIMS];
    int rc = MC_OK;
    sh->visit_until = UINT64_MAX;
    struct mc__role_iter it;
    if (!stage1 && mc__all_filtered(sh, a))
        goto out;
    mc__role_iter_init(&it, e, id, visit);
    for (struct mc__role *r; a->free.n && (r = mc__role_iter_next(&it));) {
        if (stage1 && (!r->guarantee.n || mc__guarantee_met(e, r))) {
            /* Q5: met, perhaps by other shards' offers that this shard's keys
             * do not count: once per cycle its path gets the guarantee's share
             * as a floor (role_ok 2 marks it done; still true for the walks) */
            if (e->nshards > 1 && r->guarantee.n && sh->role_ok[r->idx] == 1) {
                sh->role_ok[r->idx] = 2;
                mc__role_floor(e, r, id);
            }
            continue;
        }
        mc_res_t *avail = mc__avail(a, r, &buf);
        if (!avail) {
            rc = MC_ENOMEM;
            goto out;
        }
        mc__qty(e, q, avail);
        sh->offer_epoch++;
        struct mc__view *w = &r->fws.views[id];
        for (struct mc__vent *v = mc__view_first(w), *next; v && avail->n; v = next) {
            /* an entry that moves (a commit) goes further down the
             * list: the walk goes on from the old successor */
            next = v->next[0];
            struct mc__fwrole *fr = mc__fwrole_of(v->c);
            if (v->stamp == visit || fr->suppressed)
                continue;
            /* without quota the offer is what the role may use, as it is;
             * with quota a copy shrinks to the budgets (no copy per
             * candidate on the common path) */
            /* quota only shrinks an offer: a framework whose minimum all of
             * @avail cannot meet is out before anything is copied or read */
            if (!mc__min_ok(e, fr, q))
                continue;
            struct mc__grant g;
            mc_res_t *off = avail;
            const int64_t *qoff = q; /* off's quantities */
            if (e->nquota) {
                /* estimate first (plain reads), reserve only for a candidate
                 * that would take it, and check again what was granted */
                if ((rc = mc_res_copy(&toff, avail)))
                    goto out;
                mc__estimate(e, r, &toff, stage1);
                off = &toff;
                mc__qty(e, tq, off);
                qoff = tq;
                sh->offer_epoch++; /* its size depends on the budgets now */
            }
            bool ok = off->n && (off == avail || mc__min_ok(e, fr, qoff));
            if (ok && mc__filtered(sh, a, fr, off, e->now)) {
                sh->st.filtered++;
                ok = false;
            }
            if (!ok)
                continue;
            if (e->nquota) {
                if ((rc = mc_res_copy(&toff, avail)))
                    goto out;
                mc__reserve(e, r, &toff, stage1, &g);
                mc__qty(e, tq, &toff);
                sh->offer_epoch++;
                if (!toff.n || !mc__min_ok(e, fr, tq) || mc__filtered(sh, a, fr, &toff, e->now)) {
                    mc__give_back(e, r, &g); /* another shard took the budget meanwhile */
                    continue;
                }
            }
            struct mc__pending p;
            if ((rc = mc__prepare(sh, a, fr, off, stage1, &p))) {
                mc__give_back(e, r, &g);
                goto out;
            }
            mc__commit(e, sh, v, qoff);
            sh->st.offers += !p.merge; /* offers made: a merge adds to one (Q6) */
            mc__apply(sh, a, fr, off, qoff, stage1, &p);
            if (stage1)
                mc__note_met(e, r);
            v->stamp = visit;
            if (!(avail = mc__avail(a, r, &buf))) {
                rc = MC_ENOMEM;
                goto out;
            }
            if (avail->n)
                mc__qty(e, q, avail);
            sh->offer_epoch++;
        }
    }
out:
    if (rc == MC_OK && !e->nquota && sh->st.offers == offers) {
        a->blocked = true; /* B1: nothing here for anyone, until... */
        a->blocked_gen = e->blocked_gen;
        a->blocked_until = sh->visit_until;
    }
    mc_res_fini(&buf);
    mc_res_fini(&toff);
    return rc;
}

/* B1: visiting @a now would find the same nothing as last time. */
static bool mc__blocked(const mc_engine_t *e, const struct mc__agent *a)
{
    return !e->nquota && a->blocked && a->blocked_gen == e->blocked_gen &&
           e->now < a->blocked_until;
}

/* P1: groups the shard's offers of the cycle by framework into the records
 * the callback takes (sh->recs, sh->fstart), with a stable counting sort,
 * O(offers + frameworks): in parallel with the other shards, and where the
 * decisions are in cache. Allocates nothing, so it cannot fail:
 *   P2. A shard's records have room for every decision it made this cycle
 *       (each batch, kept or allocated, is taken after room for its
 *       records, mc__prepare) and fstart for every framework slot
 *       (mc__cycle), so what a cycle decided is published, even when
 *       memory ran out during it: no offer is held that its framework does
 *       not hear of. */
static void mc__group(struct mc__shard *sh)
{
    mc_engine_t *e = sh->e;
    uint32_t nf = e->nfws_slots, *start = sh->fstart; /* start[f + 1]: f's count */
    for (uint32_t f = 0; f < nf; f++)
        start[f + 1] += start[f];
    /* a stable counting sort: each framework's offers in decision order;
     * start[f] ends at framework f + 1's start, and is put back after */
    for (struct mc__chunk *c = sh->own; c; c = c->own)
        for (uint32_t j = 0; j < c->n; j++) {
            struct mc__decision *d = &c->d[j];
            const struct mc__fw *f = e->fws[d->fw];
            sh->recs[start[d->fw]++] = (struct mc_offer){.framework = f->id,
                                                         .agent = d->agent_id,
                                                         .framework_udata = f->udata,
                                                         .agent_udata = d->agent_udata,
                                                         .role = d->role->name,
                                                         .res = &d->res,
                                                         .seq = d->seq};
        }
    memmove(start + 1, start, nf * sizeof(*start));
    start[0] = 0;
}

static void mc__shard_run(struct mc__shard *sh, uint32_t seq)
{
    mc_engine_t *e = sh->e;
    memset(&sh->st, 0, sizeof(sh->st));
    sh->nseq = 0;
    sh->owns = false;
    sh->rc = MC_OK;
    sh->own = NULL;
    sh->own_end = &sh->own;
    /* each decision counts itself for its framework (mc__apply), so that
     * grouping reads the decisions once (P1); room: mc__cycle() */
    memset(sh->fstart, 0, (e->nfws_slots + 1) * sizeof(*sh->fstart));
    if (e->ndirty) {
        /* pair: the control thread's release store of sorted_seq, after it
         * sorted the listed sorters (drf.c R2) */
        for (unsigned spins = 0; atomic_load_explicit(&e->sorted_seq, memory_order_acquire) != seq;
             spins++)
            if (spins < MC__SPINS)
                mc__cpu_relax();
            else
                sched_yield();
        mc__views_refresh(e, sh->id);
    }
    uint32_t n = 0;
    for (uint32_t i = 0; i < sh->nagents; i++)
        if (sh->agents[i].active)
            sh->cand[n++] = sh->agents[i].a;
    sh->st.agents = n;
    /* no memory, or no role can take anything from these agents this
     * cycle: nothing to visit (the batches are still grouped, P1) */
    if ((sh->rc = mc__roles_possible(sh, n)) || !sh->nok)
        n = 0;
    mc__shuffle(sh, n);
    if (e->quota_stage) {
        for (uint32_t i = 0; i < n && sh->rc == MC_OK && !mc__stage1_done(e); i++)
            if (sh->cand[i]->free.n)
                sh->rc = mc__visit(sh, sh->cand[i], true);
        mc__shuffle(sh, n);
    }
    for (uint32_t i = 0; i < n && sh->rc == MC_OK; i++) {
        /* the order is random, so every agent record is a cache miss: ask
         * for the ones a few visits ahead while this one is visited */
        if (i + MC__PREFETCH < n)
            mc__prefetch_agent(sh->cand[i + MC__PREFETCH]);
        if (i + MC__PREFETCH / 2 < n) { /* its record has arrived by now */
            const struct mc__agent *b = sh->cand[i + MC__PREFETCH / 2];
            __builtin_prefetch(b->free.items);
            /* where an offer adds its hold: after the agent's holds, both
             * lines of a record that straddles two (an address of integers:
             * holds may be NULL, and a prefetch of no memory does nothing) */
            uintptr_t hold = (uintptr_t)b->holds + b->nholds * sizeof(*b->holds);
            __builtin_prefetch((const void *)hold, 1);
            __builtin_prefetch((const void *)(hold + sizeof(*b->holds) - 1), 1);
        }
        struct mc__agent *a = sh->cand[i];
        if (a->free.n && !mc__blocked(e, a))
            sh->rc = mc__visit(sh, a, false);
    }
    if (sh->ndue)
        mc__rekey_due(e, sh); /* one shard: V2 again, whatever happened above */
    if (e->nshards > 1)
        mc__estimates(e, sh); /* for the fold (drf.c C1) */
    mc__chunk_flush(sh);
    if (e->cfg.on_offers)
        mc__group(sh);
}

/* ---- workers -------------------------------------------------------------------------------- */

/* T1: takes cycle @seq's shards one at a time and runs them, until none is
 * left; @local on the control thread. */
static void mc__take_shards(mc_engine_t *e, uint32_t seq, bool local)
{
    uint64_t t = atomic_load_explicit(&e->next_shard, MC__RELAXED);
    for (;;) {
        if ((uint32_t)(t >> 32) != seq || (uint32_t)t >= e->nshards)
            return;
        if (!atomic_compare_exchange_weak_explicit(&e->next_shard, &t, t + 1, MC__RELAXED,
                                                   MC__RELAXED))
            continue; /* t now holds what another thread left */
        struct mc__shard *sh = &e->shards[(uint32_t)t];
        sh->local = local;
        mc__shard_run(sh, seq);
        /* pair: the control thread's acquire load of done (S2) */
        atomic_store_explicit(&sh->done, seq, memory_order_release);
        t = atomic_load_explicit(&e->next_shard, MC__RELAXED);
    }
}

static void *mc__worker(void *arg)
{
    mc_engine_t *e = arg;
    uint32_t seen = 0;
    for (;;) {
        uint32_t s;
        for (unsigned spins = 0;; spins++) {
            /* pair: the control thread's release store of cycle_seq (S2) */
            s = atomic_load_explicit(&e->cycle_seq, memory_order_acquire);
            if (s != seen)
                break;
            if (spins < MC__SPINS) {
                mc__cpu_relax();
                continue;
            }
            mc__futex_wait(&e->cycle_seq, seen);
        }
        if (atomic_load_explicit(&e->stop, MC__RELAXED))
            return NULL;
        seen = s;
        mc__take_shards(e, s, false);
    }
}

int mc__shards_start(mc_engine_t *e)
{
    atomic_init(&e->next_shard, 0);
    atomic_init(&e->sorted_seq, 0);
    for (uint32_t k = 0; k < e->nshards; k++) {
        struct mc__shard *sh = &e->shards[k];
        sh->e = e;
        sh->id = k;
        atomic_init(&sh->done, 0);
        sh->chunks = NULL;
        sh->chunks_end = &sh->chunks;
        if (e->nthreads == 1)
            continue; /* every shard runs on the control thread */
        if (!(sh->ringbuf = calloc(MC__RING_SIZE, sizeof(*sh->ringbuf))))
            goto out_free;
        ck_ring_init(&sh->ring, MC__RING_SIZE);
    }
    if (e->nthreads > 1 && !(e->workers = calloc(e->nthreads - 1, sizeof(*e->workers))))
        goto out_free;
    for (uint32_t w = 0; w + 1 < e->nthreads; w++)
        if (pthread_create(&e->workers[w], NULL, mc__worker, e)) {
            e->nthreads = w + 1; /* the workers started so far */
            goto out_free;
        }
    return MC_OK;
out_free:
    mc__shards_stop(e);
    return MC_ENOMEM;
}

void mc__chunks_free(struct mc__chunk *c)
{
    for (struct mc__chunk *next; c; c = next) {
        next = c->next;
        free(c);
    }
}

void mc__shards_stop(mc_engine_t *e)
{
    atomic_store_explicit(&e->stop, 1, MC__RELAXED);
    atomic_fetch_add_explicit(&e->cycle_seq, 1, memory_order_release);
    mc__futex_wake(&e->cycle_seq);
    for (uint32_t w = 0; e->workers && w + 1 < e->nthreads; w++)
        pthread_join(e->workers[w], NULL);
    free(e->workers);
    e->workers = NULL;
    for (uint32_t k = 0; k < e->nshards; k++) {
        free(e->shards[k].ringbuf);
        e->shards[k].ringbuf = NULL;
    }
}

/* ---- the cycle (control thread) ------------------------------------------------------------- */

static uint64_t mc__wall_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * MC_NS_PER_SEC + (uint64_t)ts.tv_nsec;
}

static void mc__drain(struct mc__shard *sh)
{
    struct mc__chunk *c;
    while (sh->ringbuf && (c = mc_ring_pop_spsc(&sh->ring, sh->ringbuf)))
        mc__chunk_keep(sh, c);
}

/* Framework @f's grouped offers (P1): how many shards made some (returned),
 * how many in all (@n), and the last shard's part (@last). */
static uint32_t mc__fw_parts(const mc_engine_t *e, uint32_t f, uint32_t *n,
                             const struct mc_offer **last)
{
    uint32_t parts = 0;
    *n = 0;
    for (uint32_t k = 0; k < e->nshards; k++) {
        const struct mc__shard *sh = &e->shards[k];
        uint32_t len = sh->fstart[f + 1] - sh->fstart[f];
        if (len) {
            *last = &sh->recs[sh->fstart[f]];
            *n += len;
            parts++;
        }
    }
    return parts;
}

/* P1: each framework's offers, shard after shard, handed over as the shard
 * built them when one shard made them all, copied into one batch otherwise;
 * without memory for that batch, one call per shard's part (P2: nothing
 * decided goes unpublished). */
static void mc__call(mc_engine_t *e)
{
    uint32_t most = 0, n;
    const struct mc_offer *one = NULL;
    for (uint32_t f = 0; f < e->nfws_slots; f++)
        if (mc__fw_parts(e, f, &n, &one) > 1 && n > most)
            most = n;
    struct mc_offer *batch = most ? malloc(most * sizeof(*batch)) : NULL;
    for (uint32_t f = 0; f < e->nfws_slots; f++) {
        if (mc__fw_parts(e, f, &n, &one) > 1) { /* joined, shard after shard */
            uint32_t m = 0;
            for (uint32_t k = 0; k < e->nshards; k++) {
                const struct mc__shard *sh = &e->shards[k];
                uint32_t len = sh->fstart[f + 1] - sh->fstart[f];
                if (!len) /* a shard without offers may have no records at all */
                    continue;
                const struct mc_offer *part = &sh->recs[sh->fstart[f]];
                if (batch)
                    memcpy(batch + m, part, len * sizeof(*batch));
                else
                    e->cfg.on_offers(e->cfg.cb_arg, part, len);
                m += len;
            }
            one = batch; /* NULL: every part went on its own */
        }
        if (n && one)
            e->cfg.on_offers(e->cfg.cb_arg, one, n);
    }
    free(batch);
}

/* Hands the cycle's decisions to the offer callback, one batch per framework:
 * shard 0's in decision order, then shard 1's, and so on (the order of the
 * shards' lists of batches); frees the vectors the decisions own and keeps
 * the batches for the shard's next cycle. */
static void mc__publish(mc_engine_t *e)
{
    if (e->cfg.on_offers)
        mc__call(e);
    for (uint32_t k = 0; k < e->nshards; k++) {
        struct mc__shard *sh = &e->shards[k];
        for (struct mc__chunk *c = sh->owns ? sh->chunks : NULL; c; c = c->next)
            for (uint32_t j = 0; j < c->n; j++)
                if (!c->d[j].borrowed)
                    mc_res_fini(&c->d[j].res);
        if (sh->chunks) { /* kept for the next cycle, and no older ones (sh->spare) */
            mc__chunks_free(sh->spare);
            sh->spare = sh->chunks; /* linked by next, the last NULL (mc__chunk_keep) */
        }
        sh->chunks = NULL;
        sh->chunks_end = &sh->chunks;
    }
}

int mc__cycle(mc_engine_t *e, struct mc_cycle_stats *stats)
{
    uint64_t t0 = mc__wall_ns();
    e->now = e->cfg.clock(e->cfg.clock_arg);
    e->pending = false;
    e->last_cycle = e->now;
    e->cycles++;
    for (uint32_t k = 0; k < e->nshards; k++) {
        struct mc__shard *sh = &e->shards[k];
        /* room for every client a shard may allocate to (drf.c C1): the
         * fwroles not suppressed, each role's self and node */
        if (mc__grow(&sh->cand, &sh->capcand, sh->nagents, sizeof(*sh->cand)) ||
            (e->nshards == 1 && mc__grow(&sh->due, &sh->capdue, e->nroles, sizeof(*sh->due))) ||
            (e->nshards > 1 &&
             (mc__grow(&sh->touched, &sh->captouched, e->nactive_fwroles + 2 * e->nroles,
                       sizeof(*sh->touched)) ||
              mc__grow(&sh->floored, &sh->capfloored, e->nroles + 1, sizeof(*sh->floored)))) ||
            mc__grow(&sh->fstart, &sh->capfstart, e->nfws_slots + 1, sizeof(*sh->fstart)))
            return MC_ENOMEM;
    }
    if (mc__slots_fit(e)) /* C1: room in the parts for every live dim */
        return MC_ENOMEM;
    if (e->nquota)
        mc__quota_prepare(e);
    else
        e->quota_stage = e->guarantees = false;
    if (e->ordered_stale) {
        mc__roles_ordered(e);
        e->ordered_stale = false;
    }
    if (e->nshards > 1)
        mc__scales_set(e);
    mc__views_prepare(e); /* drf.c R2 */

    uint32_t seq = atomic_load_explicit(&e->cycle_seq, MC__RELAXED) + 1;
    atomic_store_explicit(&e->next_shard, (uint64_t)seq << 32, MC__RELAXED); /* T1 */
    /* S2: everything written above happens-before the workers' acquire */
    atomic_store_explicit(&e->cycle_seq, seq, memory_order_release);
    if (e->nthreads > 1)
        mc__futex_wake(&e->cycle_seq);
    /* drf.c R2: while the workers wake; pair: each shard's acquire load of
     * sorted_seq before it relinks its views */
    mc__views_sort(e);
    atomic_store_explicit(&e->sorted_seq, seq, memory_order_release);
    mc__take_shards(e, seq, true);
    int rc = MC_OK;
    for (uint32_t k = 0; k < e->nshards; k++) {
        struct mc__shard *sh = &e->shards[k];
        for (;;) {
            /* pair: the worker's release store of done (S2) */
            bool finished = atomic_load_explicit(&sh->done, memory_order_acquire) == seq;
            mc__drain(sh);
            if (finished)
                break;
            sched_yield();
        }
    }
    e->views_stale = false;
    mc__views_done(e);
    struct mc_cycle_stats st = {0};
    if (e->nshards > 1)
        st.fairness_error = mc__fold(e); /* drf.c C1: allocations exact again */
    for (uint32_t k = 0; k < e->nshards; k++) {
        struct mc__shard *sh = &e->shards[k];
        st.offers += sh->st.offers;
        st.agents += sh->st.agents;
        st.filtered += sh->st.filtered;
        rc = rc ? rc : sh->rc;
    }
    mc__publish(e); /* what was decided is published even after an error (P2) */
    st.duration_ns = mc__wall_ns() - t0;
    e->last_stats = st;
    if (stats)
        *stats = st;
    return rc;
}
