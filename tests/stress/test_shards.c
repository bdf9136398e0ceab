/* tests/stress/test_shards.c: the sharded engine under long random event
 * streams, at S = 1, 2, 4 and 8 shards (more shards than this machine's cores
 * on purpose). Asserts the books after every cycle (no resource offered twice,
 * free + offered + used = total), exact quota limits and headroom, and the
 * fairness bound against the one-shard run (engine/drf.c C2). Runs under
 * ThreadSanitizer in CI (label "concurrency"). */
#include "common/mc_test.h"
#include "engine/engine.h"
#include "engine/sym.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const unsigned shard_counts[] = {1, 2, 4, 8};

struct log {
    struct {
        char fw[16], agent[16];
        mc_res_t res;
    } o[4096];
    int n;
    uint64_t now;
    unsigned shards;
};

static uint64_t log_clock(void *arg)
{
    return ((struct log *)arg)->now;
}

static void log_offers(void *arg, const struct mc_offer *o, size_t n)
{
    struct log *l = arg;
    size_t runs = 1;
    for (size_t i = 0; i < n; i++) {
        /* one framework per batch: each shard's decisions in their order,
         * shard after shard (seq counts within a shard) */
        runs += i > 0 && o[i].seq <= o[i - 1].seq;
        assert_true(runs <= l->shards);
        assert_string_equal(o[i].framework, o[0].framework);
        if (l->n == 4096)
            return;
        snprintf(l->o[l->n].fw, 16, "%s", o[i].framework);
        snprintf(l->o[l->n].agent, 16, "%s", o[i].agent);
        mc_res_init(&l->o[l->n].res);
        assert_int_equal(mc_res_copy(&l->o[l->n].res, o[i].res), MC_OK);
        l->n++;
    }
}

static void log_clear(struct log *l)
{
    for (int i = 0; i < l->n; i++)
        mc_res_fini(&l->o[i].res);
    l->n = 0;
}

/* An engine of @shards shards run by @threads threads (0: one per CPU, at
 * most one per shard). */
static mc_engine_t *make_threads(unsigned shards, unsigned threads, struct log *l, uint64_t seed)
{
    l->shards = shards;
    mc_engine_t *e;
    struct mc_engine_config cfg = {.shards = shards,
                                   .threads = threads,
                                   .seed = seed,
                                   .clock = log_clock,
                                   .clock_arg = l,
                                   .on_offers = log_offers,
                                   .cb_arg = l};
    assert_int_equal(mc_engine_create(&e, &cfg), MC_OK);
    assert_int_equal(mc_engine_shards(e), shards);
    unsigned t = mc_engine_threads(e);
    assert_true(t >= 1 && t <= shards && (!threads || t == (threads < shards ? threads : shards)));
    return e;
}

static mc_engine_t *make(unsigned shards, struct log *l, uint64_t seed)
{
    return make_threads(shards, 0, l, seed);
}

static void books(mc_engine_t *e)
{
    char why[512];
    if (mc_engine_check(e, why, sizeof(why)))
        fail_msg("books: %s", why);
}

static void add_agent(mc_engine_t *e, const char *id, const char *res)
{
    mc_res_t r = MC_RES_INIT;
    mc_test_res(&r, res);
    assert_int_equal(mc_engine_agent_add(e, id, &r, NULL), MC_OK);
    mc_res_fini(&r);
}

/* Agents a0 .. a<n - 1>, each with @res. */
static void add_agents(mc_engine_t *e, int n, const char *res)
{
    char id[32];
    for (int k = 0; k < n; k++) {
        snprintf(id, sizeof(id), "a%d", k);
        add_agent(e, id, res);
    }
}

/* ---- random event streams ---------------------------------------------------------- */

/* A cycle makes one offer per framework, role and agent, as Mesos's
 * allocator does: a quota cycle's stage 1 and stage 2 parts on one agent
 * are one offer (shard.c Q6). The streams' frameworks have one role each. */
static void distinct_offers(const struct log *l)
{
    for (int i = 0; i < l->n; i++)
        for (int j = 0; j < i; j++)
            if (!strcmp(l->o[i].fw, l->o[j].fw) && !strcmp(l->o[i].agent, l->o[j].agent))
                fail_msg("%s got two offers on %s in one cycle", l->o[i].fw, l->o[i].agent);
}

struct quota_probe {
    double limited_cpus; /* cpus held by role "lim" (limit cpus:24) */
};

