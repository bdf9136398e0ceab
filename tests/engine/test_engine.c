/* tests/engine/test_engine.c: the allocator engine through its public API
 * (engine/engine.c). Golden scenarios in tests/sim/ cover the simulator's
 * view of the same semantics. */
#include "common/mc_test.h"
#include "engine/engine.h"
#include "engine/sym.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

/* A test harness: a virtual clock and a log of what the engine published. */
struct harness {
    mc_engine_t *e;
    uint64_t now;
    char offers[64][256]; /* "fw agent role res" in decision order */
    int noffers;
    int batches; /* offer callbacks (one per framework per cycle) */
    char rescinds[16][128];
    int nrescinds;
};

static uint64_t h_clock(void *arg)
{
    return ((struct harness *)arg)->now;
}

static void h_offers(void *arg, const struct mc_offer *o, size_t n)
{
    struct harness *h = arg;
    h->batches++;
    for (size_t i = 0; i < n; i++) {
        assert_true(i == 0 || o[i].seq > o[i - 1].seq);      /* decision order within a batch */
        assert_string_equal(o[i].framework, o[0].framework); /* one framework per batch */
        char res[200];
        mc_res_format(o[i].res, res, sizeof(res));
        if (o[i].seq < 64)
            snprintf(h->offers[o[i].seq], sizeof(h->offers[0]), "%s %s %s %s", o[i].framework,
                     o[i].agent, o[i].role, res);
        h->noffers++;
    }
}

static void h_rescind(void *arg, const char *fw, const char *agent, void *fw_udata,
                      void *agent_udata)
{
    (void)fw_udata;
    (void)agent_udata;
    struct harness *h = arg;
    if (h->nrescinds < 16)
        snprintf(h->rescinds[h->nrescinds], sizeof(h->rescinds[0]), "%s %s", fw, agent);
    h->nrescinds++;
}

static void h_init(struct harness *h, uint64_t offer_timeout_ns)
{
    memset(h, 0, sizeof(*h));
    struct mc_engine_config cfg = {.shards = 1,
                                   .clock = h_clock,
                                   .clock_arg = h,
                                   .on_offers = h_offers,
                                   .on_rescind = h_rescind,
                                   .cb_arg = h,
                                   .offer_timeout_ns = offer_timeout_ns};
    assert_int_equal(mc_engine_create(&h->e, &cfg), MC_OK);
}

static void h_check(struct harness *h)
{
    char why[512];
    if (mc_engine_check(h->e, why, sizeof(why)))
        fail_msg("books: %s", why);
}

static void h_fini(struct harness *h)
{
    h_check(h);
    mc_engine_destroy(h->e);
}

static int h_allocate(struct harness *h)
{
    h->noffers = 0;
    h->batches = 0;
    assert_int_equal(mc_engine_allocate(h->e, NULL), MC_OK);
    h_check(h);
    return h->noffers;
}

static void h_agent(struct harness *h, const char *id, const char *res)
{
    mc_res_t r = MC_RES_INIT;
    mc_test_res(&r, res);
    assert_int_equal(mc_engine_agent_add(h->e, id, &r, NULL), MC_OK);
    mc_res_fini(&r);
}

/* Role @role with weight 1, guaranteed @res, no limit. */
static void h_guarantee(struct harness *h, const char *role, const char *res)
{
    mc_res_t g = MC_RES_INIT;
    mc_test_res(&g, res);
    assert_int_equal(mc_engine_role_set(h->e, role, 1, &g, NULL), MC_OK);
    mc_res_fini(&g);
}

/* Agents a0 .. a<n - 1>, each with @res. */
static void h_agents(struct harness *h, int n, const char *res)
{
    for (int i = 0; i < n; i++) {
        char id[16];
        snprintf(id, sizeof id, "a%d", i);
        h_agent(h, id, res);
    }
}

static void h_fw(struct harness *h, const char *id, const char *role)
{
    const char *roles[] = {role};
    assert_int_equal(mc_engine_framework_add(h->e, id, roles, 1, NULL, 0), MC_OK);
}

static int h_accept(struct harness *h, const char *fw, const char *agent, const char *res)
{
    mc_res_t r = MC_RES_INIT;
    mc_test_res(&r, res);
    int rc = mc_engine_accept(h->e, fw, agent, &r);
    mc_res_fini(&r);
    h_check(h);
    return rc;
}

/* ---- tests -------------------------------------------------------------------- */

static void test_ids(void **state)
{
    assert_true(mc_id_valid("agent-1.example_2", 17));
    assert_false(mc_id_valid("", 0));
    assert_false(mc_id_valid(".", 1));
    assert_false(mc_id_valid("..", 2));
    assert_false(mc_id_valid("a/b", 3));
    assert_false(mc_id_valid("a b", 3));
    assert_false(mc_id_valid("a\0b", 3));
    char long_id[300];
    memset(long_id, 'x', sizeof(long_id));
    assert_true(mc_id_valid(long_id, MC_ID_MAX_LEN));
    assert_false(mc_id_valid(long_id, MC_ID_MAX_LEN + 1));
    assert_true(mc_role_name_valid("eng/web", 7));
    assert_false(mc_role_name_valid("eng/", 4));
    assert_false(mc_role_name_valid("/eng", 4));
    assert_false(mc_role_name_valid("eng//web", 8));
    assert_false(mc_role_name_valid("eng/../web", 10));
}

static void test_cycles_with_nothing_to_do(void **state)
{
    struct harness h;
    h_init(&h, 0);
    assert_int_equal(h_allocate(&h), 0); /* no agents, no roles */
    assert_int_equal(h_allocate(&h), 0);
    h_agent(&h, "a1", "cpus:1;mem:1024");
    assert_int_equal(h_allocate(&h), 0); /* no frameworks */
    assert_int_equal(h_allocate(&h), 0);
    h_fw(&h, "A", "r");
    assert_int_equal(h_allocate(&h), 1);
    h_fini(&h);
}

static void test_one_offer_per_agent_whole_free_vector(void **state)
{
    struct harness h;
    h_init(&h, 0);
    h_agent(&h, "a1", "cpus:4;mem:4096;disk:100;gpus:1;ports:[31000-31999]");
    h_fw(&h, "A", "r");
    h_fw(&h, "B", "r");
    assert_int_equal(h_allocate(&h), 1);
    assert_string_equal(h.offers[0], "A a1 r cpus:4;mem:4096;disk:100;gpus:1;ports:[31000-31999]");
    assert_int_equal(h.batches, 1);
    /* nothing is left to offer until the offer is answered */
    assert_int_equal(h_allocate(&h), 0);
    h_fini(&h);
}

