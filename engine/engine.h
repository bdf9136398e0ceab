/* engine/engine.h: the allocator engine.
 *
 * The engine pools the resources of agents and offers them to frameworks with
 * the semantics of the Apache Mesos hierarchical allocator: two-level weighted
 * Dominant Resource Fairness (roles, then frameworks within a role), refuse
 * filters, suppression, reservations, quota guarantees and limits, and
 * allocation cycles that visit every agent in a freshly shuffled order and
 * give each agent's free resources to the first eligible framework. The
 * algorithm, its invariants and the exact rules are in docs/engine.md.
 *
 * The engine does no I/O. Time comes from the clock callback, so tests and the
 * simulator run it in virtual time; offers leave through the offer callback,
 * once per framework per cycle.
 *
 * Context: an engine is driven by one thread at a time (the caller serialises
 * calls); callbacks run on that thread, inside the call that triggered them,
 * and must not call into the engine (queue the work and do it after).
 * Ownership: ids and resource vectors passed in are copied; vectors passed to
 * callbacks are valid only during the callback. */
#ifndef MC_ENGINE_ENGINE_H
#define MC_ENGINE_ENGINE_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "engine/res.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct mc_engine mc_engine_t;

#define MC_ID_MAX_LEN        255u   /* agent, framework and role ids */
#define MC_ENGINE_MAX_DIMS   32u    /* distinct scalar resource names */
#define MC_ENGINE_MAX_ROLES  65536u /* roles known to one engine */
#define MC_FW_MAX_ROLES      64u    /* roles one framework may hold */
#define MC_ENGINE_MAX_SHARDS 256u
#define MC_NS_PER_SEC        1000000000ull
#define MC_FILTER_MAX_NS     (365ull * 24 * 3600 * MC_NS_PER_SEC)
#define MC_DEFAULT_REFUSE_NS (5ull * MC_NS_PER_SEC)

/* One offer, handed to the offer callback: a cycle makes at most one per
 * framework, role and agent (a quota cycle adds both stages into one). */
struct mc_offer {
    const char *framework; /* framework id */
    const char *agent;     /* agent id */
    void *framework_udata; /* the caller's pointers set with mc_engine_framework_udata() */
    void *agent_udata;     /* and mc_engine_agent_udata(), NULL until set */
    const char *role;      /* role the resources are allocated to */
    const mc_res_t *res;   /* what is offered */
    uint64_t seq;          /* decision order within the cycle, from 0; with several
                            * shards within its shard's decisions, and a batch holds
                            * each shard's offers in that order, shard after shard */
};

/* Publishes the @n offers one framework got in one cycle: one call per
 * framework and cycle, except when the engine runs out of memory joining the
 * parts several shards made, when each shard's part comes in a call of its
 * own. Every offer a cycle decides is published, even when the cycle fails
 * with MC_ENOMEM. */
typedef void (*mc_offer_cb)(void *arg, const struct mc_offer *offers, size_t n);
/* Tells that an outstanding offer was rescinded (agent removed, offer
 * timeout): the ids and the caller's pointers, as in mc_offer. */
typedef void (*mc_rescind_cb)(void *arg, const char *framework, const char *agent,
                              void *framework_udata, void *agent_udata);
/* Returns the current time in nanoseconds on a monotonic clock. */
typedef uint64_t (*mc_clock_cb)(void *arg);

struct mc_engine_config {
    unsigned shards;           /* allocation shards; 0 = one per online CPU */
    unsigned threads;          /* threads that run the shards, the caller's included;
                                * 0 = one per CPU the process may run on, at most
                                * one per shard (more are cut to the shards) */
    uint64_t seed;             /* seed of the agent shuffle */
    uint64_t interval_ns;      /* allocation interval (default 1 s) */
    uint64_t offer_timeout_ns; /* rescind offers older than this; 0 = never */
    mc_clock_cb clock;         /* default: CLOCK_MONOTONIC */
    void *clock_arg;
    mc_offer_cb on_offers;    /* may be NULL */
    mc_rescind_cb on_rescind; /* may be NULL */
    void *cb_arg;
};

/* Returns 0, MC_EINVAL (more than MC_ENGINE_MAX_SHARDS shards) or MC_ENOMEM.
 * @cfg may be NULL for the defaults. Starts the worker threads. */
int mc_engine_create(mc_engine_t **out, const struct mc_engine_config *cfg);
/* Stops the workers and frees everything. Context: no cycle running. */
void mc_engine_destroy(mc_engine_t *e);
unsigned mc_engine_shards(const mc_engine_t *e);
unsigned mc_engine_threads(const mc_engine_t *e);

