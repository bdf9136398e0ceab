/* tests/engine/test_res.c: resource vectors (engine/res.c). */
#include "common/mc_test.h"
#include "engine/sym.h"

#include <stdio.h>
#include <stdlib.h>

static void roundtrip(const char *in, const char *canonical)
{
    mc_res_t r = MC_RES_INIT;
    mc_test_res(&r, in);
    mc_assert_res(&r, canonical);
    /* the canonical text parses back to an equal vector */
    mc_res_t again = MC_RES_INIT;
    mc_test_res(&again, canonical);
    assert_true(mc_res_equal(&r, &again));
    mc_res_fini(&r);
    mc_res_fini(&again);
}

static void test_canonical_order(void **state)
{
    roundtrip("mem:4096;cpus:1.5", "cpus:1.5;mem:4096");
    roundtrip("zeta:1;gpus:2;alpha:3;disk:10;mem:1;cpus:1",
              "cpus:1;mem:1;disk:10;gpus:2;alpha:3;zeta:1");
    roundtrip("ports:[31000-31099,31200-31299];cpus:2", "cpus:2;ports:[31000-31099,31200-31299]");
    roundtrip("cpus(web):2;cpus:1;cpus(api):3", "cpus:1;cpus(api):3;cpus(web):2");
    roundtrip("ports(web):[1-2];ports:[5-6];mem:1", "mem:1;ports:[5-6];ports(web):[1-2]");
    roundtrip("cpus(eng/web):0.5", "cpus(eng/web):0.5");
}

static void test_values_without_trailing_zeros(void **state)
{
    roundtrip("cpus:1.000", "cpus:1");
    roundtrip("cpus:0.50", "cpus:0.5");
    roundtrip("mem:4096.0", "mem:4096");
    roundtrip("cpus:0.001", "cpus:0.001");
    roundtrip("cpus:0.0004", "-"); /* rounds to zero, which is omitted */
    roundtrip("cpus:0.0005", "cpus:0.001");
    roundtrip("cpus:0;mem:2", "mem:2");
    roundtrip("", "-");
    roundtrip("-", "-");
    roundtrip("ports:[]", "-");
}

static void test_exact_decimal_arithmetic(void **state)
{
    mc_res_t a = MC_RES_INIT, b = MC_RES_INIT, c = MC_RES_INIT;
    mc_test_res(&a, "cpus:0.1");
    mc_test_res(&b, "cpus:0.2");
    assert_int_equal(mc_res_add(&a, &b), MC_OK);
    mc_assert_res(&a, "cpus:0.3");
    mc_test_res(&c, "cpus:0.3");
    assert_true(mc_res_equal(&a, &c));
    /* ten thousand additions of 0.1 are exactly 1000 */
    mc_res_clear(&a);
    mc_test_res(&b, "cpus:0.1");
    for (int i = 0; i < 10000; i++)
        assert_int_equal(mc_res_add(&a, &b), MC_OK);
    mc_assert_res(&a, "cpus:1000");
    for (int i = 0; i < 10000; i++)
        assert_int_equal(mc_res_sub(&a, &b), MC_OK);
    assert_true(mc_res_empty(&a));
    mc_res_fini(&a);
    mc_res_fini(&b);
    mc_res_fini(&c);
}

static void test_duplicates_sum_and_ranges_coalesce(void **state)
{
    roundtrip("cpus:1;cpus:2.5", "cpus:3.5");
    roundtrip("ports:[10-20,21-30,5-9]", "ports:[5-30]");
    roundtrip("ports:[10-20];ports:[15-25,40]", "ports:[10-25,40-40]");
    roundtrip("ports:[7]", "ports:[7-7]");
    roundtrip("ports:[4611686018427387904]", "ports:[4611686018427387904-4611686018427387904]");
}

static void test_add_sub_contains_ranges(void **state)
{
    mc_res_t a = MC_RES_INIT, b = MC_RES_INIT, c = MC_RES_INIT;
    mc_test_res(&a, "cpus:4;mem:1024;ports:[31000-31099,31200-31299]");
    mc_test_res(&b, "cpus:1;ports:[31010-31019,31200-31200,31299-31299]");
    assert_true(mc_res_contains(&a, &b));
    assert_false(mc_res_contains(&b, &a));
    assert_int_equal(mc_res_sub(&a, &b), MC_OK);
    mc_assert_res(&a, "cpus:3;mem:1024;ports:[31000-31009,31020-31099,31201-31298]");
    assert_true(mc_res_valid(&a));
    assert_int_equal(mc_res_add(&a, &b), MC_OK);
    mc_assert_res(&a, "cpus:4;mem:1024;ports:[31000-31099,31200-31299]");
    /* subtracting what is not contained fails and changes nothing */
    mc_test_res(&c, "cpus:1;ports:[30999-31000]");
    assert_int_equal(mc_res_sub(&a, &c), MC_EEXCEED);
    mc_assert_res(&a, "cpus:4;mem:1024;ports:[31000-31099,31200-31299]");
    mc_test_res(&c, "gpus:1");
    assert_false(mc_res_contains(&a, &c));
    assert_int_equal(mc_res_sub(&a, &c), MC_EEXCEED);
    /* a reservation is a different item from the unreserved resource */
    mc_test_res(&c, "cpus(web):1");
    assert_false(mc_res_contains(&a, &c));
    /* the empty vector is contained in everything */
    mc_res_clear(&c);
    assert_true(mc_res_contains(&a, &c));
    assert_true(mc_res_contains(&c, &c));
    /* subtracting everything gives the empty vector */
    assert_int_equal(mc_res_copy(&b, &a), MC_OK);
    assert_int_equal(mc_res_sub(&a, &b), MC_OK);
    assert_true(mc_res_empty(&a));
    mc_assert_res(&a, "-");
    mc_res_fini(&a);
    mc_res_fini(&b);
    mc_res_fini(&c);
}