static void test_offers_are_batched_per_framework(void **state)
{
    struct harness h;
    h_init(&h, 0);
    for (int i = 0; i < 6; i++) {
        char id[8];
        snprintf(id, sizeof(id), "a%d", i);
        h_agent(&h, id, "cpus:1;mem:1024");
    }
    h_fw(&h, "A", "r");
    h_fw(&h, "B", "r");
    assert_int_equal(h_allocate(&h), 6);
    assert_int_equal(h.batches, 2); /* one callback per framework per cycle */
    /* DRF alternates between two equal frameworks as shares change */
    int a = 0;
    for (int i = 0; i < 6; i++)
        a += h.offers[i][0] == 'A';
    assert_int_equal(a, 3);
    h_fini(&h);
}

static void test_minimum_allocatable(void **state)
{
    struct harness h;
    h_init(&h, 0);
    h_agent(&h, "tiny", "cpus:0.009;mem:31");
    h_fw(&h, "A", "r");
    assert_int_equal(h_allocate(&h), 0); /* below cpus 0.01 and mem 32 */
    h_agent(&h, "small", "cpus:0.01");
    assert_int_equal(h_allocate(&h), 1);
    assert_string_equal(h.offers[0], "A small r cpus:0.01");
    /* a framework's own minimum: any one alternative must be met in full */
    mc_res_t min[2] = {MC_RES_INIT, MC_RES_INIT};
    mc_test_res(&min[0], "gpus:1");
    mc_test_res(&min[1], "cpus:2;mem:2048");
    const char *roles[] = {"s"};
    assert_int_equal(mc_engine_framework_add(h.e, "G", roles, 1, min, 2), MC_OK);
    assert_int_equal(mc_engine_framework_remove(h.e, "A"), MC_OK);
    h_agent(&h, "mid", "cpus:1;mem:4096");
    assert_int_equal(h_allocate(&h), 0);
    h_agent(&h, "gpu", "cpus:1;mem:1024;gpus:1");
    h_agent(&h, "big", "cpus:2;mem:2048");
    assert_int_equal(h_allocate(&h), 2);
    /* a minimum naming a resource no agent has is never met */
    mc_res_t odd = MC_RES_INIT;
    mc_test_res(&odd, "fpgas:1");
    const char *r2[] = {"t"};
    assert_int_equal(mc_engine_framework_add(h.e, "X", r2, 1, &odd, 1), MC_OK);
    h_agent(&h, "plain", "cpus:4;mem:4096");
    assert_int_equal(h_allocate(&h), 1); /* to G, whose cpus:2;mem:2048 fits; X gets nothing */
    assert_string_equal(h.offers[0], "G plain s cpus:4;mem:4096");
    mc_res_fini(&odd);
    mc_res_fini(&min[0]);
    mc_res_fini(&min[1]);
    h_fini(&h);
}

static void test_accept_and_decline_errors_change_nothing(void **state)
{
    struct harness h;
    h_init(&h, 0);
    h_agent(&h, "a1", "cpus:2;mem:2048");
    h_fw(&h, "A", "r");
    assert_int_equal(h_accept(&h, "A", "a1", "cpus:1"), MC_ENOOFFER);
    assert_int_equal(h_allocate(&h), 1);
    assert_int_equal(h_accept(&h, "A", "nope", "cpus:1"), MC_ENOENT);
    assert_int_equal(h_accept(&h, "Z", "a1", "cpus:1"), MC_ENOENT);
    assert_int_equal(h_accept(&h, "A", "a1", "cpus:3"), MC_EEXCEED);
    assert_int_equal(h_accept(&h, "A", "a1", "gpus:1"), MC_EEXCEED);
    assert_int_equal(mc_engine_decline(h.e, "A", "a1", NAN), MC_EINVAL);
    /* the offer is still whole after the failed calls */
    assert_int_equal(h_accept(&h, "A", "a1", "cpus:2;mem:2048"), MC_OK);
    assert_int_equal(mc_engine_decline(h.e, "A", "a1", 0), MC_ENOOFFER);
    mc_res_t r = MC_RES_INIT;
    mc_test_res(&r, "cpus:3");
    assert_int_equal(mc_engine_finish(h.e, "A", "a1", &r), MC_EEXCEED);
    mc_test_res(&r, "cpus:1;mem:1024");
    assert_int_equal(mc_engine_finish(h.e, "A", "a1", &r), MC_OK);
    h_check(&h);
    mc_res_fini(&r);
    h_fini(&h);
}

static void test_refuse_filter_durations(void **state)
{
    struct harness h;
    h_init(&h, 0);
    h_agent(&h, "a1", "cpus:1;mem:1024");
    h_fw(&h, "A", "r");
    /* refuse far beyond a year is capped at 365 days, not overflowed */
    assert_int_equal(h_allocate(&h), 1);
    assert_int_equal(mc_engine_decline(h.e, "A", "a1", 1e300), MC_OK);
    h.now += MC_FILTER_MAX_NS - 1;
    assert_int_equal(h_allocate(&h), 0);
    h.now += 1;
    assert_int_equal(h_allocate(&h), 1);
    /* the default when negative: 5 s */
    assert_int_equal(mc_engine_decline(h.e, "A", "a1", -3), MC_OK);
    h.now += MC_DEFAULT_REFUSE_NS - 1;
    assert_int_equal(h_allocate(&h), 0);
    h.now += 1;
    assert_int_equal(h_allocate(&h), 1);
    /* revive clears the filter at once */
    assert_int_equal(mc_engine_decline(h.e, "A", "a1", 60), MC_OK);
    assert_int_equal(h_allocate(&h), 0);
    assert_int_equal(mc_engine_revive(h.e, "A", NULL), MC_OK);
    assert_int_equal(h_allocate(&h), 1);
    h_fini(&h);
}

/* An agent every framework has filtered is skipped by later cycles (shard.c
 * B1) only while nothing that could change that has changed. */