/* Identifiers are 1..255 bytes of [A-Za-z0-9._-], not "." or "..". Role names
 * are one or more such components joined by '/' ("eng/web"). */
bool mc_id_valid(const char *s, size_t len);
bool mc_role_name_valid(const char *s, size_t len);

/* ---- roles ---------------------------------------------------------------------- */

/* Declares @role or changes it. A role also comes into being, with weight 1,
 * when a framework names it. @weight > 0 sets the weight, 0 leaves it as it
 * is (1 for a new role); NaN, infinities and negatives are refused;
 * @guarantee / @limit are scalar quantities (unreserved, no ranges) or NULL to
 * leave unchanged; an empty vector clears them. A guarantee above the limit is
 * refused. Returns 0, MC_EINVAL or MC_ENOMEM; on error nothing changes. */
int mc_engine_role_set(mc_engine_t *e, const char *role, double weight, const mc_res_t *guarantee,
                       const mc_res_t *limit);

/* ---- agents --------------------------------------------------------------------- */

/* Adds an agent with @total resources; @attrs is "k:v;k:v" or NULL. Schedules
 * an allocation for it. Returns 0, MC_EINVAL, MC_EEXIST, MC_ELIMIT (too many
 * scalar names) or MC_ENOMEM. */
int mc_engine_agent_add(mc_engine_t *e, const char *id, const mc_res_t *total, const char *attrs);

/* Resources an agent already runs tasks with when it is added: an agent that
 * comes back after a master failover, or a benchmark's preloaded cluster. */
struct mc_agent_use {
    const char *framework; /* an existing framework ... */
    const char *role;      /* ... subscribed to this role */
    const mc_res_t *res;   /* what its tasks use */
    uint64_t tasks;        /* how many tasks */
};
#define MC_AGENT_MAX_USES 4096u

/* mc_engine_agent_add() for an agent whose tasks already use @used: its free
 * vector is total minus everything used, charged to the frameworks. Returns
 * 0, MC_EINVAL, MC_EEXIST, MC_ENOENT (a framework or its role is unknown),
 * MC_EEXCEED (the uses do not fit in @total), MC_ELIMIT, MC_ERANGE or
 * MC_ENOMEM; on error nothing changes. */
int mc_engine_agent_add_used(mc_engine_t *e, const char *id, const mc_res_t *total,
                             const char *attrs, const struct mc_agent_use *used, size_t nused);

/* Removes an agent: its outstanding offers are rescinded, its tasks are gone.
 * Returns 0 or MC_ENOENT. */
int mc_engine_agent_remove(mc_engine_t *e, const char *id);

/* A deactivated agent keeps its tasks but gets no offers. */
int mc_engine_agent_activate(mc_engine_t *e, const char *id, bool active);

/* Attaches the caller's own pointer @udata to agent @id (NULL when it is
 * added): every offer of the agent carries it back (mc_offer.agent_udata),
 * as do its rescinds and the queries, so that a callback reaches the
 * caller's record of the agent without looking its id up. The engine never
 * reads through it. Returns 0 or MC_ENOENT. */
int mc_engine_agent_udata(mc_engine_t *e, const char *id, void *udata);

/* ---- frameworks ----------------------------------------------------------------- */

/* Adds a framework subscribed to @nroles roles. @min_alloc is a list of
 * @nmin alternative minimum offers (an offer must hold at least one of them
 * in full); NULL/0 means the default {cpus:0.01} or {mem:32}. Returns 0,
 * MC_EINVAL, MC_EEXIST or MC_ENOMEM. */
int mc_engine_framework_add(mc_engine_t *e, const char *id, const char *const *roles, size_t nroles,
                            const mc_res_t *min_alloc, size_t nmin);

/* Removes a framework: its offers are withdrawn and its tasks' resources
 * return to their agents. Returns 0 or MC_ENOENT. */
int mc_engine_framework_remove(mc_engine_t *e, const char *id);

/* mc_engine_agent_udata() for framework @id: its offers carry @udata in
 * mc_offer.framework_udata, its rescinds and the queries too. Returns 0 or
 * MC_ENOENT. */
int mc_engine_framework_udata(mc_engine_t *e, const char *id, void *udata);

/* Suppresses (stops offers to) or revives @fw in @role, or in all its roles
 * when @role is NULL. Revive also clears the framework's own refuse filters
 * and schedules an allocation. Returns 0, MC_ENOENT. */
int mc_engine_suppress(mc_engine_t *e, const char *fw, const char *role);
int mc_engine_revive(mc_engine_t *e, const char *fw, const char *role);