static void probe_fw(void *arg, const struct mc_fw_info *fw)
{
    struct quota_probe *p = arg;
    if (strncmp(fw->id, "L", 1) == 0)
        p->limited_cpus += (double)mc_res_quantity(fw->alloc, 1 /* cpus */) / MC_MILLI;
}

static void stream(unsigned shards, uint64_t seed)
{
    struct log l = {.n = 0, .now = 0};
    mc_engine_t *e = make(shards, &l, seed);
    srand((unsigned)seed);
    mc_res_t g = MC_RES_INIT, lim = MC_RES_INIT, r = MC_RES_INIT;
    mc_test_res(&g, "cpus:16;mem:16384");
    assert_int_equal(mc_engine_role_set(e, "gold", 2, &g, NULL), MC_OK);
    mc_test_res(&lim, "cpus:24");
    assert_int_equal(mc_engine_role_set(e, "lim", 1, NULL, &lim), MC_OK);
    const char *roles[] = {"gold", "lim", "web/a", "web/b", "batch"};
    char fws[12][16], agents[96][16];
    bool fw_live[12] = {0}, ag_live[96] = {0};
    for (int i = 0; i < 12; i++)
        snprintf(fws[i], 16, "%c%d", i % 5 == 1 ? 'L' : 'F', i);
    for (int i = 0; i < 96; i++)
        snprintf(agents[i], 16, "n%d", i);
    static struct {
        char fw[16], agent[16];
        const char *size;
    } tasks[4096];
    int ntasks = 0;
    uint64_t cycles = 0, offers = 0;
    for (int step = 0; step < 4000; step++) {
        int op = rand() % 10, f = rand() % 12, a = rand() % 96;
        switch (op) {
        case 0:
            if (!ag_live[a]) {
                add_agent(e, agents[a],
                          a % 3 ? "cpus:8;mem:8192;ports:[31000-31099]"
                                : "cpus:4;mem:16384;gpus:1;cpus(batch):2;ports:[31000-31009]");
                ag_live[a] = true;
            } else if (rand() % 4 == 0) {
                assert_int_equal(mc_engine_agent_remove(e, agents[a]), MC_OK);
                ag_live[a] = false;
            }
            break;
        case 1:
            if (!fw_live[f]) {
                const char *rs[] = {roles[f % 5]};
                assert_int_equal(mc_engine_framework_add(e, fws[f], rs, 1, NULL, 0), MC_OK);
                fw_live[f] = true;
            } else if (rand() % 6 == 0) {
                assert_int_equal(mc_engine_framework_remove(e, fws[f]), MC_OK);
                fw_live[f] = false;
            }
            break;
        case 2:
        case 3: {
            log_clear(&l);
            struct mc_cycle_stats st;
            assert_int_equal(mc_engine_allocate(e, &st), MC_OK);
            assert_int_equal(st.offers, (uint64_t)l.n);
            distinct_offers(&l);
            cycles++;
            offers += st.offers;
            books(e);
            struct quota_probe p = {0};
            mc_engine_frameworks(e, probe_fw, &p);
            assert_true(p.limited_cpus <= 24.0); /* the limit is exact at every shard count */
            break;
        }
        case 4:
        case 5:
        case 6:
            /* frameworks answer every offer of the last cycle: launch a task
             * in most, decline the rest with a short filter */
            for (int k = 0; k < l.n; k++) {
                const char *size = rand() % 2 ? "cpus:1;mem:1024" : "cpus:0.5;mem:512";
                mc_test_res(&r, size);
                if (rand() % 4 && mc_engine_accept(e, l.o[k].fw, l.o[k].agent, &r) == MC_OK) {
                    if (ntasks < 4096) {
                        snprintf(tasks[ntasks].fw, 16, "%s", l.o[k].fw);
                        snprintf(tasks[ntasks].agent, 16, "%s", l.o[k].agent);
                        tasks[ntasks++].size = size;
                    }
                } else {
                    mc_engine_decline(e, l.o[k].fw, l.o[k].agent, (double)(rand() % 3));
                }
            }
            log_clear(&l);
            books(e);
            break;
        case 7:
            for (int n = rand() % 8; n > 0 && ntasks;
                 n--) { /* a task ends (gone already if its agent or framework went) */
                int k = rand() % ntasks;
                mc_test_res(&r, tasks[k].size);
                mc_engine_finish(e, tasks[k].fw, tasks[k].agent, &r);
                tasks[k] = tasks[--ntasks];
            }
            break;
        case 8:
            if (fw_live[f])
                assert_int_equal(rand() % 2 ? mc_engine_suppress(e, fws[f], NULL)
                                            : mc_engine_revive(e, fws[f], NULL),
                                 MC_OK);
            break;
        case 9:
            l.now += (uint64_t)(rand() % 1500) * 1000000ull;
            assert_true(mc_engine_tick(e) >= 0);
            books(e);
            break;
        }
    }
    print_message("shards %u: %llu cycles, %llu offers\n", shards, (unsigned long long)cycles,
                  (unsigned long long)offers);
    assert_true(cycles > 500 && offers > 1000);
    books(e);
    log_clear(&l);
    mc_res_fini(&g);
    mc_res_fini(&lim);
    mc_res_fini(&r);
    mc_engine_destroy(e);
}

