/* engine/internal.h: the engine's objects, shared by engine.c (registry and
 * API), drf.c (shares and per-shard DRF views) and shard.c (allocation
 * cycles on shard workers). Not installed; nothing outside engine/ uses it.
 *
 * Threads and phases (docs/engine.md has the full story):
 *   - The control thread is whoever calls the engine API. Between cycles it
 *     is the only thread that touches engine state.
 *   - A cycle runs on S shards, taken one at a time by T threads: the
 *     control thread itself and T-1 worker threads (T = the CPUs the
 *     process may use, at most S; shard.c T1). During a cycle each shard is
 *     the only writer of its agents (free vectors, holds, filters), of its
 *     own DRF views and of its part of every DRF client's allocation (drf.c
 *     C1); the only state written by several shards is the quota budgets,
 *     atomics (shard.c Q1).
 *   - Shards run by a worker hand their decisions to the control thread in
 *     batches through one bounded SPSC ck_ring each (shard.c).
 */
#ifndef MC_ENGINE_INTERNAL_H
#define MC_ENGINE_INTERNAL_H
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <ck_ring.h>

#include "engine/engine.h"
#include "engine/idmap.h"

static inline void mc__cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#endif
}

/* ---- DRF clients and per-shard views (drf.c) ----------------------------------- */

enum mc__client_kind { MC__ROLE_NODE, MC__ROLE_SELF, MC__FWROLE };

struct mc__vent;

/* What shard k allocated to a client in the current cycle, with S > 1 shards
 * (drf.c C1): written only by shard k during the cycle, read and zeroed by the
 * control thread once every shard is done (mc__fold), so zero between cycles.
 * Plain integers: the cycle's start (cycle_seq) and end (each shard's done)
 * order every access. count first: with few dimensions a commit writes one
 * line. floor: a lower bound of the client's share that shard k learnt this
 * cycle (shard.c Q5, role nodes only), set by shard k during the cycle and
 * zeroed with the rest of the slot when the cycle is folded; here because
 * shard k's key (drf.c V2) reads the slot's first line anyway. est: the
 * share shard k counted, written by shard k when its visits are done
 * (mc__estimates), read and zeroed by the control thread in the fold (after
 * every shard's done, S2). alloc: by the index of a dim in e->live (the
 * dims a commit adds to), mc__slot_dims() of them. A client's S slots are one
 * array of e->slot_size bytes each (mc__slot), at least MC__SLOT_MIN: the
 * lines the shards write (each slot's first) are two apart, since a core
 * that reads one line also fetches the other of its aligned 128-byte pair
 * (with one line apart, DeclineOffers 10,000 x 1,000 on two shards took
 * 15 % longer: bench/README.md), and the parts of a large cluster's many
 * clients take a few lines each, not the room of every dimension there
 * could be (MC_ENGINE_MAX_DIMS). */
#define MC__SLOT_MIN 128u

struct mc__cslot {
    uint64_t count;
    double floor;
    double est;
    int64_t alloc[];
};

/* A client of a DRF sorter: a role's subtree (node), a role's own frameworks
 * (self), or one framework in one role (fwrole). Shared by all shards.
 *   alloc, count  the allocation and the allocations ever made: exact between
 *           cycles; during a cycle with one shard its commits update them, with
 *           several they stay as the cycle found them and each shard adds to
 *           its slot (drf.c C1)
 *   slots   [S] with S > 1 (NULL with one shard)
 *   weight, name, kind, owner, ordered: written by the control thread between
 *           cycles (ordered when a cycle starts, before it publishes cycle_seq: S2). */
struct mc__client {
    char *slots; /* [S] slots of e->slot_size bytes: mc__slot() */
    double weight;
    const char *name;
    struct mc__sorter *sorter; /* the sorter it is in (NULL: none) */
    uint8_t kind;
    bool ordered; /* a role's node or self: another entry of its sorter can receive offers,
                   * so its key orders something (this cycle; drf.c V2) */
    void *owner;  /* struct mc__role * or struct mc__fwrole * */
    struct mc__vent *vents; /* [S]: this client's entry in each shard's view */
    /* written by one-shard commits: on lines of their own, apart from the
     * fields above that key comparisons read (the structures holding clients
     * come from mc__zalloc_lines) */
    uint64_t count __attribute__((aligned(64)));
    /* S > 1: the share after the fold, computed once per client that some
     * shard allocated to (drf.c mc__fold; control thread, after every
     * shard's done: S2); < 0 until the fold's second pass computes it. On
     * the line the fold writes anyway. */
    double folded;
    int64_t alloc[MC_ENGINE_MAX_DIMS];
};

