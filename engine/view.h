/* engine/view.h: a read-only summary of an engine (its /state view),
 * published with RCU so that any thread can read it while the engine runs.
 *
 * The control thread calls mc_engine_publish_view() when it wants readers to
 * see a new summary (the master does after every cycle). Readers on any
 * thread bracket their use with mc_view_read_lock()/unlock(): they never
 * block, never block the engine, and see one whole summary, old or new, never
 * a torn one.
 *
 * Ordering: publication is rcu_assign_pointer() (a release store) paired with
 * rcu_dereference() (a dependency-ordered load) in mc_engine_view().
 * Reclamation: a replaced summary is freed by call_rcu() after a grace
 * period, i.e. after every reader that could have seen it has unlocked.
 * Context: a reader thread calls mc_view_thread_register() before its first
 * read lock and mc_view_thread_unregister() before it exits (liburcu's rules
 * for the memb flavour); calls nest. The control thread needs no registration
 * of its own. */
#ifndef MC_ENGINE_VIEW_H
#define MC_ENGINE_VIEW_H
#include <stdint.h>

#include "engine/engine.h"

#ifdef __cplusplus
extern "C" {
#endif

struct mc_view_framework {
    const char *id;
    double share;        /* weighted dominant share */
    uint64_t tasks;      /* running tasks */
    mc_milli_t alloc[4]; /* offered + used: cpus, mem, disk, gpus */
};

struct mc_view {
    uint64_t cycles;       /* allocation cycles run */
    uint64_t published_at; /* engine clock, ns */
    uint32_t shards, agents, active_agents, roles, nframeworks;
    mc_milli_t total[4];                        /* cluster totals: cpus, mem, disk, gpus */
    struct mc_cycle_stats last;                 /* the last cycle */
    const struct mc_view_framework *frameworks; /* in id order */
};

/* Builds a summary of @e's current state and publishes it, replacing the
 * previous one. Context: control thread, between cycles. Returns 0 or
 * MC_ENOMEM (the previous summary stays). */
int mc_engine_publish_view(mc_engine_t *e);

/* The summary published last, or NULL before the first. Context: inside
 * mc_view_read_lock(); the pointer is valid until the matching unlock. */
const struct mc_view *mc_engine_view(mc_engine_t *e);

void mc_view_thread_register(void);
void mc_view_thread_unregister(void);
void mc_view_read_lock(void);
void mc_view_read_unlock(void);

#ifdef __cplusplus
}
#endif

#endif