static void test_random_streams_keep_the_books(void **state)
{
    for (unsigned i = 0; i < sizeof(shard_counts) / sizeof(shard_counts[0]); i++)
        for (uint64_t seed = 1; seed <= 3; seed++)
            stream(shard_counts[i], seed);
}

/* ---- fairness against the one-shard run -------------------------------------------- */

struct shares {
    char id[64][16];
    double share[64];
    int n;
};

static void collect(void *arg, const struct mc_fw_info *fw)
{
    struct shares *s = arg;
    snprintf(s->id[s->n], 16, "%s", fw->id);
    s->share[s->n++] = fw->share;
}

/* @nagents agents (a00000 ...) and @nfws frameworks (f00 ...) spread over
 * @nroles roles r0 ... (role i has weight i + 1). The agents are of two
 * kinds (two in three cpus:4;mem:4096 with ports, one in three
 * cpus:1;mem:12288), or with @one_kind all cpus:4;mem:4096. */
static void cluster(mc_engine_t *e, int nagents, int nfws, int nroles, bool one_kind)
{
    char id[32], role[16];
    for (int r = 0; r < nroles; r++) {
        snprintf(role, sizeof(role), "r%d", r);
        assert_int_equal(mc_engine_role_set(e, role, r + 1, NULL, NULL), MC_OK);
    }
    for (int i = 0; i < nagents; i++) {
        snprintf(id, sizeof(id), "a%05d", i);
        add_agent(e, id,
                  one_kind ? "cpus:4;mem:4096"
                  : i % 3  ? "cpus:4;mem:4096;ports:[31000-31010]"
                           : "cpus:1;mem:12288");
    }
    for (int f = 0; f < nfws; f++) {
        snprintf(id, sizeof(id), "f%02d", f);
        snprintf(role, sizeof(role), "r%d", f % nroles);
        const char *rs[] = {role};
        assert_int_equal(mc_engine_framework_add(e, id, rs, 1, NULL, 0), MC_OK);
    }
}

/* One cycle, seeded with @seed, over cluster()'s agents and frameworks;
 * returns the frameworks' final shares and the cycle's own fairness-error
 * figure. With @late, the frameworks then decline the offers of every
 * other agent and a framework "late" joins role r0, so the next cycle
 * starts from unequal shares: what it returns is of that second cycle. */
static double run_once(unsigned shards, uint64_t seed, int nagents, int nfws, int nroles,
                       bool one_kind, bool late, struct shares *out)
{
    struct log l = {.n = 0, .now = 0};
    mc_engine_t *e = make(shards, &l, seed);
    cluster(e, nagents, nfws, nroles, one_kind);
    struct mc_cycle_stats st;
    assert_int_equal(mc_engine_allocate(e, &st), MC_OK);
    assert_int_equal(st.offers, (uint64_t)nagents); /* every agent offered once */
    books(e);
    if (late) {
        int freed = 0;
        for (int i = 0; i < l.n; i++)
            if (atoi(l.o[i].agent + 1) % 2 == 0) {
                assert_int_equal(mc_engine_decline(e, l.o[i].fw, l.o[i].agent, 0), MC_OK);
                freed++;
            }
        const char *rs[] = {"r0"};
        assert_int_equal(mc_engine_framework_add(e, "late", rs, 1, NULL, 0), MC_OK);
        log_clear(&l);
        assert_int_equal(mc_engine_allocate(e, &st), MC_OK);
        assert_int_equal(st.offers, (uint64_t)freed);
        books(e);
    }
    out->n = 0;
    mc_engine_frameworks(e, collect, out);
    log_clear(&l);
    mc_engine_destroy(e);
    return st.fairness_error;
}