static void test_range_edges(void **state)
{
    mc_res_t a = MC_RES_INIT, b = MC_RES_INIT;
    mc_test_res(&a, "ports:[1-10]");
    mc_test_res(&b, "ports:[1-1,10-10]");
    assert_int_equal(mc_res_sub(&a, &b), MC_OK);
    mc_assert_res(&a, "ports:[2-9]");
    mc_test_res(&b, "ports:[2-9]");
    assert_int_equal(mc_res_sub(&a, &b), MC_OK);
    assert_true(mc_res_empty(&a));
    /* adjacent intervals coalesce on add */
    mc_test_res(&a, "ports:[1-4]");
    mc_test_res(&b, "ports:[5-8]");
    assert_int_equal(mc_res_add(&a, &b), MC_OK);
    mc_assert_res(&a, "ports:[1-8]");
    mc_res_fini(&a);
    mc_res_fini(&b);
}

static void expect_error(const char *text, int code)
{
    mc_res_t r = MC_RES_INIT;
    const char *why = NULL;
    assert_int_equal(mc_res_parse(&r, text, strlen(text), &why), code);
    assert_non_null(why);
    assert_true(why[0] != '\0' || code == MC_ENOMEM);
    assert_true(mc_res_empty(&r)); /* nothing half-parsed */
    mc_res_fini(&r);
}

static void test_parse_errors(void **state)
{
    expect_error("cpus", MC_ESYNTAX);
    expect_error("cpus:", MC_ESYNTAX);
    expect_error("cpus:-1", MC_ESYNTAX);
    expect_error("cpus:1e3", MC_ESYNTAX);
    expect_error("cpus:nan", MC_ESYNTAX);
    expect_error("cpus:inf", MC_ESYNTAX);
    expect_error("cpus:1;", MC_ESYNTAX);
    expect_error(";cpus:1", MC_ESYNTAX);
    expect_error("cpus:1 ;mem:2", MC_ESYNTAX);
    expect_error(":1", MC_ESYNTAX);
    expect_error("cpus():1", MC_ESYNTAX);
    expect_error("cpus(web:1", MC_ESYNTAX);
    expect_error("ports:[1-2", MC_ESYNTAX);
    expect_error("ports:[2-1]", MC_ESYNTAX);
    expect_error("ports:[1-2,]", MC_ESYNTAX);
    expect_error("ports:[,1]", MC_ESYNTAX);
    expect_error("ports:[a-b]", MC_ESYNTAX);
    expect_error("cpus:9223372036854776", MC_ERANGE);
    expect_error("cpus:9223372036854775.808", MC_ERANGE);
    expect_error("cpus:9223372036854775.8075", MC_ERANGE); /* rounds up past the top */
    expect_error("ports:[1-99999999999999999999]", MC_ERANGE);
    expect_error("ports:[20000000000000000000]", MC_ERANGE); /* wraps uint64 if unchecked */
    expect_error("ports:[4611686018427387905]", MC_ERANGE);  /* 2^62 + 1 */
    expect_error("cpus:1;mem:2;bad name:1", MC_ESYNTAX);
}

static void test_overflow_is_refused(void **state)
{
    roundtrip("cpus:9223372036854775.807", "cpus:9223372036854775.807");
    mc_res_t a = MC_RES_INIT, b = MC_RES_INIT;
    mc_test_res(&a, "mem:1000000000000");
    mc_test_res(&b, "mem:1000000000000");
    /* 9223 additions of the largest value would overflow int64 thousandths */
    int rc = MC_OK;
    for (int i = 0; i < 10000 && rc == MC_OK; i++)
        rc = mc_res_add(&a, &b);
    assert_int_equal(rc, MC_ERANGE);
    assert_true(mc_res_valid(&a));
    mc_res_fini(&a);
    mc_res_fini(&b);
}

static void test_quantity_and_scalar(void **state)
{
    mc_res_t a = MC_RES_INIT;
    mc_test_res(&a, "cpus:1;cpus(web):2;mem:3");
    assert_int_equal(mc_res_quantity(&a, MC_SYM_CPUS), 3000);
    assert_int_equal(mc_res_scalar(&a, MC_SYM_CPUS, MC_SYM_NONE), 1000);
    assert_int_equal(mc_res_scalar(&a, MC_SYM_GPUS, MC_SYM_NONE), 0);
    mc_res_fini(&a);
}