static void test_blocked_agents_come_back(void **state)
{
    struct harness h;
    h_init(&h, 0);
    h_agent(&h, "a1", "cpus:2;mem:2048");
    h_fw(&h, "A", "r");
    assert_int_equal(h_allocate(&h), 1);
    assert_int_equal(mc_engine_decline(h.e, "A", "a1", 60), MC_OK);
    assert_int_equal(h_allocate(&h), 0); /* blocked */
    assert_int_equal(h_allocate(&h), 0); /* still blocked */
    /* a new framework is a new candidate */
    h_fw(&h, "B", "r");
    assert_int_equal(h_allocate(&h), 1);
    assert_string_equal(h.offers[0], "B a1 r cpus:2;mem:2048");
    assert_int_equal(mc_engine_decline(h.e, "B", "a1", 30), MC_OK);
    assert_int_equal(h_allocate(&h), 0);
    /* the earliest filter expires: offered again */
    h.now += 30 * MC_NS_PER_SEC;
    assert_int_equal(h_allocate(&h), 1);
    assert_string_equal(h.offers[0], "B a1 r cpus:2;mem:2048");
    /* a smaller free vector: A's refusal (all of a1, 60 s) still contains it */
    assert_int_equal(h_accept(&h, "B", "a1", "cpus:1;mem:1024"), MC_OK);
    assert_int_equal(mc_engine_suppress(h.e, "B", NULL), MC_OK);
    assert_int_equal(h_allocate(&h), 0);
    /* the task ends: the free vector changed, the agent is looked at again,
     * and A's refusal still contains it */
    mc_res_t r = MC_RES_INIT;
    mc_test_res(&r, "cpus:1;mem:1024");
    assert_int_equal(mc_engine_finish(h.e, "B", "a1", &r), MC_OK);
    assert_int_equal(mc_engine_decline(h.e, "A", "a1", 0), MC_ENOOFFER);
    assert_int_equal(h_allocate(&h), 0);
    /* reviving A clears its filter */
    assert_int_equal(mc_engine_revive(h.e, "A", NULL), MC_OK);
    assert_int_equal(h_allocate(&h), 1);
    assert_string_equal(h.offers[0], "A a1 r cpus:2;mem:2048");
    mc_res_fini(&r);
    h_fini(&h);
}

/* Offers a1 until every candidate has declined it (each decline a 60 s
 * filter); returns how many declined. */
static int decline_all(struct harness *h)
{
    int n = 0;
    while (h_allocate(h) == 1) {
        char fw[16];
        assert_int_equal(sscanf(h->offers[0], "%15s", fw), 1);
        assert_int_equal(mc_engine_decline(h->e, fw, "a1", 60), MC_OK);
        n++;
        assert_true(n < 20);
    }
    return n;
}

/* One agent a1 (cpus 4, mem 4096), frameworks A and B in role r. */
static void h_two_fws(struct harness *h)
{
    h_init(h, 0);
    h_agent(h, "a1", "cpus:4;mem:4096");
    h_fw(h, "A", "r");
    h_fw(h, "B", "r");
}

/* An agent on which every (framework, role) has a live filter, all refusing
 * one vector that holds its free resources, is passed over at once (shard.c
 * F1). Anything that breaks one of those conditions brings it back in the
 * same cycle: a revive, an expiry, a new framework, a free vector the
 * refusals no longer contain, a refusal of something else. */
static void test_all_filtered_agents_come_back(void **state)
{
    struct harness h;
    h_init(&h, 0);
    h_agent(&h, "a1", "cpus:4;mem:4096");
    h_fw(&h, "A", "r");
    const char *roles[] = {"r", "s"};
    assert_int_equal(mc_engine_framework_add(h.e, "B", roles, 2, NULL, 0), MC_OK);
    h_fw(&h, "C", "s");
    /* four (framework, role) pairs decline, one per cycle */
    assert_int_equal(decline_all(&h), 4);
    assert_int_equal(h_allocate(&h), 0);
    /* a revive voids that framework's filters, in both of its roles */
    h.now += 10 * MC_NS_PER_SEC;
    assert_int_equal(mc_engine_revive(h.e, "B", NULL), MC_OK);
    assert_int_equal(decline_all(&h), 2);
    /* A's filter, the oldest, expires first */
    h.now += 50 * MC_NS_PER_SEC;
    assert_int_equal(h_allocate(&h), 1);
    assert_string_equal(h.offers[0], "A a1 r cpus:4;mem:4096");
    assert_int_equal(mc_engine_decline(h.e, "A", "a1", 60), MC_OK);
    h.now += 5 * MC_NS_PER_SEC; /* C's filter went at 60 s too */
    assert_int_equal(decline_all(&h), 1);
    /* a framework that leaves takes its filters; one that comes is offered */
    assert_int_equal(mc_engine_framework_remove(h.e, "C"), MC_OK);
    assert_int_equal(h_allocate(&h), 0);
    h_fw(&h, "D", "s");
    assert_int_equal(h_allocate(&h), 1);
    assert_string_equal(h.offers[0], "D a1 s cpus:4;mem:4096");
    /* D takes a part and refuses the rest: its refusal is another vector,
     * smaller than the others */
    assert_int_equal(h_accept(&h, "D", "a1", "cpus:1;mem:1024"), MC_OK);
    assert_int_equal(h_allocate(&h), 1);
    assert_string_equal(h.offers[0], "D a1 s cpus:3;mem:3072");
    assert_int_equal(mc_engine_decline(h.e, "D", "a1", 60), MC_OK);
    assert_int_equal(h_allocate(&h), 0);
    /* D's task ends: a1 is whole again, which D's refusal does not contain */
    mc_res_t r = MC_RES_INIT;
    mc_test_res(&r, "cpus:1;mem:1024");
    assert_int_equal(mc_engine_finish(h.e, "D", "a1", &r), MC_OK);
    assert_int_equal(h_allocate(&h), 1);
    assert_string_equal(h.offers[0], "D a1 s cpus:4;mem:4096");
    assert_int_equal(mc_engine_decline(h.e, "D", "a1", 60), MC_OK);
    assert_int_equal(h_allocate(&h), 0); /* two vectors now: the walk decides */
    mc_res_fini(&r);
    h_fini(&h);

    /* refusals that all share one vector, but of an agent that grew since */
    h_two_fws(&h);
    assert_int_equal(h_allocate(&h), 1);
    assert_string_equal(h.offers[0], "A a1 r cpus:4;mem:4096");
    assert_int_equal(h_accept(&h, "A", "a1", "cpus:1;mem:1024"), MC_OK);
    assert_int_equal(decline_all(&h), 2); /* B, then A, refuse cpus:3;mem:3072 */
    mc_test_res(&r, "cpus:1;mem:1024");
    assert_int_equal(mc_engine_finish(h.e, "A", "a1", &r), MC_OK);
    assert_int_equal(h_allocate(&h), 1);
    assert_string_equal(h.offers[0] + 1, " a1 r cpus:4;mem:4096");
    /* the first refuses all of it: the newest vector contains a1, the
     * other's older one does not */
    char first = h.offers[0][0];
    assert_int_equal(mc_engine_decline(h.e, first == 'A' ? "A" : "B", "a1", 60), MC_OK);
    assert_int_equal(h_allocate(&h), 1);
    assert_int_equal(h.offers[0][0], first == 'A' ? 'B' : 'A');
    mc_res_fini(&r);
    h_fini(&h);

    /* suppression: only pairs that are not suppressed count, both ways */
    h_two_fws(&h);
    assert_int_equal(decline_all(&h), 2);
    h_fw(&h, "C", "r");
    assert_int_equal(mc_engine_suppress(h.e, "C", NULL), MC_OK);
    assert_int_equal(h_allocate(&h), 0); /* C does not count while suppressed */
    assert_int_equal(mc_engine_suppress(h.e, "A", NULL), MC_OK);
    assert_int_equal(mc_engine_revive(h.e, "C", NULL), MC_OK);
    assert_int_equal(h_allocate(&h), 1); /* A's filter is not C's */
    assert_string_equal(h.offers[0], "C a1 r cpus:4;mem:4096");
    h_fini(&h);

    h_two_fws(&h);
    assert_int_equal(decline_all(&h), 2);
    assert_int_equal(mc_engine_suppress(h.e, "A", NULL), MC_OK);
    assert_int_equal(h_allocate(&h), 0);
    h_fw(&h, "C", "r"); /* one filtered pair fewer, one new pair */
    assert_int_equal(h_allocate(&h), 1);
    assert_string_equal(h.offers[0], "C a1 r cpus:4;mem:4096");
    h_fini(&h);

    /* a pair that declines while suppressed is not counted */
    h_two_fws(&h);
    assert_int_equal(h_allocate(&h), 1);
    assert_string_equal(h.offers[0], "A a1 r cpus:4;mem:4096");
    assert_int_equal(mc_engine_suppress(h.e, "A", NULL), MC_OK);
    assert_int_equal(mc_engine_decline(h.e, "A", "a1", 60), MC_OK);
    assert_int_equal(decline_all(&h), 1); /* B */
    h_fw(&h, "C", "r");
    assert_int_equal(h_allocate(&h), 1);
    assert_string_equal(h.offers[0], "C a1 r cpus:4;mem:4096");
    mc_res_fini(&r);
    h_fini(&h);
}