#define MC__SKIP_LEVELS 12 /* p = 1/4: plenty for 16M clients */

/* One shard's view of one client: the client's key (share, count) as that
 * shard counts it (drf.c V2), and its node in that shard's skip list.
 * Written only by its shard during a cycle, by the control thread between
 * cycles. A client's S entries are one array; each starts a cache line of
 * its own, so shards writing their entries of one client (stamps, links) do
 * not share a line. */
struct __attribute__((aligned(64))) mc__vent {
    /* the first line: all that a comparison of two keys reads, unless the
     * names' first 8 bytes are equal */
    struct mc__client *c;
    double share;
    uint64_t count;
    uint64_t name_key; /* the client's name's first 8 bytes, big-endian (a constant) */
    struct mc__view *view;
    uint64_t stamp;        /* the agent visit that already offered to this client */
    uint32_t idx;          /* index in view->all */
    uint32_t level;        /* lists this node is linked on, 1..MC__SKIP_LEVELS */
    struct mc__vent *prev; /* on list 0 (NULL for the first) */
    struct mc__vent *next[MC__SKIP_LEVELS];
};

/* One shard's order of one sorter's clients: a skip list (Pugh, CACM 1990)
 * sorted by key, so that taking the first eligible entry is O(1) per entry
 * walked and moving an entry whose key changed is O(log n); O(1) expected in
 * the common case of DRF, where the first entry moves to (near) the end: the
 * first node is unlinked from the heads, and a search starts from the last
 * node of each list when the key sorts after it. `all` lists the members in
 * no order, for the refresh that rebuilds the list. */
struct __attribute__((aligned(64))) mc__view {
    /* a small view (most roles have few children) fits one cache line;
     * each shard's view starts a line of its own (mc__sorter_init) */
    uint32_t level; /* lists in use */
    uint32_t n, cap;
    uint64_t rng; /* node levels */
    struct mc__vent **all;
    struct {
        struct mc__vent *head, *tail; /* the first and last node of list l (NULL: empty) */
    } lv[MC__SKIP_LEVELS];
};

static inline struct mc__vent *mc__view_first(const struct mc__view *w)
{
    return w->lv[0].head;
}

/* A member's key as R2's sort compares it, beside its entry: the sort then
 * reads a contiguous array instead of two entries per compare. */
struct mc__skey {
    uint64_t share; /* the share's bits (drf.c mc__share_bits) */
    uint64_t count;
    uint64_t name_key;
    struct mc__vent *v;
};

/* A sorter: the role tree's top level, one role's children, or one role's
 * frameworks; one view per shard. */
struct mc__sorter {
    struct mc__view *views; /* [S] */
    bool dirty; /* listed in e->dirty: refreshed when the next cycle starts (drf.c R1) */
    /* S > 1: the members in key order with their keys, as the control thread
     * sorted them when the cycle started (drf.c R2): written before its
     * release of sorted_seq, read by shards after their acquire of it, and
     * by nobody after that until the next cycle */
    struct mc__sorted {
        struct mc__client *c;
        double share;
        uint64_t count;
    } * order;
    uint32_t caporder;
};

/* ---- registry objects (engine.c) --------------------------------------------------- */

struct mc__role {
    char *name;
    uint32_t sym;
    uint32_t idx;
    struct mc__role *parent;
    struct mc__client node, self;
    struct mc__sorter children; /* child nodes + self */
    struct mc__sorter fws;      /* fwrole clients */
    bool leaf;                  /* no child roles (none is ever removed): its children
                                 * sorter holds its self entry alone; set by the
                                 * control thread between cycles (S2) */
    uint32_t nactive;           /* fwroles of this role not suppressed */
    uint32_t nactive_default;   /* of those, the ones with the default minimum offer */
    uint32_t nactive_subtree;   /* the same over its subtree */
    mc_res_t guarantee, limit;  /* unreserved scalar quantities; empty = none */
    struct mc__role *groot;     /* highest ancestor-or-self with a guarantee */
    bool rekey_due; /* one shard: an entry on its path not ordered (drf.c V2) was left for
                     * after the shard's visits, listed in shards[0].due */
    /* quota budgets of the current cycle (shard.c Q1-Q3), written by shards
     * during the cycle: on cache lines of their own, so that their writes do
     * not take away the lines above, which every role walk reads */
    _Atomic int64_t consumed[MC_ENGINE_MAX_DIMS] __attribute__((aligned(64)));
    _Atomic uint32_t gmet; /* stage 1 counted its guarantee met (shard.c Q4, a hint) */
};

