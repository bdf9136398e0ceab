/* tests/engine/test_view.c: the RCU-published summary (engine/view.c): a
 * reader thread reads it without locks while the control thread runs
 * sharded cycles and publishes a new summary after each. Label
 * "concurrency": runs under ThreadSanitizer in CI. */
#include "common/mc_test.h"
#include "engine/engine.h"
#include "engine/view.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>

static _Atomic int stop;
static _Atomic long reads;

struct reader_arg {
    mc_engine_t *e;
    int bad;
};

/* Every summary a reader sees must be whole: its frameworks sorted by id,
 * their allocations within the cluster total, ids readable. */
static void *reader(void *p)
{
    struct reader_arg *arg = p;
    mc_view_thread_register();
    while (!atomic_load(&stop)) {
        mc_view_read_lock();
        const struct mc_view *v = mc_engine_view(arg->e);
        if (v) {
            mc_milli_t cpus = 0;
            for (uint32_t i = 0; i < v->nframeworks; i++) {
                cpus += v->frameworks[i].alloc[0];
                if (i && strcmp(v->frameworks[i - 1].id, v->frameworks[i].id) >= 0)
                    arg->bad++;
                if (v->frameworks[i].share < 0 || v->frameworks[i].share > 1)
                    arg->bad++;
            }
            if (cpus > v->total[0] || v->agents < v->active_agents)
                arg->bad++;
            atomic_fetch_add(&reads, 1);
        }
        mc_view_read_unlock();
    }
    mc_view_thread_unregister();
    return NULL;
}

static void test_readers_see_whole_summaries(void **state)
{
    mc_engine_t *e;
    struct mc_engine_config cfg = {.shards = 2};
    assert_int_equal(mc_engine_create(&e, &cfg), MC_OK);
    struct reader_arg arg = {e, 0};
    pthread_t t;
    atomic_store(&stop, 0);
    assert_int_equal(pthread_create(&t, NULL, reader, &arg), 0);
    mc_res_t r = MC_RES_INIT;
    mc_test_res(&r, "cpus:4;mem:4096");
    char id[32];
    for (int round = 0; round < 300; round++) {
        snprintf(id, sizeof(id), "a%d", round);
        assert_int_equal(mc_engine_agent_add(e, id, &r, NULL), MC_OK);
        snprintf(id, sizeof(id), "f%d", round % 17);
        const char *roles[] = {"r"};
        if (round < 17)
            assert_int_equal(mc_engine_framework_add(e, id, roles, 1, NULL, 0), MC_OK);
        struct mc_cycle_stats st;
        assert_int_equal(mc_engine_allocate(e, &st), MC_OK);
        if (round % 5 == 0 && round >= 17) { /* a framework leaves and comes back */
            assert_int_equal(mc_engine_framework_remove(e, id), MC_OK);
            assert_int_equal(mc_engine_framework_add(e, id, roles, 1, NULL, 0), MC_OK);
        }
        assert_int_equal(mc_engine_publish_view(e), MC_OK);
    }
    atomic_store(&stop, 1);
    pthread_join(t, NULL);
    assert_int_equal(arg.bad, 0);
    /* the control thread reads it too */
    mc_view_thread_register();
    mc_view_read_lock();
    const struct mc_view *v = mc_engine_view(e);
    assert_non_null(v);
    assert_int_equal(v->agents, 300);
    assert_int_equal(v->nframeworks, 17);
    assert_int_equal(v->shards, 2);
    assert_int_equal(v->total[0], 300 * 4000);
    assert_true(v->cycles == 300);
    mc_view_read_unlock();
    mc_view_thread_unregister();
    print_message("reader saw %ld summaries\n", atomic_load(&reads));
    mc_res_fini(&r);
    mc_engine_destroy(e);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_readers_see_whole_summaries),
    };
    return cmocka_run_group_tests_name("engine/view", tests, NULL, NULL);
}