/* Stage 1 serves guarantees before anything else, and stops once every one
 * is met (shard.c Q4) without skipping a role still short. */
static void test_stage1_serves_guarantees_first(void **state)
{
    struct harness h;
    h_init(&h, 0);
    h_guarantee(&h, "y", "cpus:2");
    h_guarantee(&h, "z", "cpus:2");
    h_agents(&h, 4, "cpus:2;mem:1024");
    h_fw(&h, "A", "a"); /* no guarantee, first by name */
    h_fw(&h, "Y", "y");
    h_fw(&h, "Z", "z");
    assert_int_equal(h_allocate(&h), 4);
    /* the guarantees first (their order is DRF's), then the rest */
    assert_true(h.offers[0][0] == 'Y' || h.offers[0][0] == 'Z');
    assert_true(h.offers[1][0] == 'Y' || h.offers[1][0] == 'Z');
    assert_true(h.offers[0][0] != h.offers[1][0]);
    assert_true(h.offers[2][0] == 'A');
    h_fini(&h);
}

static void fw_mem(void *arg, const struct mc_fw_info *fw)
{
    if (!strcmp(fw->id, "Z"))
        *(mc_milli_t *)arg = mc_res_quantity(fw->alloc, MC_SYM_MEM);
}

/* Every cycle counts again what each role holds against its guarantee
 * (shard.c mc__quota_prepare): a guarantee of memory alone, met in one
 * cycle and declined, is served again in the next, ahead of a role that
 * DRF would serve first (A: fewer allocations ever made). Without it, DRF
 * alone would give Z two of the four agents. */
static void test_guarantee_served_every_cycle(void **state)
{
    struct harness h;
    h_init(&h, 0);
    h_guarantee(&h, "z", "mem:12288");
    h_agents(&h, 4, "cpus:4;mem:4096");
    h_fw(&h, "A", "a");
    h_fw(&h, "Z", "z");
    for (int cycle = 0; cycle < 3; cycle++) {
        assert_int_equal(h_allocate(&h), 4);
        mc_milli_t mem = 0;
        mc_engine_frameworks(h.e, fw_mem, &mem);
        assert_true(mem >= 12288 * MC_MILLI);
        for (int i = 0; i < h.noffers; i++) {
            char fw[64], agent[64];
            assert_int_equal(sscanf(h.offers[i], "%63s %63s", fw, agent), 2);
            assert_int_equal(mc_engine_decline(h.e, fw, agent, 0), MC_OK);
        }
    }
    h_fini(&h);
}

static void test_tick_coalesces_events_and_honours_interval(void **state)
{
    struct harness h;
    h_init(&h, 0);
    int cycles = 0;
    assert_false(mc_engine_cycle_pending(h.e));
    assert_int_equal(mc_engine_tick(h.e), 0); /* nothing pending, interval not passed */
    h_agent(&h, "a1", "cpus:1;mem:1024");
    h_agent(&h, "a2", "cpus:1;mem:1024");
    h_fw(&h, "A", "r");
    assert_true(mc_engine_cycle_pending(h.e));
    /* three events, one cycle */
    cycles += mc_engine_tick(h.e);
    cycles += mc_engine_tick(h.e);
    assert_int_equal(cycles, 1);
    assert_int_equal(h.noffers, 2);
    /* a decline alone does not start a cycle; the interval does */
    assert_int_equal(mc_engine_decline(h.e, "A", "a1", 0), MC_OK);
    assert_false(mc_engine_cycle_pending(h.e));
    h.now += MC_NS_PER_SEC / 2;
    assert_int_equal(mc_engine_tick(h.e), 0);
    h.now += MC_NS_PER_SEC / 2;
    h.noffers = 0;
    assert_int_equal(mc_engine_tick(h.e), 1);
    assert_int_equal(h.noffers, 1);
    h_fini(&h);
}

static void test_offer_timeout_rescinds(void **state)
{
    struct harness h;
    h_init(&h, 30 * MC_NS_PER_SEC);
    h_agent(&h, "a1", "cpus:1;mem:1024");
    h_fw(&h, "A", "r");
    assert_int_equal(h_allocate(&h), 1);
    h.now += 29 * MC_NS_PER_SEC;
    mc_engine_expire(h.e);
    assert_int_equal(h.nrescinds, 0);
    h.now += MC_NS_PER_SEC;
    mc_engine_expire(h.e);
    assert_int_equal(h.nrescinds, 1);
    assert_string_equal(h.rescinds[0], "A a1");
    h_check(&h);
    /* rescinded, not declined: no filter, so it is offered again */
    assert_int_equal(h_allocate(&h), 1);
    h_fini(&h);
}

