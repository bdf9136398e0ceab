/* tests/engine/test_sym.c: symbols (engine/sym.c), id maps (engine/idmap.c)
 * and the status table (engine/status.c). */
#include "common/mc_test.h"
#include "engine/idmap.h"
#include "engine/sym.h"

#include <stdio.h>
#include <stdlib.h>

static void test_well_known_symbols(void **state)
{
    assert_string_equal(mc_sym_name(MC_SYM_CPUS), "cpus");
    assert_string_equal(mc_sym_name(MC_SYM_MEM), "mem");
    assert_string_equal(mc_sym_name(MC_SYM_DISK), "disk");
    assert_string_equal(mc_sym_name(MC_SYM_GPUS), "gpus");
    assert_string_equal(mc_sym_name(MC_SYM_PORTS), "ports");
    assert_string_equal(mc_sym_name(MC_SYM_NONE), "");
    assert_int_equal(mc_sym_intern("mem", 3), MC_SYM_MEM);
    assert_int_equal(mc_sym_find("cpus", 4), MC_SYM_CPUS);
}

static void test_intern_is_stable_and_exact(void **state)
{
    int64_t a = mc_sym_intern("zeta-resource", 13);
    assert_true(a > MC_SYM_PORTS);
    assert_int_equal(mc_sym_intern("zeta-resource", 13), a);
    /* a prefix or a longer name is another symbol */
    int64_t b = mc_sym_intern("zeta-resource", 4);
    assert_true(b != a);
    assert_string_equal(mc_sym_name((uint32_t)b), "zeta");
    assert_int_equal(mc_sym_find("zeta-resourcex", 14), 0);
    assert_int_equal(mc_sym_intern("", 0), MC_EINVAL);
    assert_int_equal(mc_sym_intern("a\0b", 3), MC_EINVAL);
    char big[MC_SYM_MAX_LEN + 1];
    memset(big, 'x', sizeof(big));
    assert_int_equal(mc_sym_intern(big, sizeof(big)), MC_EINVAL);
    assert_true(mc_sym_intern(big, MC_SYM_MAX_LEN) > 0);
}

static void test_resource_order(void **state)
{
    int64_t alpha = mc_sym_intern("alpha", 5), beta = mc_sym_intern("beta", 4);
    assert_true(mc_sym_cmp_resource(MC_SYM_CPUS, MC_SYM_MEM) < 0);
    assert_true(mc_sym_cmp_resource(MC_SYM_GPUS, (uint32_t)alpha) < 0);
    assert_true(mc_sym_cmp_resource((uint32_t)beta, MC_SYM_DISK) > 0);
    assert_true(mc_sym_cmp_resource((uint32_t)alpha, (uint32_t)beta) < 0);
    assert_int_equal(mc_sym_cmp_resource((uint32_t)beta, (uint32_t)beta), 0);
}

static void test_idmap(void **state)
{
    mc_idmap_t m;
    mc_idmap_init(&m);
    assert_int_equal(mc_idmap_get(&m, "x"), -1);
    static char keys[5000][16];
    for (int i = 0; i < 5000; i++) {
        snprintf(keys[i], sizeof(keys[i]), "k%d", i);
        assert_int_equal(mc_idmap_put(&m, keys[i], (uint32_t)i), MC_OK);
    }
    assert_int_equal(mc_idmap_put(&m, keys[7], 1), MC_EEXIST);
    for (int i = 0; i < 5000; i += 2)
        mc_idmap_del(&m, keys[i]);
    for (int i = 0; i < 5000; i++)
        assert_int_equal(mc_idmap_get(&m, keys[i]), i % 2 ? i : -1);
    /* tombstones are reused and dropped on growth: churn does not grow it forever */
    for (int round = 0; round < 20; round++) {
        for (int i = 0; i < 5000; i += 2)
            assert_int_equal(mc_idmap_put(&m, keys[i], (uint32_t)i), MC_OK);
        for (int i = 0; i < 5000; i += 2)
            mc_idmap_del(&m, keys[i]);
    }
    assert_true(m.cap <= 16384);
    assert_int_equal(m.live, 2500);
    mc_idmap_fini(&m);
}

static void test_status_table(void **state)
{
    assert_string_equal(mc_err_name(MC_OK), "OK");
    assert_string_equal(mc_err_name(MC_EEXCEED), "EEXCEED");
    assert_string_equal(mc_strerror(MC_ENOMEM), "out of memory");
    assert_string_equal(mc_strerror(12345), "unknown status");
    assert_string_equal(mc_err_name(-999), "UNKNOWN");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_well_known_symbols),
        cmocka_unit_test(test_intern_is_stable_and_exact),
        cmocka_unit_test(test_resource_order),
        cmocka_unit_test(test_idmap),
        cmocka_unit_test(test_status_table),
    };
    return cmocka_run_group_tests_name("engine/sym", tests, NULL, NULL);
}