static void fairness_case(int nagents, int nfws, int nroles, bool late)
{
    struct shares one, many;
    double fe = run_once(1, 42, nagents, nfws, nroles, false, late, &one);
    assert_true(fe == 0);
    /* the largest dominant share one agent adds: cpus:4 of the cluster's cpus,
     * or mem:12288 of its mem (the smallest weight is 1) */
    int big = nagents - (nagents + 2) / 3, small = (nagents + 2) / 3;
    double delta = fmax(4.0 / (4.0 * big + small), 12288.0 / (4096.0 * big + 12288.0 * small));
    for (unsigned i = 1; i < sizeof(shard_counts) / sizeof(shard_counts[0]); i++) {
        unsigned s = shard_counts[i];
        fe = run_once(s, 42, nagents, nfws, nroles, false, late, &many);
        assert_int_equal(many.n, one.n);
        double gap = 0;
        for (int k = 0; k < one.n; k++) {
            assert_string_equal(one.id[k], many.id[k]);
            gap = fmax(gap, fabs(one.share[k] - many.share[k]));
        }
        /* agents of two kinds: not a proof (docs/engine.md; the proof is
         * for one kind, test_fairness_one_kind_is_bounded) but a check that
         * decisions do not get worse, for this seed. Over 60 seeds the
         * largest gaps were 5.3 delta (2 shards, one role), 4.6 (4 and 8) */
        double bound = (s + 2) * delta;
        print_message("agents %d fws %d roles %d%s shards %u: gap %.6f (bound %.6f), "
                      "fairness error %.6f\n",
                      nagents, nfws, nroles, late ? " late" : "", s, gap, bound, fe);
        assert_true(gap <= bound + 1e-9);
        /* the estimates' error is a diagnostic (drf.c C2): the outcome
         * above is what is bounded */
        assert_true(fe >= 0 && fe < 1);
    }
}

/* Where every agent adds the same share δ in every name and the frameworks
 * start equal, shares add up across shards, and the bound on the outcome
 * is a proof, not a measurement (docs/engine.md): one shard ends with
 * every framework within δ of the others; each of S shards keeps them
 * within one of its agents of each other (its scale is the same for all of
 * them), so S shards within Sδ; both hand out the whole cluster, so their
 * means are equal, and each framework's two shares differ by at most
 * (S+1)δ. Over many seeds. */
static void test_fairness_one_kind_is_bounded(void **state)
{
    (void)state;
    enum { AGENTS = 1001, FWS = 40 };
    const double delta = 1.0 / AGENTS;
    double worst[9] = {0};
    for (uint64_t seed = 1; seed <= 12; seed++) {
        struct shares one, many;
        run_once(1, seed, AGENTS, FWS, 1, true, false, &one);
        for (unsigned i = 1; i < sizeof(shard_counts) / sizeof(shard_counts[0]); i++) {
            unsigned s = shard_counts[i];
            run_once(s, seed, AGENTS, FWS, 1, true, false, &many);
            assert_int_equal(many.n, one.n);
            for (int k = 0; k < one.n; k++) {
                assert_string_equal(one.id[k], many.id[k]);
                double gap = fabs(one.share[k] - many.share[k]);
                assert_true(gap <= (s + 1) * delta + 1e-9);
                worst[s] = fmax(worst[s], gap / delta);
            }
        }
    }
    for (unsigned i = 1; i < sizeof(shard_counts) / sizeof(shard_counts[0]); i++)
        print_message("one kind, %d agents, %d fws, 12 seeds, shards %u: largest gap %.2f delta "
                      "(bound %u)\n",
                      AGENTS, FWS, shard_counts[i], worst[shard_counts[i]], shard_counts[i] + 1);
}

static void test_fairness_against_one_shard(void **state)
{
    fairness_case(2000, 40, 1, false);
    fairness_case(2000, 40, 4, false);
    fairness_case(600, 7, 3, false);
    /* a framework that joins behind the others: each shard must catch it
     * up by its own part only (a shard that counted its offers unscaled
     * would give it S times its due) */
    fairness_case(2000, 40, 1, true);
    fairness_case(2000, 40, 4, true);
}

