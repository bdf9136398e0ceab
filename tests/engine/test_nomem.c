/* tests/engine/test_nomem.c: a cycle that runs out of memory loses nothing.
 *
 * The binary is linked with the allocator's entry points wrapped
 * (tests/CMakeLists.txt: -Wl,--wrap=malloc and the others), so the engine's
 * allocations can be made to fail: every allocation from the k-th after the
 * cycle starts fails, for k = 1, 2, ... until a cycle makes fewer than k.
 * Whatever the cycle returns, the books hold (mc_engine_check), and every
 * offer the engine holds is one the offer callback received: declining what
 * the callback received leaves every agent with all it has free. An offer
 * held but never published would tie up its resources until it timed out
 * (or for ever without a timeout), with no framework able to use them. */
#include "common/mc_test.h"
#include "engine/engine.h"

#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>

/* ---- failing allocations ------------------------------------------------------------- */

void *__real_malloc(size_t n);
void *__real_calloc(size_t n, size_t size);
void *__real_realloc(void *p, size_t n);
void *__real_aligned_alloc(size_t align, size_t n);

/* fail_from is written before the store of armed and read after a load of
 * it (both sequentially consistent), so a worker that sees armed sees it */
static atomic_bool armed;
static atomic_ulong calls;      /* allocations since armed */
static unsigned long fail_from; /* the first that fails (1-based) */

/* Whether this allocation fails. Shard workers allocate too: atomics. */
static bool nomem(void)
{
    return atomic_load(&armed) && atomic_fetch_add(&calls, 1) + 1 >= fail_from;
}

void *__wrap_malloc(size_t n)
{
    return nomem() ? NULL : __real_malloc(n);
}

void *__wrap_calloc(size_t n, size_t size)
{
    return nomem() ? NULL : __real_calloc(n, size);
}

void *__wrap_realloc(void *p, size_t n)
{
    return nomem() ? NULL : __real_realloc(p, n);
}

void *__wrap_aligned_alloc(size_t align, size_t n)
{
    return nomem() ? NULL : __real_aligned_alloc(align, n);
}

/* ---- the scenario --------------------------------------------------------------------- */

#define NAGENTS 24
#define NFWS    6

/* What the callback received: fixed storage, since it runs while
 * allocations fail. */
struct got {
    int n, batches;
    int fw[NAGENTS * NFWS], agent[NAGENTS * NFWS];
};

static void on_offers(void *arg, const struct mc_offer *o, size_t n)
{
    struct got *g = arg;
    g->batches++;
    for (size_t i = 0; i < n && g->n < NAGENTS * NFWS; i++, g->n++) {
        g->fw[g->n] = atoi(o[i].framework + 1);
        g->agent[g->n] = atoi(o[i].agent + 1);
    }
}

static void agent_free_is_total(void *arg, const struct mc_agent_info *a)
{
    if (!mc_res_equal(a->free, a->total))
        ++*(int *)arg;
}

/* One engine of @shards shards, a cycle whose k-th allocation on fails.
 * With @wide the agents have more scalar names than a client's part has
 * room for at first, so with several shards the cycle first gives every
 * client bigger parts (drf.c mc__slots_fit), and that fails in turn too.
 * Returns how many allocations the cycle asked for. */
