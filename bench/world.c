/* bench/world.c: see world.h. */
#include "bench/world.h"
#include "engine/res.h"
#include "engine/status.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <malloc.h>
#include <unistd.h>

#ifdef MC_BENCH_JEMALLOC
#include <jemalloc/jemalloc.h>
#endif

struct mcb_task {
    uint64_t ends;
    uint32_t fw, agent;
};

static const char *const mcb_task_text = "cpus:1;mem:1024";

static uint64_t mcb_clock(void *arg)
{
    return ((struct mcb_world *)arg)->now;
}

static void mcb_on_offers(void *arg, const struct mc_offer *o, size_t n)
{
    struct mcb_world *w = arg;
    if (w->noffers + n > w->capoffers) {
        size_t cap = w->capoffers ? w->capoffers : 1024;
        while (cap < w->noffers + n)
            cap *= 2;
        void *p = realloc(w->offers, cap * sizeof(*w->offers));
        if (!p)
            abort(); /* a benchmark without memory has nothing to measure */
        w->offers = p;
        w->capoffers = cap;
    }
    /* the numbers in the ids, which the worlds below attach as udata */
    for (size_t i = 0; i < n; i++) {
        w->offers[w->noffers].fw = (uint32_t)(uintptr_t)o[i].framework_udata;
        w->offers[w->noffers].agent = (uint32_t)(uintptr_t)o[i].agent_udata;
        w->noffers++;
    }
}

static void mcb_res(mc_res_t *r, const char *text)
{
    if (mc_res_parse(r, text, strlen(text), NULL))
        abort();
}

static struct mcb_world *mcb_new(unsigned agents, unsigned frameworks, unsigned shards)
{
    struct mcb_world *w = calloc(1, sizeof(*w));
    if (!w)
        return NULL;
    w->agents = agents;
    w->frameworks = frameworks;
    w->shards = shards;
    w->rng = 0x1234567;
    struct mc_engine_config cfg = {.shards = shards,
                                   .seed = 1,
                                   .clock = mcb_clock,
                                   .clock_arg = w,
                                   .on_offers = mcb_on_offers,
                                   .cb_arg = w};
    if (mc_engine_create(&w->e, &cfg)) {
        free(w);
        return NULL;
    }
    return w;
}

/* Framework "f@i" in @role, which offers of it name by @i (its udata);
 * @min as mc_engine_framework_add() takes it. */
static int mcb_fw(struct mcb_world *w, unsigned i, const char *role, const mc_res_t *min)
{
    char id[32];
    snprintf(id, sizeof(id), "f%u", i);
    const char *roles[] = {role};
    int rc = mc_engine_framework_add(w->e, id, roles, 1, min, min ? 1 : 0);
    return rc ? rc : mc_engine_framework_udata(w->e, id, (void *)(uintptr_t)i);
}

/* Agent "a@i" (mc_engine_agent_add_used() when @use is not NULL), which offers
 * of it name by @i (its udata). */
static int mcb_agent(struct mcb_world *w, unsigned i, const mc_res_t *total,
                     const struct mc_agent_use *use)
{
    char id[32];
    snprintf(id, sizeof(id), "a%u", i);
    int rc = use ? mc_engine_agent_add_used(w->e, id, total, NULL, use, 1)
                 : mc_engine_agent_add(w->e, id, total, NULL);
    return rc ? rc : mc_engine_agent_udata(w->e, id, (void *)(uintptr_t)i);
}