/* The fairness error (drf.c C2) is the largest gap, over the clients each
 * shard allocated to, between the share that shard counted and the true
 * share after the fold. Two shards: a0 and a2 (cpus:4 each) are shard 0's,
 * a1 shard 1's (an agent joins the shard with fewest). Shard 0 holds 8 of
 * the 12 free cpus, so it counts a cpu as 1/8 of the cluster; shard 1, 1/4.
 * Both frameworks start at 0: shard 0 offers one agent to each (f1 first by
 * name), shard 1 its agent to f1. Shard 0 counts f1 and f2 at 1/2, shard 1
 * counts f1 at 1; the true shares are 2/3 and 1/3; the role's, counted 1 by
 * both, is 1. So the error is |1 - 2/3| = 1/3. Next cycle f1's offers come
 * back and go to f1 again on both shards, each counting its part of what is
 * free exactly: an error of 0. */
static void test_fairness_error_is_the_largest_gap(void **state)
{
    struct log l = {.n = 0, .now = 0};
    mc_engine_t *e = make(2, &l, 5);
    add_agents(e, 3, "cpus:4");
    const char *rs[] = {"r"};
    assert_int_equal(mc_engine_framework_add(e, "f1", rs, 1, NULL, 0), MC_OK);
    assert_int_equal(mc_engine_framework_add(e, "f2", rs, 1, NULL, 0), MC_OK);
    struct mc_cycle_stats st;
    assert_int_equal(mc_engine_allocate(e, &st), MC_OK);
    assert_int_equal(st.offers, 3);
    assert_true(fabs(st.fairness_error - (1.0 - 8.0 / 12.0)) < 1e-12);
    books(e);
    int f1 = 0;
    for (int i = 0; i < l.n; i++)
        if (!strcmp(l.o[i].fw, "f1")) {
            assert_int_equal(mc_engine_decline(e, "f1", l.o[i].agent, 0), MC_OK);
            f1++;
        }
    assert_int_equal(f1, 2);
    log_clear(&l);
    assert_int_equal(mc_engine_allocate(e, &st), MC_OK);
    assert_int_equal(st.offers, 2);
    for (int i = 0; i < l.n; i++)
        assert_string_equal(l.o[i].fw, "f1");
    assert_true(st.fairness_error == 0);
    books(e);
    log_clear(&l);
    mc_engine_destroy(e);
}

/* A client's part for a shard starts with room for 13 scalar names; a
 * cycle that starts with more names in the cluster gives every part room
 * for them (drf.c mc__slots_fit). Agents of 16 names join after a first
 * cycle; the next cycle offers every agent once, and what the frameworks
 * then hold counts every name, the last included, at every shard count. */
struct held {
    double cpus, nic;
};

static void sum_held(void *arg, const struct mc_fw_info *fw)
{
    struct held *h = arg;
    h->cpus += (double)mc_res_quantity(fw->alloc, 1 /* cpus */) / MC_MILLI;
    h->nic += (double)mc_res_quantity(fw->alloc, mc_sym_find("nic", 3)) / MC_MILLI;
}

static void test_parts_grow_with_the_names(void **state)
{
    for (unsigned i = 0; i < sizeof(shard_counts) / sizeof(shard_counts[0]); i++) {
        struct log l = {.n = 0, .now = 0};
        mc_engine_t *e = make(shard_counts[i], &l, 3);
        add_agents(e, 40, "cpus:4;mem:4096");
        char id[32];
        for (int f = 0; f < 8; f++) {
            const char *rs[] = {f % 2 ? "r1" : "r0"};
            snprintf(id, sizeof(id), "f%d", f);
            assert_int_equal(mc_engine_framework_add(e, id, rs, 1, NULL, 0), MC_OK);
        }
        struct mc_cycle_stats st;
        assert_int_equal(mc_engine_allocate(e, &st), MC_OK);
        assert_int_equal(st.offers, 40);
        books(e);
        for (int k = 0; k < l.n; k++)
            assert_int_equal(mc_engine_decline(e, l.o[k].fw, l.o[k].agent, 0), MC_OK);
        log_clear(&l);
        for (int a = 0; a < 40; a++) {
            snprintf(id, sizeof(id), "w%d", a);
            add_agent(e, id,
                      "cpus:4;mem:4096;disk:1000;gpus:1;ssd:100;fpga:2;tpu:1;x1:1;x2:1;x3:1;"
                      "x4:1;x5:1;x6:1;x7:1;x8:1;nic:3");
        }
        assert_int_equal(mc_engine_allocate(e, &st), MC_OK);
        assert_int_equal(st.offers, 80); /* every agent, once */
        books(e);
        struct held h = {0, 0};
        mc_engine_frameworks(e, sum_held, &h);
        assert_true(h.cpus == 320.0); /* 80 agents of 4 */
        assert_true(h.nic == 120.0);  /* 40 of 3 */
        log_clear(&l);
        mc_engine_destroy(e);
    }
}