/* What the visit reads of a candidate comes first: from a view entry the
 * walk reaches it by mc__fwrole_of() (no load), then one line holds fw, role,
 * the framework's slot, its own index, suppressed and own_min, which only the
 * control thread writes (between cycles): an offer needs no line of the
 * framework's record. The client's counters are on lines of their own. */
struct mc__fwrole {
    struct mc__fw *fw;
    struct mc__role *role;
    uint32_t fw_idx; /* fw->idx */
    uint32_t idx;    /* its index in fw->roles (a hold's and a filter's fr) */
    bool suppressed;
    bool own_min; /* fw->nmin > 0: its own minimum offers, not the default */
    struct mc__client c;
};

static inline struct mc__fwrole *mc__fwrole_of(struct mc__client *c)
{
    return (struct mc__fwrole *)(void *)((char *)c - offsetof(struct mc__fwrole, c));
}

struct mc__fw {
    char *id;
    /* the caller's (mc_engine_framework_udata): set by the control thread
     * between cycles, read by the shards' grouping during one (ordered by
     * cycle_seq, shard.c S2) into each offer */
    void *udata;
    uint32_t idx;
    uint32_t nroles;
    struct mc__fwrole *roles;
    uint64_t tasks;
    uint64_t revive_gen; /* filters installed under an older generation are void */
    mc_res_t *min;
    size_t nmin;
};

/* What one framework holds on one agent in one role. */
struct mc__hold {
    uint32_t fw;
    uint32_t fr; /* index into fw->roles */
    mc_res_t offered, used;
    uint64_t tasks;
    uint64_t offered_at;
};

/* A resource vector shared by the refuse filters of one agent: frameworks
 * that decline the same agent usually decline the same resources, so the
 * agent keeps one copy (hot in cache, and checked once per visit: shard.c)
 * instead of one per filter. Owned by its agent's shard, like the filters. */
struct mc__shres {
    uint32_t refs;
    mc_res_t r;
};

/* A refuse filter; an agent's filters are sorted by key (mc__filter_key). */
struct mc__filter {
    uint64_t key;
    uint64_t gen;
    uint64_t expires;
    struct mc__shres *refused;
};

/* The filter key of framework slot @fw's role index @fr (engine.c E4), and
 * back: the one place that knows how a (framework, role) pair is packed. */
static inline uint64_t mc__filter_key(uint32_t fw, uint32_t fr)
{
    return (uint64_t)fw << 8 | fr;
}
static inline uint32_t mc__filter_fw(uint64_t key)
{
    return (uint32_t)(key >> 8);
}
static inline uint32_t mc__filter_fr(uint64_t key)
{
    return (uint32_t)(key & 0xff);
}

struct mc__agent {
    char *id; /* first: engine.c's queries sort records by it */
    /* the caller's (mc_engine_agent_udata): set by the control thread
     * between cycles, copied into each decision by the agent's shard during
     * one (ordered by cycle_seq, shard.c S2) */
    void *udata;
    /* what every cycle reads for every agent, within the first 128 bytes
     * (two cache lines: the records are allocated on line boundaries, and
     * the agent loops prefetch both, shard.c) */
    mc_res_t free;
    /* Blocked-agent cache (shard.c B1): the last visit found nothing it could
     * offer, and that stays true while the free vector (every change clears
     * `blocked`), the candidates (e->blocked_gen) and the clock
     * (< blocked_until) do. */
    uint64_t blocked_gen, blocked_until;
    uint32_t nholds, capholds; /* the capacity too: adding a hold reads it */
    bool active, blocked;
    uint32_t nkeys; /* F1, below: in this word to keep the hot fields in two lines */
    struct mc__hold *holds;
    struct mc__filter *filters;
    uint32_t nfilters, capfilters;
    /* All-filtered summary (shard.c F1), kept by every function that adds
     * or removes a filter: the (framework, role) pairs not suppressed that
     * have a filter here, a lower bound of the filters' expiry, and the
     * e->filt_epoch it was computed under (stale: the next check sweeps). */
    uint64_t filt_min_exp, filt_epoch;
    struct mc__shres *last_refused; /* the newest refused vector, to share */
    /* H1: bit mc__hold_bit(fw, fr) is set for every hold here (and maybe for
     * pairs with none): a visit that finds the bit clear knows the pair has
     * no hold without scanning them (engine.c mc__hold_find) */
    uint64_t hold_bits[2];