static void test_agent_remove_rescinds_and_deactivate(void **state)
{
    struct harness h;
    h_init(&h, 0);
    h_agent(&h, "a1", "cpus:1;mem:1024");
    h_agent(&h, "a2", "cpus:1;mem:1024");
    h_fw(&h, "A", "r");
    assert_int_equal(mc_engine_agent_activate(h.e, "a2", false), MC_OK);
    assert_int_equal(h_allocate(&h), 1);
    assert_string_equal(h.offers[0], "A a1 r cpus:1;mem:1024");
    assert_int_equal(mc_engine_agent_remove(h.e, "a1"), MC_OK);
    assert_int_equal(h.nrescinds, 1);
    assert_int_equal(mc_engine_agent_remove(h.e, "a1"), MC_ENOENT);
    h_check(&h);
    assert_int_equal(mc_engine_agent_activate(h.e, "a2", true), MC_OK);
    assert_true(mc_engine_cycle_pending(h.e));
    assert_int_equal(h_allocate(&h), 1);
    assert_string_equal(h.offers[0], "A a2 r cpus:1;mem:1024");
    h_fini(&h);
}

/* Shares count only the dims some agent has (e->live): the list follows
 * agents that bring a resource name and the last one that takes it away. */
static void test_dims_follow_the_agents(void **state)
{
    struct harness h;
    h_init(&h, 0);
    h_agent(&h, "g1", "cpus:1;mem:1024;gpus:1");
    h_agent(&h, "a2", "cpus:4;mem:4096");
    h_fw(&h, "A", "r");
    h_check(&h);
    assert_int_equal(mc_engine_agent_remove(h.e, "g1"), MC_OK);
    h_check(&h); /* gpus has no total any more */
    assert_int_equal(h_allocate(&h), 1);
    assert_string_equal(h.offers[0], "A a2 r cpus:4;mem:4096");
    h_agent(&h, "g3", "cpus:1;gpus:2");
    h_check(&h);
    assert_int_equal(h_allocate(&h), 1);
    assert_string_equal(h.offers[0], "A g3 r cpus:1;gpus:2");
    h_fini(&h);
}

static void test_validation(void **state)
{
    struct harness h;
    h_init(&h, 0);
    mc_res_t g = MC_RES_INIT, l = MC_RES_INIT;
    mc_test_res(&g, "cpus:4");
    mc_test_res(&l, "cpus:2");
    assert_int_equal(mc_engine_role_set(h.e, "q", 1, &g, &l), MC_EINVAL); /* guarantee > limit */
    assert_int_equal(mc_engine_role_set(h.e, "q", NAN, NULL, NULL), MC_EINVAL);
    assert_int_equal(mc_engine_role_set(h.e, "q", INFINITY, NULL, NULL), MC_EINVAL);
    assert_int_equal(mc_engine_role_set(h.e, "q", -1, NULL, NULL), MC_EINVAL);
    mc_test_res(&g, "cpus(q):1");
    assert_int_equal(mc_engine_role_set(h.e, "q", 1, &g, NULL), MC_EINVAL); /* reserved quota */
    mc_test_res(&g, "ports:[1-2]");
    assert_int_equal(mc_engine_role_set(h.e, "q", 1, &g, NULL), MC_EINVAL); /* ranges */
    assert_int_equal(mc_engine_role_set(h.e, "bad//role", 1, NULL, NULL), MC_EINVAL);
    const char *dup[] = {"x", "x"};
    assert_int_equal(mc_engine_framework_add(h.e, "F", dup, 2, NULL, 0), MC_EINVAL);
    assert_int_equal(mc_engine_framework_add(h.e, "F", dup, 0, NULL, 0), MC_EINVAL);
    h_fw(&h, "F", "x");
    const char *one[] = {"x"};
    assert_int_equal(mc_engine_framework_add(h.e, "F", one, 1, NULL, 0), MC_EEXIST);
    h_agent(&h, "a1", "cpus:1");
    mc_test_res(&g, "cpus:1");
    assert_int_equal(mc_engine_agent_add(h.e, "a1", &g, NULL), MC_EEXIST);
    assert_int_equal(mc_engine_agent_add(h.e, "a/1", &g, NULL), MC_EINVAL);
    /* too many scalar names: refused whole, the engine is unchanged */
    char text[2048] = "cpus:1";
    for (int i = 0; i < 40; i++)
        snprintf(text + strlen(text), sizeof(text) - strlen(text), ";r%02d:1", i);
    mc_test_res(&g, text);
    assert_int_equal(mc_engine_agent_add(h.e, "wide", &g, NULL), MC_ELIMIT);
    assert_false(mc_engine_has_agent(h.e, "wide"));
    mc_res_fini(&g);
    mc_res_fini(&l);
    h_fini(&h);
}

/* Hierarchical roles: a role's own frameworks compete with its child roles;
 * resources reserved for a parent role may go to a child's frameworks. */
static void test_hierarchical_roles(void **state)
{
    struct harness h;
    h_init(&h, 0);
    h_agent(&h, "a1", "cpus:1;mem:1024;cpus(eng):1;mem(eng):1024");
    h_fw(&h, "W", "eng/web");
    assert_int_equal(h_allocate(&h), 1);
    assert_string_equal(h.offers[0], "W a1 eng/web cpus:1;cpus(eng):1;mem:1024;mem(eng):1024");
    h_fini(&h);

    h_init(&h, 0);
    h_agent(&h, "a1", "cpus:1;mem:1024;cpus(eng/web):1;mem(eng/web):1024");
    h_fw(&h, "E", "eng");
    assert_int_equal(h_allocate(&h), 1);
    /* a child's reservation is not allocatable to the parent */
    assert_string_equal(h.offers[0], "E a1 eng cpus:1;mem:1024");
    h_fini(&h);

    /* weight at the top level: eng (weight 3) holds three times ops */
    h_init(&h, 0);
    assert_int_equal(mc_engine_role_set(h.e, "eng", 3, NULL, NULL), MC_OK);
    for (int i = 0; i < 8; i++) {
        char id[8];
        snprintf(id, sizeof(id), "a%d", i);
        h_agent(&h, id, "cpus:1;mem:1024");
    }
    h_fw(&h, "W", "eng/web");
    h_fw(&h, "D", "eng/db");
    h_fw(&h, "O", "ops");
    assert_int_equal(h_allocate(&h), 8);
    int eng = 0;
    for (int i = 0; i < 8; i++)
        eng += h.offers[i][0] != 'O';
    assert_int_equal(eng, 6);
    h_fini(&h);
}