/* Quota is exact at every shard count: the headroom for an unmet guarantee
 * stays free to the thousandth, a limit is never passed, and everything else
 * is offered (work conservation). */
struct sums {
    mc_milli_t lim, other;
};

static void sum_fw(void *arg, const struct mc_fw_info *fw)
{
    struct sums *s = arg;
    mc_milli_t c = mc_res_quantity(fw->alloc, 1 /* cpus */);
    if (fw->id[0] == 'L')
        s->lim += c;
    else
        s->other += c;
}

static void free_cpus(void *arg, const struct mc_agent_info *a)
{
    *(mc_milli_t *)arg += mc_res_quantity(a->free, 1 /* cpus */);
}

static void test_quota_exact_at_every_shard_count(void **state)
{
    for (unsigned i = 0; i < sizeof(shard_counts) / sizeof(shard_counts[0]); i++) {
        struct log l = {.n = 0, .now = 0};
        mc_engine_t *e = make(shard_counts[i], &l, 9);
        mc_res_t q = MC_RES_INIT;
        /* 400 agents of 2.5 cpus = 1000 cpus; gold (no frameworks yet) is
         * guaranteed 123.4, lim is capped at 77.7 */
        mc_test_res(&q, "cpus:123.4;mem:1");
        assert_int_equal(mc_engine_role_set(e, "gold", 1, &q, NULL), MC_OK);
        mc_test_res(&q, "cpus:77.7");
        assert_int_equal(mc_engine_role_set(e, "lim", 1, NULL, &q), MC_OK);
        add_agents(e, 400, "cpus:2.5;mem:2048");
        char id[32];
        const char *lim[] = {"lim"}, *other[] = {"other"};
        for (int f = 0; f < 16; f++) {
            snprintf(id, sizeof(id), "%c%d", f % 2 ? 'L' : 'O', f);
            assert_int_equal(mc_engine_framework_add(e, id, f % 2 ? lim : other, 1, NULL, 0),
                             MC_OK);
        }
        assert_int_equal(mc_engine_allocate(e, NULL), MC_OK);
        books(e);
        struct sums s = {0, 0};
        mc_milli_t left = 0;
        mc_engine_frameworks(e, sum_fw, &s);
        mc_engine_agents(e, free_cpus, &left);
        print_message("shards %u: lim %lld other %lld free %lld (thousandths of cpus)\n",
                      shard_counts[i], (long long)s.lim, (long long)s.other, (long long)left);
        /* the headroom stays free to the thousandth, and everything else is
         * offered, at every shard count */
        assert_int_equal(left, 123400);
        assert_int_equal(s.lim + s.other, 1000000 - 123400);
        /* the limit is never passed; one shard reaches it exactly, while with
         * several a shard that loses a race for the role's last budget moves
         * on, so the role may end the cycle up to one agent (2.5 cpus) per
         * other shard short of it (shard.c Q1) */
        assert_true(s.lim <= 77700);
        if (shard_counts[i] == 1)
            assert_int_equal(s.lim, 77700);
        else
            assert_true(s.lim >= 77700 - (mc_milli_t)(shard_counts[i] - 1) * 2500);
        /* the guaranteed role's framework arrives: it gets the headroom */
        const char *gold[] = {"gold"};
        assert_int_equal(mc_engine_framework_add(e, "G", gold, 1, NULL, 0), MC_OK);
        assert_int_equal(mc_engine_allocate(e, NULL), MC_OK);
        books(e);
        left = 0;
        mc_engine_agents(e, free_cpus, &left);
        assert_int_equal(left, 0);
        log_clear(&l);
        mc_res_fini(&q);
        mc_engine_destroy(e);
    }
}

/* Views are refreshed only where keys changed (drf.c R1-R3): after each
 * cycle the books check every view the next cycle leaves alone holds exact
 * keys and no floor. Here a guaranteed role whose guarantee is already met
 * gets only a floor (shard.c Q5) while stage 1 runs for another role, and
 * no offer (the other's headroom keeps everything back), so only the floor
 * lists its sorter for the refresh. */