static void test_format_truncates_like_snprintf(void **state)
{
    mc_res_t a = MC_RES_INIT;
    mc_test_res(&a, "cpus:1.5;mem:4096");
    char small[6];
    size_t need = mc_res_format(&a, small, sizeof(small));
    assert_int_equal(need, strlen("cpus:1.5;mem:4096"));
    assert_string_equal(small, "cpus:");
    mc_res_fini(&a);
}

/* Randomised check of the algebra on range sets against a bitmap model. */
static void test_ranges_against_bitmap_model(void **state)
{
    enum { W = 200 };
    srand(12345);
    for (int iter = 0; iter < 2000; iter++) {
        unsigned char x[W] = {0}, y[W] = {0};
        char tx[4096], ty[4096];
        size_t px = 0, py = 0;
        px += (size_t)snprintf(tx + px, sizeof(tx) - px, "ports:[");
        py += (size_t)snprintf(ty + py, sizeof(ty) - py, "ports:[");
        int nx = 1 + rand() % 6, ny = 1 + rand() % 6;
        for (int k = 0; k < nx; k++) {
            int lo = rand() % W, hi = lo + rand() % 20;
            if (hi >= W)
                hi = W - 1;
            memset(x + lo, 1, (size_t)(hi - lo + 1));
            px += (size_t)snprintf(tx + px, sizeof(tx) - px, "%s%d-%d", k ? "," : "", lo, hi);
        }
        for (int k = 0; k < ny; k++) {
            int lo = rand() % W, hi = lo + rand() % 20;
            if (hi >= W)
                hi = W - 1;
            memset(y + lo, 1, (size_t)(hi - lo + 1));
            py += (size_t)snprintf(ty + py, sizeof(ty) - py, "%s%d-%d", k ? "," : "", lo, hi);
        }
        snprintf(tx + px, sizeof(tx) - px, "]");
        snprintf(ty + py, sizeof(ty) - py, "]");
        mc_res_t a = MC_RES_INIT, b = MC_RES_INIT;
        mc_test_res(&a, tx);
        mc_test_res(&b, ty);
        bool sub = true;
        for (int i = 0; i < W; i++)
            sub &= !y[i] || x[i];
        assert_int_equal(mc_res_contains(&a, &b), sub);
        mc_res_t u = MC_RES_INIT;
        assert_int_equal(mc_res_copy(&u, &a), MC_OK);
        assert_int_equal(mc_res_add(&u, &b), MC_OK);
        assert_true(mc_res_valid(&u));
        for (int i = 0; i < W; i++) {
            char one[32];
            snprintf(one, sizeof(one), "ports:[%d]", i);
            mc_res_t p = MC_RES_INIT;
            mc_test_res(&p, one);
            assert_int_equal(mc_res_contains(&u, &p), x[i] || y[i]);
            mc_res_fini(&p);
        }
        if (sub) {
            assert_int_equal(mc_res_sub(&a, &b), MC_OK);
            assert_true(mc_res_valid(&a));
            for (int i = 0; i < W; i++) {
                char one[32];
                snprintf(one, sizeof(one), "ports:[%d]", i);
                mc_res_t p = MC_RES_INIT;
                mc_test_res(&p, one);
                assert_int_equal(mc_res_contains(&a, &p), x[i] && !y[i]);
                mc_res_fini(&p);
            }
        }
        mc_res_fini(&a);
        mc_res_fini(&b);
        mc_res_fini(&u);
    }
}

static bool keep_unreserved(const struct mc_res_item *it, void *arg)
{
    return it->role == MC_SYM_NONE;
}

static void test_filter(void **state)
{
    mc_res_t a = MC_RES_INIT, b = MC_RES_INIT;
    mc_test_res(&a, "cpus:1;cpus(web):2;ports:[1-5];ports(web):[6-7]");
    assert_int_equal(mc_res_filter(&b, &a, keep_unreserved, NULL), MC_OK);
    mc_assert_res(&b, "cpus:1;ports:[1-5]");
    mc_res_fini(&a);
    mc_res_fini(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_canonical_order),
        cmocka_unit_test(test_values_without_trailing_zeros),
        cmocka_unit_test(test_exact_decimal_arithmetic),
        cmocka_unit_test(test_duplicates_sum_and_ranges_coalesce),
        cmocka_unit_test(test_add_sub_contains_ranges),
        cmocka_unit_test(test_range_edges),
        cmocka_unit_test(test_parse_errors),
        cmocka_unit_test(test_overflow_is_refused),
        cmocka_unit_test(test_quantity_and_scalar),
        cmocka_unit_test(test_format_truncates_like_snprintf),
        cmocka_unit_test(test_ranges_against_bitmap_model),
        cmocka_unit_test(test_filter),
    };
    return cmocka_run_group_tests_name("engine/res", tests, NULL, NULL);
}