static void test_multi_role_framework(void **state)
{
    struct harness h;
    h_init(&h, 0);
    h_agent(&h, "a1", "cpus:2;mem:2048;cpus(b):1;mem(b):512");
    const char *roles[] = {"a", "b"};
    assert_int_equal(mc_engine_framework_add(h.e, "M", roles, 2, NULL, 0), MC_OK);
    assert_int_equal(h_allocate(&h), 2);
    assert_string_equal(h.offers[0], "M a1 a cpus:2;mem:2048");
    assert_string_equal(h.offers[1], "M a1 b cpus(b):1;mem(b):512");
    /* suppressed in one role only */
    assert_int_equal(mc_engine_decline(h.e, "M", "a1", 0), MC_OK);
    assert_int_equal(mc_engine_suppress(h.e, "M", "a"), MC_OK);
    assert_int_equal(mc_engine_suppress(h.e, "M", "zzz"), MC_ENOENT);
    assert_int_equal(h_allocate(&h), 1);
    assert_string_equal(h.offers[0], "M a1 b cpus:2;cpus(b):1;mem:2048;mem(b):512");
    h_fini(&h);
}

static void test_agent_added_with_running_tasks(void **state)
{
    struct harness h;
    h_init(&h, 0);
    h_fw(&h, "A", "r");
    h_fw(&h, "B", "r");
    mc_res_t total = MC_RES_INIT, u1 = MC_RES_INIT, u2 = MC_RES_INIT;
    mc_test_res(&total, "cpus:8;mem:8192;ports:[31000-31099]");
    mc_test_res(&u1, "cpus:2;mem:2048;ports:[31000-31009]");
    mc_test_res(&u2, "cpus:1;mem:1024");
    struct mc_agent_use bad[] = {{"Z", "r", &u1, 1}};
    assert_int_equal(mc_engine_agent_add_used(h.e, "a1", &total, NULL, bad, 1), MC_ENOENT);
    struct mc_agent_use wrong_role[] = {{"A", "x", &u1, 1}};
    assert_int_equal(mc_engine_agent_add_used(h.e, "a1", &total, NULL, wrong_role, 1), MC_ENOENT);
    struct mc_agent_use too_much[] = {{"A", "r", &total, 1}, {"B", "r", &u2, 1}};
    assert_int_equal(mc_engine_agent_add_used(h.e, "a1", &total, NULL, too_much, 2), MC_EEXCEED);
    assert_false(mc_engine_has_agent(h.e, "a1"));
    h_check(&h);
    struct mc_agent_use ok[] = {{"A", "r", &u1, 2}, {"B", "r", &u2, 1}, {"A", "r", &u2, 1}};
    assert_int_equal(mc_engine_agent_add_used(h.e, "a1", &total, NULL, ok, 3), MC_OK);
    h_check(&h);
    /* A holds 3 cpus of 8, B 1: B is offered the free rest */
    assert_int_equal(h_allocate(&h), 1);
    assert_string_equal(h.offers[0], "B a1 r cpus:4;mem:4096;ports:[31010-31099]");
    /* the preloaded tasks are real tasks: they finish like any other */
    assert_int_equal(mc_engine_finish(h.e, "A", "a1", &u1), MC_OK);
    assert_int_equal(mc_engine_finish(h.e, "A", "a1", &u2), MC_OK);
    /* everything they used is back: nothing more can finish */
    assert_int_equal(mc_engine_finish(h.e, "A", "a1", &u2), MC_EEXCEED);
    h_check(&h);
    mc_res_fini(&total);
    mc_res_fini(&u1);
    mc_res_fini(&u2);
    h_fini(&h);
}

struct share_seen {
    const char *id;
    double share;
    mc_milli_t cpus, mem;
};

static void share_of_fw(void *arg, const struct mc_fw_info *fw)
{
    struct share_seen *s = arg;
    if (strcmp(fw->id, s->id) == 0) {
        s->share = fw->share;
        s->cpus = mc_res_quantity(fw->alloc, MC_SYM_CPUS);
        s->mem = mc_res_quantity(fw->alloc, MC_SYM_MEM);
    }
}

/* A dominant share is max over names of allocated / total, divided by the
 * role's weight, as doubles (drf.c: equal rationals give equal doubles, so
 * ties go to counts and names), bit for bit, also for ratios a rounding
 * could tell apart, for weights other than 1 and for quantities a double
 * cannot hold exactly (2^53 thousandths and up). Two frameworks take one
 * agent each; their shares are compared with the division per name. */
static void test_shares_are_the_quotients_of_doubles(void **state)
{
    (void)state;
    static const double weights[] = {1, 0.5, 3, 7.25};
    uint64_t x = 0x9e3779b97f4a7c15ull;
    for (int trial = 0; trial < 400; trial++) {
        /* xorshift: quantities in thousandths; every fourth trial has one
         * from 2^53 up; every third makes mem's ratio a near tie of cpus' */
        mc_milli_t q[4];
        for (int k = 0; k < 4; k++) {
            x ^= x << 13, x ^= x >> 7, x ^= x << 17;
            q[k] = 1 + (mc_milli_t)(x % (trial % 4 ? 1000000000ull : (1ull << 60)));
        }
        if (trial % 3 == 0) { /* c1 / (c1 + c2) against m1 / (m1 + m2), m = 3c +- 1 */
            q[2] = 3 * q[0] + (trial % 2);
            q[3] = 3 * q[1] - (trial % 2);
        }
        double w = weights[trial % 4];
        struct harness h;
        h_init(&h, 0);
        const char *roles[] = {"r"};
        assert_int_equal(mc_engine_role_set(h.e, "r", w, NULL, NULL), MC_OK);
        assert_int_equal(mc_engine_framework_add(h.e, "f", roles, 1, NULL, 0), MC_OK);
        assert_int_equal(mc_engine_framework_add(h.e, "g", roles, 1, NULL, 0), MC_OK);
        for (int a = 0; a < 2; a++) {
            char text[128], id[8];
            snprintf(text, sizeof(text), "cpus:%lld.%03lld;mem:%lld.%03lld",
                     (long long)(q[a] / 1000), (long long)(q[a] % 1000),
                     (long long)(q[2 + a] / 1000), (long long)(q[2 + a] % 1000));
            snprintf(id, sizeof(id), "a%d", a);
            mc_res_t r = MC_RES_INIT;
            assert_int_equal(mc_res_parse(&r, text, strlen(text), NULL), MC_OK);
            assert_int_equal(mc_engine_agent_add(h.e, id, &r, NULL), MC_OK);
            mc_res_fini(&r);
        }
        h_allocate(&h);
        assert_int_equal(h.noffers, 2);
        double ct = (double)(q[0] + q[1]), mt = (double)(q[2] + q[3]);
        for (int f = 0; f < 2; f++) {
            struct share_seen s = {f ? "g" : "f", -1, 0, 0};
            mc_engine_frameworks(h.e, share_of_fw, &s);
            double want = fmax((double)s.cpus / ct, (double)s.mem / mt) / w;
            if (memcmp(&want, &s.share, sizeof(want)) != 0)
                fail_msg("trial %d %s: share %a, the quotients give %a", trial, s.id, s.share,
                         want);
        }
        h_fini(&h);
    }
}