static void test_refresh_lists_floors(void **state)
{
    for (unsigned i = 0; i < sizeof(shard_counts) / sizeof(shard_counts[0]); i++) {
        struct log l = {.n = 0, .now = 0};
        mc_engine_t *e = make(shard_counts[i], &l, 3);
        mc_res_t q = MC_RES_INIT;
        mc_test_res(&q, "cpus:1");
        assert_int_equal(mc_engine_role_set(e, "p/g", 1, &q, NULL), MC_OK);
        add_agents(e, 8, "cpus:2;mem:64");
        char id[32];
        const char *g[] = {"p/g"}, *h[] = {"h"};
        assert_int_equal(mc_engine_framework_add(e, "G", g, 1, NULL, 0), MC_OK);
        assert_int_equal(mc_engine_allocate(e, NULL), MC_OK);
        /* G is offered every agent, runs a task on four (its guarantee is
         * met) and declines the rest without a filter */
        mc_test_res(&q, "cpus:2;mem:64");
        for (int k = 0; k < 8; k++) {
            snprintf(id, sizeof(id), "a%d", k);
            if (k < 4)
                assert_int_equal(mc_engine_accept(e, "G", id, &q), MC_OK);
            else
                assert_int_equal(mc_engine_decline(e, "G", id, 0), MC_OK);
        }
        log_clear(&l);
        books(e);
        /* h is guaranteed everything free, and H can use no agent (its
         * minimum is 3 cpus): h stays unmet and keeps it back from G */
        mc_test_res(&q, "cpus:8;mem:256");
        assert_int_equal(mc_engine_role_set(e, "h", 1, &q, NULL), MC_OK);
        mc_test_res(&q, "cpus:3");
        assert_int_equal(mc_engine_framework_add(e, "H", h, 1, &q, 1), MC_OK);
        for (int c = 0; c < 3; c++) {
            assert_int_equal(mc_engine_allocate(e, NULL), MC_OK);
            assert_int_equal(l.n, 0);
            books(e);
        }
        mc_res_fini(&q);
        mc_engine_destroy(e);
    }
}

/* R2's sort compares keys copied out of the entries, names by their first
 * 8 bytes; names alike in those fall back to the whole name. Two
 * frameworks whose names differ only after 8 bytes, one agent, every offer
 * declined: each cycle the one with the fewer allocations so far takes it
 * (the count, as Mesos's sorter breaks ties of share), and on a tie of
 * both, the first by name. Each decline changes a key, so each cycle
 * starts with a sort (S > 1), which the books check. */
static void test_refresh_sorts_names_alike_in_8_bytes(void **state)
{
    (void)state;
    struct log l = {.n = 0, .now = 0};
    mc_engine_t *e = make(2, &l, 1);
    add_agent(e, "a0", "cpus:4;mem:4096");
    const char *r[] = {"r"};
    assert_int_equal(mc_engine_framework_add(e, "framework-b", r, 1, NULL, 0), MC_OK);
    assert_int_equal(mc_engine_framework_add(e, "framework-a", r, 1, NULL, 0), MC_OK);
    struct mc_cycle_stats st;
    for (int cycle = 0; cycle < 6; cycle++) {
        assert_int_equal(mc_engine_allocate(e, &st), MC_OK);
        books(e);
        assert_int_equal(l.n, 1);
        const char *want = cycle % 2 ? "framework-b" : "framework-a";
        assert_string_equal(l.o[0].fw, want);
        assert_int_equal(mc_engine_decline(e, want, "a0", 0), MC_OK);
        log_clear(&l);
    }
    mc_engine_destroy(e);
}

/* R2: a cycle's control thread sorts each listed sorter once (drf.c,
 * mc__skeys_sort: runs of 16 by insertion, then merges back and forth
 * between two arrays) and every shard's view takes that order, which the
 * books check after each cycle. Roles of 2 to 300 frameworks take zero to
 * five merge passes, so some sorts end in the spare array and some in
 * place; each framework accepts a task of its own size, so that the keys
 * spread, and the sorters are listed again every cycle. */