static unsigned long run(unsigned shards, bool wide, unsigned long k, bool *complete)
{
    struct got g = {0};
    struct mc_engine_config cfg = {.shards = shards, .on_offers = on_offers, .cb_arg = &g};
    mc_engine_t *e;
    assert_int_equal(mc_engine_create(&e, &cfg), MC_OK);
    /* every third agent has a reservation for batch (the offer to web is a
     * copy), and web has a guarantee (a quota stage, budgets, copies) */
    mc_res_t r = MC_RES_INIT, rr = MC_RES_INIT, q = MC_RES_INIT;
    mc_test_res(&r, wide ? "cpus:8;mem:8192;disk:100;gpus:1;s1:1;s2:1;s3:1;s4:1;s5:1;s6:1;s7:1;"
                           "s8:1;s9:1;s10:1;ports:[31000-31099]"
                         : "cpus:8;mem:8192;ports:[31000-31099]");
    mc_test_res(&rr, "cpus:6;mem:6144;cpus(batch):2;mem(batch):2048;ports:[31000-31099]");
    mc_test_res(&q, "cpus:16;mem:16384");
    assert_int_equal(mc_engine_role_set(e, "web", 0, &q, NULL), MC_OK);
    for (int i = 0; i < NAGENTS; i++) {
        char id[16];
        snprintf(id, sizeof(id), "a%d", i);
        assert_int_equal(mc_engine_agent_add(e, id, i % 3 ? &r : &rr, NULL), MC_OK);
    }
    mc_res_fini(&r);
    mc_res_fini(&rr);
    mc_res_fini(&q);
    for (int i = 0; i < NFWS; i++) {
        char id[16];
        const char *roles[] = {i % 2 ? "web" : "batch"};
        snprintf(id, sizeof(id), "f%d", i);
        assert_int_equal(mc_engine_framework_add(e, id, roles, 1, NULL, 0), MC_OK);
    }

    fail_from = k;
    atomic_store(&calls, 0);
    atomic_store(&armed, true);
    int rc = mc_engine_allocate(e, NULL);
    atomic_store(&armed, false);
    unsigned long made = atomic_load(&calls);

    if (rc != MC_OK && rc != MC_ENOMEM)
        fail_msg("k %lu: the cycle returned %s", k, mc_strerror(rc));
    char why[512];
    if (mc_engine_check(e, why, sizeof(why)))
        fail_msg("k %lu: books: %s", k, why);
    for (int i = 0; i < g.n; i++) {
        /* one offer per framework, role and agent in a cycle, even when
         * it stopped early: a quota stage's part and the next one's are one
         * (shard.c Q6; each framework here has one role) */
        for (int j = 0; j < i; j++)
            if (g.fw[j] == g.fw[i] && g.agent[j] == g.agent[i])
                fail_msg("k %lu: f%d got two offers on a%d", k, g.fw[i], g.agent[i]);
        char fw[16], agent[16];
        snprintf(fw, sizeof(fw), "f%d", g.fw[i]);
        snprintf(agent, sizeof(agent), "a%d", g.agent[i]);
        if (mc_engine_decline(e, fw, agent, 0) != MC_OK)
            fail_msg("k %lu: %s's offer on %s was published but not held", k, fw, agent);
    }
    int held = 0;
    mc_engine_agents(e, agent_free_is_total, &held);
    if (held)
        fail_msg("k %lu (%s, %d offers published): %d agents keep offers no framework "
                 "received",
                 k, mc_strerror(rc), g.n, held);
    *complete = made < k;
    if (*complete) { /* nothing failed: every agent was offered, some twice */
        assert_int_equal(rc, MC_OK);
        assert_true(g.n > NAGENTS);
    }
    mc_engine_destroy(e);
    return made;
}

static void every_allocation(unsigned shards, bool wide)
{
    bool complete = false;
    unsigned long k = 0, made = 0;
    while (!complete)
        made = run(shards, wide, ++k, &complete);
    print_message("%u shards%s: %lu allocations in a cycle, each made to fail\n", shards,
                  wide ? ", 14 scalar names" : "", made);
    assert_true(made > 0); /* the cycle allocates: the test exercised something */
}

static void test_one_shard(void **state)
{
    (void)state;
    every_allocation(1, false);
}

static void test_two_shards(void **state)
{
    (void)state;
    every_allocation(2, false);
}

static void test_two_shards_wide(void **state)
{
    (void)state;
    every_allocation(2, true);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_one_shard),
        cmocka_unit_test(test_two_shards),
        cmocka_unit_test(test_two_shards_wide),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