/* Random operations with the books checked after each: the single-thread
 * twin of the sharded stress test. The walk answers offers the engine really
 * made and finishes tasks it really launched, plus a share of bogus calls. */
struct walk_task {
    char fw[8], agent[8], res[64];
};

static void test_random_operations_keep_the_books(void **state)
{
    struct harness h;
    h_init(&h, 3 * MC_NS_PER_SEC);
    srand(7);
    const char *sizes[] = {"cpus:1;mem:1024", "cpus:0.5;mem:256;ports:[31000-31001]", "mem:64",
                           "cpus:1;mem:512;gpus:1"};
    char fws[8][8], agents[32][8];
    bool fw_live[8] = {0}, ag_live[32] = {0};
    for (int i = 0; i < 8; i++)
        snprintf(fws[i], 8, "f%d", i);
    for (int i = 0; i < 32; i++)
        snprintf(agents[i], 8, "n%d", i);
    static struct walk_task tasks[4096];
    int ntasks = 0;
    mc_res_t r = MC_RES_INIT, g = MC_RES_INIT;
    mc_test_res(&g, "cpus:4;mem:4096");
    assert_int_equal(mc_engine_role_set(h.e, "r1", 2, &g, NULL), MC_OK);
    mc_test_res(&g, "cpus:6");
    assert_int_equal(mc_engine_role_set(h.e, "r2/x", 1, NULL, &g), MC_OK);
    const char *roles[] = {"r0", "r1", "r2/x", "r2"};
    int offers = 0, accepts = 0, declines = 0, finishes = 0;
    for (int step = 0; step < 6000; step++) {
        int op = rand() % 12, f = rand() % 8, a = rand() % 32;
        char ofw[8] = "", oag[8] = "";
        if (h.noffers > 0) { /* one of the last cycle's offers, maybe answered already */
            int k = rand() % (h.noffers < 64 ? h.noffers : 64);
            sscanf(h.offers[k], "%7s %7s", ofw, oag);
        }
        switch (op) {
        case 0:
            if (!ag_live[a]) {
                h_agent(&h, agents[a],
                        rand() % 2 ? "cpus:4;mem:4096;ports:[31000-31009]"
                                   : "cpus:2;mem:2048;gpus:1;cpus(r1):1;ports:[31000-31004]");
                ag_live[a] = true;
            } else if (rand() % 3 == 0) {
                assert_int_equal(mc_engine_agent_remove(h.e, agents[a]), MC_OK);
                ag_live[a] = false;
            }
            break;
        case 1:
            if (!fw_live[f]) {
                const char *rs[] = {roles[f % 4], roles[(f + 1) % 4]};
                assert_int_equal(mc_engine_framework_add(h.e, fws[f], rs, 1 + f % 2, NULL, 0),
                                 MC_OK);
                fw_live[f] = true;
            } else if (rand() % 4 == 0) {
                assert_int_equal(mc_engine_framework_remove(h.e, fws[f]), MC_OK);
                fw_live[f] = false;
            }
            break;
        case 2:
        case 3:
            offers += h_allocate(&h);
            break;
        case 4:
        case 5:
        case 6: {
            const char *size = sizes[rand() % 4];
            mc_test_res(&r, size);
            if (mc_engine_accept(h.e, ofw, oag, &r) == MC_OK) {
                accepts++;
                if (ntasks < 4096) {
                    struct walk_task *t = &tasks[ntasks++];
                    snprintf(t->fw, sizeof(t->fw), "%s", ofw);
                    snprintf(t->agent, sizeof(t->agent), "%s", oag);
                    snprintf(t->res, sizeof(t->res), "%s", size);
                }
            }
            break;
        }
        case 7:
            declines += mc_engine_decline(h.e, ofw, oag, (double)(rand() % 4) - 1) == MC_OK;
            break;
        case 8:
        case 9:
            if (ntasks) { /* a launched task ends (gone already if its agent or fw went) */
                int k = rand() % ntasks;
                mc_test_res(&r, tasks[k].res);
                finishes += mc_engine_finish(h.e, tasks[k].fw, tasks[k].agent, &r) == MC_OK;
                tasks[k] = tasks[--ntasks];
            }
            break;
        case 10:
            if (fw_live[f])
                assert_int_equal(rand() % 2 ? mc_engine_suppress(h.e, fws[f], NULL)
                                            : mc_engine_revive(h.e, fws[f], NULL),
                                 MC_OK);
            break;
        case 11:
            h.now += (uint64_t)(rand() % 2000) * 1000000ull;
            mc_engine_tick(h.e);
            break;
        }
        h_check(&h);
    }
    /* the walk reached every kind of transition many times */
    print_message("offers %d accepts %d declines %d finishes %d\n", offers, accepts, declines,
                  finishes);
    assert_true(offers > 200 && accepts > 100 && declines > 50 && finishes > 50);
    mc_res_fini(&r);
    mc_res_fini(&g);
    h_fini(&h);
}

/* ---- the caller's pointers in offers and queries ---------------------------------- */

struct udata_log {
    int fw_tag[4], agent_tag[12]; /* their addresses are the udata */
    int offers, wrong, free_agents, rescinds;
    uint64_t now;
    bool unset; /* every pointer was set to NULL again */
};

/* The pointer that belongs to @id ("f2", "a7"): framework f3 and agent a11
 * never get one. */
static void *udata_of(struct udata_log *g, const char *id)
{
    int i = atoi(id + 1);
    if (g->unset || (id[0] == 'f' && i == 3) || (id[0] == 'a' && i == 11))
        return NULL;
    return id[0] == 'f' ? (void *)&g->fw_tag[i] : (void *)&g->agent_tag[i];
}