    char *attrs;
    uint32_t idx;
    uint32_t shard, spos; /* owning shard, index in its agent list */
    mc_res_t total;
    /* Q6: the last decision stage 1 of cycle s1_cycle made here (the
     * others: its s1_prev chain), so that stage 2 adds to the offer of the
     * same framework and role instead of making a second. Written and read
     * by the agent's shard only (S1). */
    uint64_t s1_cycle;
    struct mc__decision *s1_last;
};

/* ---- shards (shard.c) ----------------------------------------------------------------- */

struct mc__decision {
    uint32_t fw;
    bool borrowed;        /* res is a shallow view of the hold's offered vector, which
                           * nothing changes until the cycle has published (shard.c) */
    const char *agent_id; /* these two read while the agent's record is in cache */
    void *agent_udata;
    struct mc__role *role;
    mc_res_t res; /* what was offered */
    uint64_t seq;
    struct mc__decision *s1_prev; /* stage 1 only: the one before on this agent (Q6) */
};

#define MC__CHUNK     255u  /* decisions per batch: with its header, 16 KiB (a size class) */
#define MC__RING_SIZE 1024u /* batches in flight per shard (power of two) */

struct mc__chunk {
    struct mc__chunk *next; /* in its shard's list of the cycle's batches */
    struct mc__chunk *own;  /* the same list, linked by the shard itself (shard.c P1) */
    uint32_t n;
    /* a decision per line, the header alone in the first (allocated on a
     * line boundary, shard.c) */
    struct mc__decision d[MC__CHUNK] __attribute__((aligned(64)));
};
_Static_assert(sizeof(struct mc__chunk) <= 16384, "a batch fits 16 KiB, not the next size class");
_Static_assert(sizeof(struct mc__decision) == 64, "a decision per line");