/* ---- offers and tasks ------------------------------------------------------------- */

/* Launches one task using @use out of @fw's outstanding offer on @agent; the
 * rest of the offer goes back to the agent with no filter. Returns 0,
 * MC_ENOENT (unknown framework or agent), MC_ENOOFFER, MC_EEXCEED (more than
 * was offered; nothing changes) or MC_ENOMEM. */
int mc_engine_accept(mc_engine_t *e, const char *fw, const char *agent, const mc_res_t *use);

/* Declines @fw's outstanding offers on @agent. @refuse_s < 0 means the default
 * 5 s, 0 installs no filter, otherwise a filter holds back the declined
 * resources (and anything they contain) from @fw on @agent for
 * max(interval, refuse_s), at most 365 days. NaN is refused. Returns 0,
 * MC_ENOENT, MC_ENOOFFER, MC_EINVAL. */
int mc_engine_decline(mc_engine_t *e, const char *fw, const char *agent, double refuse_s);

/* One of @fw's tasks on @agent ended; @res go back to the agent. Returns 0,
 * MC_ENOENT, MC_EEXCEED (the framework does not use that much there). */
int mc_engine_finish(mc_engine_t *e, const char *fw, const char *agent, const mc_res_t *res);

/* ---- cycles and time ---------------------------------------------------------------- */

struct mc_cycle_stats {
    uint64_t offers;       /* offers made (at most one per framework, role, agent) */
    uint64_t agents;       /* candidate agents visited */
    uint64_t filtered;     /* candidates skipped by a refuse filter */
    uint64_t duration_ns;  /* wall time of the cycle (CLOCK_MONOTONIC) */
    double fairness_error; /* with S > 1: the largest difference between the share a shard
                            * counted for a client it allocated to and the client's true share,
                            * at the cycle's end (0 with one shard; docs/engine.md, "Fairness
                            * across shards") */
};

/* Runs one allocation cycle now, over every active agent, and publishes the
 * offers. @stats may be NULL. Returns 0 or MC_ENOMEM (the cycle stopped early:
 * the offers it made are published and held, the rest of its agents wait for
 * the next cycle). */
int mc_engine_allocate(mc_engine_t *e, struct mc_cycle_stats *stats);

/* Fires what is due at the clock's current time: expires filters, rescinds
 * timed-out offers, and runs one cycle if one is pending (an event asked for
 * it; several events coalesce into one cycle) or the interval has passed since
 * the last cycle. Returns 1 if a cycle ran, 0 if not, or a negative status. */
int mc_engine_tick(mc_engine_t *e);

/* Fires the timers due at the clock's current time (offer timeouts) without
 * running a cycle. Expired filters are dropped lazily: they stop holding back
 * offers as soon as the clock passes their end. */
void mc_engine_expire(mc_engine_t *e);

/* True when an event has scheduled a cycle that has not run yet. */
bool mc_engine_cycle_pending(const mc_engine_t *e);

/* Re-seeds the agent shuffle. */
void mc_engine_seed(mc_engine_t *e, uint64_t seed);

/* ---- queries ------------------------------------------------------------------------ */

bool mc_engine_has_framework(const mc_engine_t *e, const char *id);
bool mc_engine_has_agent(const mc_engine_t *e, const char *id);

/* Calls @fn once per framework, in id order. @alloc is everything offered to
 * or used by it; @share its weighted dominant share (the largest over its
 * roles of its share in the role divided by the role's weight). */
struct mc_fw_info {
    const char *id;
    void *udata; /* mc_engine_framework_udata() */
    const mc_res_t *alloc;
    double share;
    uint64_t tasks; /* running tasks */
};
typedef void (*mc_fw_info_cb)(void *arg, const struct mc_fw_info *fw);
void mc_engine_frameworks(const mc_engine_t *e, mc_fw_info_cb fn, void *arg);

/* Calls @fn once per agent, in id order. */
struct mc_agent_info {
    const char *id;
    void *udata; /* mc_engine_agent_udata() */
    const mc_res_t *total, *free;
    bool active;
};
typedef void (*mc_agent_info_cb)(void *arg, const struct mc_agent_info *agent);
void mc_engine_agents(const mc_engine_t *e, mc_agent_info_cb fn, void *arg);

/* Verifies the books: for every agent free + offered + used == total, with no
 * resource (scalar amount or port) counted twice, and every framework's and
 * role's totals equal to the sum of its holdings. Returns 0 or MC_EIO with a
 * message in @why. */
int mc_engine_check(const mc_engine_t *e, char *why, size_t size);

#ifdef __cplusplus
}
#endif

#endif