struct mcb_world *mcb_decline_world(unsigned agents, unsigned frameworks, unsigned shards)
{
    struct mcb_world *w = mcb_new(agents, frameworks, shards);
    if (!w)
        return NULL;
    /* the occupant runs the tasks that were there before the benchmark */
    const char *occ[] = {"occupied"};
    if (mc_engine_framework_add(w->e, "occupant", occ, 1, NULL, 0) ||
        mc_engine_suppress(w->e, "occupant", NULL))
        goto out_free;
    for (unsigned f = 0; f < frameworks; f++)
        if (mcb_fw(w, f, "bench", NULL))
            goto out_free;
    mc_res_t total = MC_RES_INIT, used = MC_RES_INIT;
    mcb_res(&total, "cpus:24;mem:4096;disk:4096;ports:[31000-32023]");
    /* 16 fragments of 4 ports, every 64th port: the free ports are 17 ranges */
    char text[512] = "cpus:16;ports:[";
    for (int k = 0; k < 16; k++)
        snprintf(text + strlen(text), sizeof(text) - strlen(text), "%s%d-%d", k ? "," : "",
                 31060 + 60 * k, 31063 + 60 * k);
    strcat(text, "]");
    mcb_res(&used, text);
    struct mc_agent_use use = {"occupant", "occupied", &used, 16};
    for (unsigned a = 0; a < agents; a++)
        if (mcb_agent(w, a, &total, &use))
            goto out_res;
    mc_res_fini(&total);
    mc_res_fini(&used);
    return w;
out_res:
    mc_res_fini(&total);
    mc_res_fini(&used);
out_free:
    mcb_free(w);
    return NULL;
}

struct mcb_world *mcb_quota_world(unsigned agents, unsigned roles, unsigned shards, bool picky)
{
    struct mcb_world *w = mcb_new(agents, roles, shards);
    if (!w)
        return NULL;
    mc_res_t small = MC_RES_INIT, large = MC_RES_INIT, total = MC_RES_INIT;
    mcb_res(&small, "cpus:1;mem:2048");
    mcb_res(&large, "cpus:8;mem:16384");
    mcb_res(&total, "cpus:8;mem:16384;disk:4096");
    char id[32];
    int rc = 0;
    mc_res_t huge = MC_RES_INIT;
    mcb_res(&huge, "cpus:100");
    for (unsigned r = 0; r < roles && !rc; r++) {
        snprintf(id, sizeof(id), "q%u", r);
        rc = mc_engine_role_set(w->e, id, 1, r % 2 ? &large : &small, NULL);
        if (!rc)
            rc = mcb_fw(w, r, id, picky ? &huge : NULL);
    }
    mc_res_fini(&huge);
    for (unsigned a = 0; a < agents && !rc; a++)
        rc = mcb_agent(w, a, &total, NULL);
    mc_res_fini(&small);
    mc_res_fini(&large);
    mc_res_fini(&total);
    if (rc) {
        mcb_free(w);
        return NULL;
    }
    return w;
}

struct mcb_world *mcb_churn_world(unsigned agents, unsigned frameworks, unsigned shards)
{
    struct mcb_world *w = mcb_new(agents, frameworks, shards);
    if (!w)
        return NULL;
    static const char *const roles[] = {"web", "batch", "ml", "ops"};
    int rc = 0;
    for (unsigned r = 0; r < 4 && !rc; r++)
        rc = mc_engine_role_set(w->e, roles[r], r + 1, NULL, NULL);
    for (unsigned f = 0; f < frameworks && !rc; f++)
        rc = mcb_fw(w, f, roles[f % 4], NULL);
    mc_res_t total = MC_RES_INIT;
    mcb_res(&total, "cpus:32;mem:65536;ports:[31000-31999]");
    for (unsigned a = 0; a < agents && !rc; a++)
        rc = mcb_agent(w, a, &total, NULL);
    mc_res_fini(&total);
    if (rc) {
        mcb_free(w);
        return NULL;
    }
    return w;
}

void mcb_free(struct mcb_world *w)
{
    if (!w)
        return;
    mc_engine_destroy(w->e);
    free(w->offers);
    free(w->tasks);
    free(w);
}

int mcb_cycle(struct mcb_world *w, struct mc_cycle_stats *st)
{
    w->noffers = 0;
    return mc_engine_allocate(w->e, st);
}

void mcb_decline_all(struct mcb_world *w, double refuse)
{
    char fw[32], agent[32];
    for (size_t i = 0; i < w->noffers; i++) {
        snprintf(fw, sizeof(fw), "f%u", w->offers[i].fw);
        snprintf(agent, sizeof(agent), "a%u", w->offers[i].agent);
        mc_engine_decline(w->e, fw, agent, refuse);
    }
    w->noffers = 0;
}