static void udata_offers(void *arg, const struct mc_offer *o, size_t n)
{
    struct udata_log *g = arg;
    for (size_t i = 0; i < n; i++) {
        g->offers++;
        g->wrong += o[i].framework_udata != udata_of(g, o[i].framework) ||
                    o[i].agent_udata != udata_of(g, o[i].agent);
    }
}

static void udata_rescind(void *arg, const char *fw, const char *agent, void *fw_udata,
                          void *agent_udata)
{
    struct udata_log *g = arg;
    g->rescinds++;
    g->wrong += fw_udata != udata_of(g, fw) || agent_udata != udata_of(g, agent);
}

static void udata_fw_info(void *arg, const struct mc_fw_info *f)
{
    struct udata_log *g = arg;
    g->wrong += f->udata != udata_of(g, f->id);
}

static void udata_agent_info(void *arg, const struct mc_agent_info *a)
{
    struct udata_log *g = arg;
    g->wrong += a->udata != udata_of(g, a->id);
    g->free_agents += a->free->n > 0;
}

static uint64_t udata_clock(void *arg)
{
    return ((struct udata_log *)arg)->now;
}

/* Every offer carries the udata of its framework and its agent, also when
 * several shards' parts of a framework's batch are joined, and so does
 * every rescind (agent removed, offer timed out); the queries report them;
 * an unknown id is refused; a removed agent's pointer goes with it. */
static void test_udata_in_offers_and_queries(void **state)
{
    (void)state;
    for (unsigned shards = 1; shards <= 3; shards += 2) {
        struct udata_log g = {0};
        mc_engine_t *e;
        struct mc_engine_config cfg = {.shards = shards,
                                       .offer_timeout_ns = MC_NS_PER_SEC,
                                       .clock = udata_clock,
                                       .clock_arg = &g,
                                       .on_offers = udata_offers,
                                       .on_rescind = udata_rescind,
                                       .cb_arg = &g};
        assert_int_equal(mc_engine_create(&e, &cfg), MC_OK);
        mc_res_t total = MC_RES_INIT;
        mc_test_res(&total, "cpus:4;mem:1024");
        char id[16];
        for (int f = 0; f < 4; f++) {
            const char *roles[] = {"r"};
            snprintf(id, sizeof(id), "f%d", f);
            assert_int_equal(mc_engine_framework_add(e, id, roles, 1, NULL, 0), MC_OK);
            if (f != 3)
                assert_int_equal(mc_engine_framework_udata(e, id, &g.fw_tag[f]), MC_OK);
        }
        for (int a = 0; a < 12; a++) {
            snprintf(id, sizeof(id), "a%d", a);
            assert_int_equal(mc_engine_agent_add(e, id, &total, NULL), MC_OK);
            if (a != 11)
                assert_int_equal(mc_engine_agent_udata(e, id, &g.agent_tag[a]), MC_OK);
        }
        assert_int_equal(mc_engine_agent_udata(e, "a12", &g), MC_ENOENT);
        assert_int_equal(mc_engine_framework_udata(e, "f4", &g), MC_ENOENT);
        assert_int_equal(mc_engine_allocate(e, NULL), MC_OK);
        assert_int_equal(g.offers, 12);
        mc_engine_frameworks(e, udata_fw_info, &g);
        mc_engine_agents(e, udata_agent_info, &g);
        assert_int_equal(g.wrong, 0);

        /* rescinded: a0's offer as the agent goes, the others' as they time out */
        assert_int_equal(mc_engine_agent_remove(e, "a0"), MC_OK);
        assert_int_equal(g.rescinds, 1);
        g.now += 2 * MC_NS_PER_SEC;
        mc_engine_expire(e);
        assert_int_equal(g.rescinds, 12);
        assert_int_equal(g.wrong, 0);

        /* back to NULL: removed and added again, or set so */
        assert_int_equal(mc_engine_agent_add(e, "a0", &total, NULL), MC_OK);
        for (int f = 0; f < 3; f++) {
            snprintf(id, sizeof(id), "f%d", f);
            assert_int_equal(mc_engine_framework_udata(e, id, NULL), MC_OK);
            assert_int_equal(mc_engine_framework_remove(e, id), MC_OK);
        }
        for (int a = 1; a < 11; a++) {
            snprintf(id, sizeof(id), "a%d", a);
            assert_int_equal(mc_engine_agent_udata(e, id, NULL), MC_OK);
        }
        g.unset = true;
        g.free_agents = 0;
        mc_engine_agents(e, udata_agent_info, &g);
        assert_int_equal(g.wrong, 0);
        assert_int_equal(g.free_agents, 12); /* every offer went back */
        g.offers = 0;
        assert_int_equal(mc_engine_allocate(e, NULL), MC_OK);
        assert_int_equal(g.offers, 12); /* to f3 */
        assert_int_equal(g.wrong, 0);
        mc_res_fini(&total);
        mc_engine_destroy(e);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ids),
        cmocka_unit_test(test_cycles_with_nothing_to_do),
        cmocka_unit_test(test_one_offer_per_agent_whole_free_vector),
        cmocka_unit_test(test_offers_are_batched_per_framework),
        cmocka_unit_test(test_minimum_allocatable),
        cmocka_unit_test(test_accept_and_decline_errors_change_nothing),
        cmocka_unit_test(test_refuse_filter_durations),
        cmocka_unit_test(test_blocked_agents_come_back),
        cmocka_unit_test(test_all_filtered_agents_come_back),
        cmocka_unit_test(test_stage1_serves_guarantees_first),
        cmocka_unit_test(test_guarantee_served_every_cycle),
        cmocka_unit_test(test_tick_coalesces_events_and_honours_interval),
        cmocka_unit_test(test_offer_timeout_rescinds),
        cmocka_unit_test(test_agent_remove_rescinds_and_deactivate),
        cmocka_unit_test(test_dims_follow_the_agents),
        cmocka_unit_test(test_validation),
        cmocka_unit_test(test_hierarchical_roles),
        cmocka_unit_test(test_multi_role_framework),
        cmocka_unit_test(test_agent_added_with_running_tasks),
        cmocka_unit_test(test_shares_are_the_quotients_of_doubles),
        cmocka_unit_test(test_random_operations_keep_the_books),
        cmocka_unit_test(test_udata_in_offers_and_queries),
    };
    return cmocka_run_group_tests_name("engine/engine", tests, NULL, NULL);
}