struct mc__shard {
    mc_engine_t *e;
    uint32_t id;
    bool local; /* run by the control thread this cycle: batches go straight to
                 * its list, not through the ring (set by whoever takes it, T1) */
    uint64_t rng[4];
    /* the agents this shard owns, each with a copy of its active flag, so
     * that the cycle's first pass reads this array and not the records;
     * written by the control thread between cycles, read by the shard
     * during one (ordered by cycle_seq, S2) */
    struct mc__sagent {
        struct mc__agent *a;
        bool active;
    } * agents;
    uint32_t nagents, capagents;
    struct mc__agent **cand; /* the cycle's active agents, in visit order: records, not
                              * slots, so that the random order costs one miss each */
    uint32_t capcand;
    uint32_t *due; /* one shard: roles whose path entries await their rekey (drf.c V2) */
    uint32_t ndue, capdue;
    /* S > 1: roles whose path this shard gave a floor this cycle (shard.c Q5),
     * each once; the control thread lists their sorters after the cycle (drf.c R1) */
    uint32_t *floored;
    uint32_t nfloored, capfloored;
    /* roles that can take anything from this shard's agents this cycle: some
     * active framework's minimum fits in the largest free vector (shard.c) */
    uint8_t *role_ok;     /* by role index; 2: and its floor set by Q5 this cycle */
    uint32_t *ok_subtree; /* by role index: such roles in its subtree */
    uint32_t caproles, capsubtree, nok;
    struct mc__chunk *chunk; /* batch being filled */
    /* the batches of the last cycle the shard made any in, for the next to
     * fill again (linked by next): a batch is 16 KiB, past the allocator's
     * thread caches, and published (freed) by the control thread, not the
     * worker that allocated it. Written by the control thread after the
     * shard's done, read by the shard after cycle_seq (S2) */
    struct mc__chunk *spare;
    uint64_t nseq; /* decisions this cycle */
    /* some decision this cycle owns its vector's arrays (not borrowed): set by
     * the shard, read by publication after the shard's done (S2) */
    bool owns;
    uint64_t visit;       /* agent visit counter (stamps) */
    uint64_t offer_epoch; /* bumped whenever the offer being considered changes */
    uint64_t visit_until; /* earliest expiry of the filters that held back this visit */
    struct {              /* refused vectors already compared with that offer */
        const struct mc__shres *refused;
        uint64_t epoch;
        bool contains;
    } memo[4];
    struct mc_cycle_stats st;
    int rc;
    /* S > 1 (drf.c C1): the clients whose slot this shard wrote this cycle,
     * each once (room for every client: grown when a cycle starts). Written
     * by the shard, read by the control thread after its done (S2) */
    struct mc__client **touched;
    uint32_t ntouched, captouched;
    /* the free scalars of its active agents: kept by the control thread
     * between cycles and by the shard during one (mc_engine_check() sums them) */
    int64_t free[MC_ENGINE_MAX_DIMS];
    /* S > 1: what one unit of each name this shard allocates this cycle adds to
     * a client's share in its keys (drf.c V2); set by the control thread
     * before it publishes cycle_seq (S2) */
    double scale[MC_ENGINE_MAX_DIMS];
    /* worker -> control: full batches. Producer: the worker that took this
     * shard this cycle (one at a time: a cycle's start and end order the
     * workers of consecutive cycles, T1); consumer: the control thread. ck_ring SPSC: the enqueue's
     * store fence pairs with the dequeue's load fence, so a batch's contents are visible to the
     * consumer (TSan is told the same through ring.h). */
    ck_ring_t ring CK_CC_CACHELINE;
    ck_ring_buffer_t *ringbuf;
    _Atomic uint32_t done; /* last cycle this shard finished (release; pair: control acquire) */
    /* the control thread's list of this shard's batches of the cycle, in order */
    struct mc__chunk *chunks, **chunks_end;
    /* shard.c P1: the same batches, listed by the shard as it fills them,
     * and their offers as the callback takes them, grouped by framework by
     * the shard after its visits: framework f's are
     * recs[fstart[f]] to recs[fstart[f + 1] - 1] (room: P2). During the
     * visits fstart[f + 1] counts f's decisions (zeroed when the shard
     * starts, mc__apply); mc__group turns the counts into starts. Written
     * by the shard, read by the control thread after done (S2). */
    struct mc__chunk *own, **own_end;
    struct mc_offer *recs;
    uint32_t *fstart;
    uint32_t caprecs, capfstart;
};

/* Freed slots of a table, reused before the table grows. */
struct mc__slots {
    uint32_t *free;
    uint32_t n, cap;
};

struct mc_engine {
    struct mc_engine_config cfg;
    uint32_t nshards;
    struct mc__shard *shards;
    uint32_t nthreads;  /* threads that run the shards, the control thread's included */
    pthread_t *workers; /* nthreads - 1 */

    struct mc__fw **fws;
    uint32_t nfws_slots, capfws;
    struct mc__slots free_fws;
    mc_idmap_t fw_ids;
    struct mc__agent **agents;
    uint32_t nagent_slots, capagents;
    struct mc__slots free_agents;
    mc_idmap_t agent_ids;
    struct mc__role **roles;
    uint32_t nroles, caproles;
    mc_idmap_t role_ids;
    struct mc__sorter top;

    uint32_t dim_sym[MC_ENGINE_MAX_DIMS];
    uint32_t ndims;
    uint8_t *dim_of;                   /* symbol -> dim, 0xff = none */
    int64_t total[MC_ENGINE_MAX_DIMS]; /* cluster total, every agent */
    /* the dims whose total is > 0, ascending (engine.c mc__total_add): the
     * only ones a share counts and an offer can hold. Like total[], written
     * by the control thread between cycles and read by every shard during
     * one: the cycle's start (release store of cycle_seq, shard.c S2)
     * orders the two */
    uint8_t live[MC_ENGINE_MAX_DIMS];
    uint32_t nlive;
    /* S > 1: the size of a client's slot (a multiple of a cache line;
     * mc__slot_dims: the live dims it has room for); grown by the control
     * thread when a cycle starts with more dims live (drf.c mc__slots_fit),
     * when every slot is zero (C1), before the cycle's release of cycle_seq
     * (shard.c S2) */
    size_t slot_size;
    uint32_t nquota; /* roles with a guarantee or a limit */