static void test_refresh_sorts_every_size(void **state)
{
    static const int sizes[] = {2, 16, 17, 40, 100, 300};
    for (unsigned s = 2; s <= 4; s += 2)
        for (unsigned i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
            struct log l = {.n = 0, .now = 0};
            mc_engine_t *e = make(s, &l, 5 + i);
            add_agents(e, 96, "cpus:16;mem:4096");
            const char *r[] = {"r"};
            char id[32], text[64];
            for (int f = 0; f < sizes[i]; f++) {
                snprintf(id, sizeof(id), "f%d", f);
                assert_int_equal(mc_engine_framework_add(e, id, r, 1, NULL, 0), MC_OK);
            }
            mc_res_t task = MC_RES_INIT;
            for (int c = 0; c < 4; c++) {
                assert_int_equal(mc_engine_allocate(e, NULL), MC_OK);
                books(e);
                assert_true(l.n > 0);
                for (int k = 0; k < l.n; k++) {
                    int f = atoi(l.o[k].fw + 1);
                    snprintf(text, sizeof(text), "cpus:%d;mem:%d", 1 + (f + c) % 3,
                             16 * (1 + f % 7));
                    mc_test_res(&task, text);
                    if (mc_engine_accept(e, l.o[k].fw, l.o[k].agent, &task) != MC_OK)
                        assert_int_equal(mc_engine_decline(e, l.o[k].fw, l.o[k].agent, 0), MC_OK);
                }
                log_clear(&l);
                books(e);
            }
            mc_res_fini(&task);
            mc_engine_destroy(e);
        }
}

/* Shards are taken by whichever thread comes first (shard.c T1), and each
 * decides by its own agents and views only (drf.c C2): without quota the
 * offers of every cycle, in the order they are published, are the same
 * whether one thread runs all the shards, two do, or one each. */
static uint64_t transcript(unsigned shards, unsigned threads, uint64_t *offers)
{
    struct log l = {.n = 0, .now = 0};
    mc_engine_t *e = make_threads(shards, threads, &l, 11);
    cluster(e, 600, 12, 3, false);
    uint64_t h = 14695981039346656037ull; /* FNV-1a over every offer's text */
    *offers = 0;
    for (int c = 0; c < 8; c++) {
        assert_int_equal(mc_engine_allocate(e, NULL), MC_OK);
        books(e);
        for (int i = 0; i < l.n; i++) {
            char text[256];
            int len = snprintf(text, sizeof(text), "%d %s %s ", c, l.o[i].fw, l.o[i].agent);
            mc_res_format(&l.o[i].res, text + len, sizeof(text) - (size_t)len);
            for (const char *p = text; *p; p++)
                h = (h ^ (uint8_t)*p) * 1099511628211ull;
            (*offers)++;
            /* a third is used for good, the rest declined, half of it with
             * a filter that outlives the next two cycles */
            if (i % 3 == 0)
                assert_int_equal(mc_engine_accept(e, l.o[i].fw, l.o[i].agent, &l.o[i].res), MC_OK);
            else
                assert_int_equal(mc_engine_decline(e, l.o[i].fw, l.o[i].agent, i % 2 ? 0 : 2.5),
                                 MC_OK);
        }
        log_clear(&l);
        l.now += MC_NS_PER_SEC;
    }
    mc_engine_destroy(e);
    return h;
}

static void test_decisions_do_not_depend_on_threads(void **state)
{
    for (unsigned i = 1; i < sizeof(shard_counts) / sizeof(shard_counts[0]); i++) {
        unsigned s = shard_counts[i];
        uint64_t n1, n;
        uint64_t h1 = transcript(s, 1, &n1);
        assert_true(n1 > 600); /* the first cycle offers every agent, later ones more */
        const unsigned threads[] = {2, s};
        for (unsigned t = 0; t < 2; t++) {
            uint64_t h = transcript(s, threads[t], &n);
            print_message("shards %u threads %u: %llu offers\n", s, threads[t],
                          (unsigned long long)n);
            assert_int_equal(n, n1);
            assert_true(h == h1);
        }
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_random_streams_keep_the_books),
        cmocka_unit_test(test_fairness_against_one_shard),
        cmocka_unit_test(test_fairness_one_kind_is_bounded),
        cmocka_unit_test(test_fairness_error_is_the_largest_gap),
        cmocka_unit_test(test_parts_grow_with_the_names),
        cmocka_unit_test(test_quota_exact_at_every_shard_count),
        cmocka_unit_test(test_refresh_lists_floors),
        cmocka_unit_test(test_refresh_sorts_every_size),
        cmocka_unit_test(test_refresh_sorts_names_alike_in_8_bytes),
        cmocka_unit_test(test_decisions_do_not_depend_on_threads),
    };
    return cmocka_run_group_tests_name("stress/shards", tests, NULL, NULL);
}
