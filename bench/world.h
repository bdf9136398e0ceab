/* bench/world.h: benchmark scenarios built on the engine's public API, in C.
 * The google-benchmark harness (mc_bench.cc) times them; everything here is
 * setup and bookkeeping that stays outside the timed region. */
#ifndef MC_BENCH_WORLD_H
#define MC_BENCH_WORLD_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "engine/engine.h"

#ifdef __cplusplus
extern "C" {
#endif

struct mcb_offer {
    uint32_t fw, agent; /* indices parsed back from the ids f<N> and a<N> */
};

struct mcb_world {
    mc_engine_t *e;
    uint64_t now; /* virtual clock, ns */
    unsigned agents, frameworks, shards;
    struct mcb_offer *offers; /* the last cycle's offers */
    size_t noffers, capoffers;
    /* churn: running tasks and when they end */
    struct mcb_task *tasks;
    size_t ntasks, captasks;
    uint64_t rng;
};

/* The DeclineOffers cluster (Mesos HierarchicalAllocator_BENCHMARK_Test
 * DeclineOffers): @agents agents of cpus 24, mem 4096, disk 4096 and ports
 * 31000-32023, each already running a task of an occupant framework that uses
 * 16 cpus and 16 port fragments (leaving 17 free port ranges); @frameworks
 * frameworks in role "bench". NULL on failure. */
struct mcb_world *mcb_decline_world(unsigned agents, unsigned frameworks, unsigned shards);

/* The quota cluster (Mesos LargeAndSmallQuota): @agents agents of cpus 8,
 * mem 16384, disk 4096; @roles roles with one framework each, the even ones
 * guaranteed cpus 1 / mem 2048 (small), the odd ones cpus 8 / mem 16384
 * (large). With @picky, every framework's minimum offer is cpus 100, more
 * than any agent has: a cycle then checks every agent, role and framework
 * through both quota stages and allocates nothing. */
struct mcb_world *mcb_quota_world(unsigned agents, unsigned roles, unsigned shards, bool picky);

/* The churn cluster: @agents agents of cpus 32, mem 65536, ports
 * 31000-31999; @frameworks frameworks in 4 weighted roles. */
struct mcb_world *mcb_churn_world(unsigned agents, unsigned frameworks, unsigned shards);

void mcb_free(struct mcb_world *w);

/* Runs one allocation cycle; the offers land in w->offers. */
int mcb_cycle(struct mcb_world *w, struct mc_cycle_stats *st);

/* Every framework declines every offer of the last cycle, filtering it for
 * @refuse seconds (0: no filter). */
void mcb_decline_all(struct mcb_world *w, double refuse);

/* Churn step: each framework launches one task (cpus 1, mem 1024)
 * in every offer of the last cycle that fits it, and declines the rest; tasks
 * end after a random 1 to 20 s of virtual time; the clock advances @step_ns
 * and the tasks due end. Returns the tasks launched. */
size_t mcb_churn_step(struct mcb_world *w, uint64_t step_ns);

/* Bytes held by the allocator (jemalloc stats.allocated, or 0 without it). */
uint64_t mcb_heap_bytes(void);
/* The process's resident set (/proc/self/statm), bytes; 0 if unreadable. */
uint64_t mcb_rss_bytes(void);
/* Returns the allocator's unused pages to the system, so that the resident
 * set grows with what is allocated next instead of reusing retained pages. */
void mcb_heap_purge(void);

#ifdef __cplusplus
}
#endif
#endif