static uint64_t mcb_rand(struct mcb_world *w)
{
    w->rng ^= w->rng << 13;
    w->rng ^= w->rng >> 7;
    w->rng ^= w->rng << 17;
    return w->rng;
}

size_t mcb_churn_step(struct mcb_world *w, uint64_t step_ns)
{
    mc_res_t task = MC_RES_INIT;
    mcb_res(&task, mcb_task_text);
    char fw[32], agent[32];
    size_t launched = 0;
    for (size_t i = 0; i < w->noffers; i++) {
        snprintf(fw, sizeof(fw), "f%u", w->offers[i].fw);
        snprintf(agent, sizeof(agent), "a%u", w->offers[i].agent);
        if (mc_engine_accept(w->e, fw, agent, &task) == MC_OK) {
            if (w->ntasks == w->captasks) {
                size_t cap = w->captasks ? w->captasks * 2 : 1024;
                void *p = realloc(w->tasks, cap * sizeof(*w->tasks));
                if (!p)
                    abort();
                w->tasks = p;
                w->captasks = cap;
            }
            w->tasks[w->ntasks++] =
                (struct mcb_task){.ends = w->now + (1 + mcb_rand(w) % 20) * MC_NS_PER_SEC,
                                  .fw = w->offers[i].fw,
                                  .agent = w->offers[i].agent};
            launched++;
        } else {
            mc_engine_decline(w->e, fw, agent, 0);
        }
    }
    w->noffers = 0;
    w->now += step_ns;
    for (size_t i = 0; i < w->ntasks;) {
        if (w->tasks[i].ends > w->now) {
            i++;
            continue;
        }
        snprintf(fw, sizeof(fw), "f%u", w->tasks[i].fw);
        snprintf(agent, sizeof(agent), "a%u", w->tasks[i].agent);
        mc_engine_finish(w->e, fw, agent, &task);
        w->tasks[i] = w->tasks[--w->ntasks];
    }
    mc_res_fini(&task);
    return launched;
}

uint64_t mcb_heap_bytes(void)
{
#ifdef MC_BENCH_JEMALLOC
    /* objects freed into this thread's cache still count as allocated
     * until the cache is flushed */
    mallctl("thread.tcache.flush", NULL, NULL, NULL, 0);
    uint64_t epoch = 1;
    size_t sz = sizeof(epoch);
    mallctl("epoch", &epoch, &sz, &epoch, sz);
    size_t allocated = 0;
    sz = sizeof(allocated);
    if (mallctl("stats.allocated", &allocated, &sz, NULL, 0) == 0)
        return allocated;
#endif
    return 0;
}

uint64_t mcb_rss_bytes(void)
{
    FILE *f = fopen("/proc/self/statm", "r");
    unsigned long long size, resident;
    int n = f ? fscanf(f, "%llu %llu", &size, &resident) : 0;
    if (f)
        fclose(f);
    long page = sysconf(_SC_PAGESIZE);
    return n == 2 && page > 0 ? (uint64_t)resident * (uint64_t)page : 0;
}

void mcb_heap_purge(void)
{
#ifdef MC_BENCH_JEMALLOC
    /* pages jemalloc lets go lazily (MADV_FREE, "muzzy") stay resident and
     * are reused without a fault: purge them for good */
    char name[64];
    ssize_t zero = 0;
    snprintf(name, sizeof(name), "arena.%u.muzzy_decay_ms", (unsigned)MALLCTL_ARENAS_ALL);
    mallctl(name, NULL, NULL, &zero, sizeof(zero));
    mallctl("thread.tcache.flush", NULL, NULL, NULL, 0);
    snprintf(name, sizeof(name), "arena.%u.purge", (unsigned)MALLCTL_ARENAS_ALL);
    mallctl(name, NULL, NULL, NULL, 0);
#else
    malloc_trim(0);
#endif
}