    bool views_stale;                    /* the cluster total or a weight changed (drf.c V2) */
    struct mc__sorter **dirty;           /* sorters the next cycle refreshes (drf.c R1) */
    uint32_t ndirty, capdirty, nsorters; /* room for every sorter (mc__sorter_init) */
    /* R2's sort (control thread): twice the room of any sorter, for its
     * keys and the merges' copy (drf.c mc__sorter_sort) */
    struct mc__skey *sort_keys;
    uint32_t capsort;
    bool ordered_stale;       /* a role's active frameworks changed: recompute ordered */
    uint64_t blocked_gen;     /* bumped when the candidates of any agent may change (B1) */
    uint64_t filt_epoch;      /* bumped by suppress, revive, framework removal (F1) */
    uint32_t nactive_fwroles; /* (framework, role) pairs not suppressed (F1) */
    bool pending;             /* an event asked for a cycle */
    uint64_t last_cycle;      /* clock at the start of the last cycle */
    uint64_t cycles;

    /* the cycle being run; written by the control thread before it publishes
     * `cycle_seq` (release), read by workers after they see it (acquire) */
    _Atomic uint32_t cycle_seq;
    _Atomic uint32_t stop;
    /* the cycle whose listed sorters the control thread has sorted (drf.c
     * R2): stored (release) after it woke the workers, loaded (acquire) by
     * each shard before it relinks its views */
    _Atomic uint32_t sorted_seq;
    uint64_t now;
    bool quota_stage; /* some role with a guarantee has frameworks: run stage 1 */
    bool guarantees;  /* some role has a guarantee: headroom applies (shard.c Q2) */
    /* written by shards during a cycle: on cache lines of their own, away
     * from the fields above that every visit reads (mc__zalloc_lines) */
    _Atomic uint32_t nunmet
        __attribute__((aligned(64))); /* roles stage 1 may still serve (shard.c Q4, a hint) */
    _Atomic int64_t surplus[MC_ENGINE_MAX_DIMS]; /* headroom beyond unmet guarantees (Q2) */
    /* the next shard to take: the cycle's seq << 32 | shard index (shard.c T1) */
    _Atomic uint64_t next_shard __attribute__((aligned(64)));

    struct mc_cycle_stats last_stats __attribute__((aligned(64)));
    struct mc__view_box *view; /* RCU-published summary (view.c) */
};

/* ---- engine.c ---------------------------------------------------------------------------- */

/* Grows the array at *@pp (of @elem-byte elements, capacity *@cap) to hold
 * @need, doubling. Returns 0, MC_ENOMEM or MC_ELIMIT; on error it is unchanged.
 * Inline: an array with room (every call on a hot path, nearly always)
 * costs one compare and no call; mc__grow_to() reallocates. */
int mc__grow_to(void *pp, uint32_t *cap, uint32_t need, size_t elem);
static inline int mc__grow(void *pp, uint32_t *cap, uint32_t need, size_t elem)
{
    return need <= *cap ? 0 : mc__grow_to(pp, cap, need, elem);
}
/* Holds of an agent by (framework slot, index in its roles): find, add (a
 * zeroed hold; NULL without memory; pointers to other holds may move) and
 * delete (after mc_res_fini of its vectors; the last hold takes its place).
 * They keep the agent's hold_bits (H1). */
struct mc__hold *mc__hold_find(struct mc__agent *a, uint32_t fw, uint32_t fr);
struct mc__hold *mc__hold_add(struct mc__agent *a, uint32_t fw, uint32_t fr);
void mc__hold_gc(struct mc__agent *a, struct mc__hold *h); /* drops @h if it holds nothing */
void mc__hold_del(struct mc__agent *a, struct mc__hold *h);
/* @n zeroed elements of @size bytes on 64-byte boundaries (cache lines), for
 * structures whose members are aligned to keep shards' writes apart; NULL on
 * overflow or without memory. Freed with free(). */
void *mc__zalloc_lines(size_t n, size_t size);

/* ---- drf.c ------------------------------------------------------------------------------ */

int mc__sorter_init(mc_engine_t *e, struct mc__sorter *s);
void mc__sorter_fini(mc_engine_t *e, struct mc__sorter *s);
/* The live dims a slot has room for. */
static inline uint32_t mc__slot_dims(const mc_engine_t *e)
{
    return (uint32_t)((e->slot_size - offsetof(struct mc__cslot, alloc)) / sizeof(int64_t));
}

/* Shard @k's slot of @c (S > 1). */
static inline struct mc__cslot *mc__slot(const mc_engine_t *e, const struct mc__client *c,
                                         uint32_t k)
{
    return (struct mc__cslot *)(void *)(c->slots + (size_t)k * e->slot_size);
}

int mc__slots_fit(mc_engine_t *e);
int mc__client_init(mc_engine_t *e, struct mc__client *c, uint8_t kind, void *owner,
                    const char *name, double weight);
void mc__client_fini(struct mc__client *c);
int mc__sorter_insert(mc_engine_t *e, struct mc__sorter *s, struct mc__client *c);
void mc__sorter_remove(mc_engine_t *e, struct mc__client *c);
double mc__share_of(const mc_engine_t *e, const int64_t *alloc, double weight);
void mc__client_load(const mc_engine_t *e, const struct mc__client *c, int64_t *alloc);
bool mc__client_folded(const mc_engine_t *e, const struct mc__client *c);
void mc__qty(const mc_engine_t *e, int64_t *q, const mc_res_t *r);
void mc__charge(mc_engine_t *e, struct mc__fwrole *fr, const mc_res_t *r, int sign);
void mc__views_prepare(mc_engine_t *e);
void mc__views_sort(mc_engine_t *e);
void mc__views_refresh(mc_engine_t *e, uint32_t shard);
void mc__views_done(mc_engine_t *e);
bool mc__view_ok(const mc_engine_t *e, const struct mc__sorter *s, uint32_t shard);
#define MC__ROLE_DEPTH (MC_ID_MAX_LEN / 2 + 2) /* a role name has at most 128 components */
struct mc__role_iter {
    uint32_t shard, depth;
    uint64_t visit;
    const uint8_t *role_ok; /* NULL: every role */
    const uint32_t *ok_subtree;
    struct mc__vent *stack[MC__ROLE_DEPTH];
};
void mc__role_iter_init(struct mc__role_iter *it, mc_engine_t *e, uint32_t shard, uint64_t visit);
struct mc__role *mc__role_iter_next(struct mc__role_iter *it);
void mc__roles_ordered(mc_engine_t *e);
void mc__rekey_due(mc_engine_t *e, struct mc__shard *sh);
void mc__role_floor(mc_engine_t *e, struct mc__role *r, uint32_t shard);
void mc__commit(mc_engine_t *e, struct mc__shard *sh, struct mc__vent *v, const int64_t *q);
void mc__estimates(const mc_engine_t *e, const struct mc__shard *sh);
double mc__fold(mc_engine_t *e);
void mc__scales_set(mc_engine_t *e);

/* ---- view.c ------------------------------------------------------------------------------ */

struct mc__view_box;
void mc__view_retire(mc_engine_t *e);

/* ---- shard.c ----------------------------------------------------------------------------- */

int mc__shards_start(mc_engine_t *e);
void mc__shards_stop(mc_engine_t *e);
void mc__chunks_free(struct mc__chunk *c); /* a list linked by next */
int mc__cycle(mc_engine_t *e, struct mc_cycle_stats *st);
int mc__filter_find(const struct mc__agent *a, uint64_t key);

/* F1: whether a filter of pair @key placed at index @i of @a's sorted filters
 * counts toward a->nkeys: it is the pair's first (the filter before it is
 * another pair's) and the pair is not suppressed. */
static inline bool mc__filter_counts(const mc_engine_t *e, const struct mc__agent *a, uint32_t i,
                                     uint64_t key)
{
    return !(i > 0 && a->filters[i - 1].key == key) &&
           !e->fws[mc__filter_fw(key)]->roles[mc__filter_fr(key)].suppressed;
}
void mc__filter_remove(struct mc__agent *a, uint32_t i);
void mc__shres_put(struct mc__shres *s);

#endif
