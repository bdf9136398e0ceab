/* engine/res.c: resource vector arithmetic. Invariants R1-R4: res.h.
 *
 * Binary operations are sorted merges over the two item arrays. Every
 * operation that can fail builds its result in fresh memory and swaps it in
 * only on success, so an error never leaves a half-updated vector. */
#include "engine/res.h"
#include "engine/status.h"
#include "engine/sym.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- item order and lifetime ------------------------------------------- */

static int mc__res_item_cmp(const struct mc_res_item *a, const struct mc_res_item *b)
{
    if (a->kind != b->kind)
        return a->kind < b->kind ? -1 : 1;
    int c = mc_sym_cmp_resource(a->name, b->name);
    if (c)
        return c;
    if (a->role == b->role)
        return 0;
    if (a->role == MC_SYM_NONE || b->role == MC_SYM_NONE)
        return a->role == MC_SYM_NONE ? -1 : 1;
    return mc_sym_cmp_name(a->role, b->role);
}

static void mc__res_items_free(struct mc_res_item *items, uint32_t n)
{
    for (uint32_t i = 0; i < n; i++)
        if (items[i].kind == MC_RES_RANGES)
            free(items[i].v.ranges);
    free(items);
}

void mc__res_release(mc_res_t *r)
{
    mc__res_items_free(r->items, r->n);
}

void mc_res_clear(mc_res_t *r)
{
    for (uint32_t i = 0; i < r->n; i++)
        if (r->items[i].kind == MC_RES_RANGES)
            free(r->items[i].v.ranges);
    r->n = 0;
}

/* Replaces the contents of @r with @items (owned, @n entries, capacity @cap). */
static void mc__res_adopt(mc_res_t *r, struct mc_res_item *items, uint32_t n, uint32_t cap)
{
    mc__res_items_free(r->items, r->n);
    r->items = items;
    r->n = n;
    r->cap = cap;
}

static int mc__ranges_dup(struct mc_res_item *dst, const struct mc_range *src, uint32_t n)
{
    dst->v.ranges = malloc((size_t)n * sizeof(*src));
    if (!dst->v.ranges)
        return MC_ENOMEM;
    memcpy(dst->v.ranges, src, (size_t)n * sizeof(*src));
    dst->nrange = n;
    return MC_OK;
}

int mc_res_copy(mc_res_t *dst, const mc_res_t *src)
{
    if (dst == src)
        return MC_OK;
    struct mc_res_item *items = NULL;
    if (src->n) {
        items = malloc((size_t)src->n * sizeof(*items));
        if (!items)
            return MC_ENOMEM;
    }
    for (uint32_t i = 0; i < src->n; i++) {
        items[i] = src->items[i];
        if (items[i].kind == MC_RES_RANGES &&
            mc__ranges_dup(&items[i], src->items[i].v.ranges, src->items[i].nrange)) {
            mc__res_items_free(items, i);
            return MC_ENOMEM;
        }
    }
    mc__res_adopt(dst, items, src->n, src->n);
    return MC_OK;
}

/* ---- range sets ---------------------------------------------------------- */

/* Appends [lo,hi] to out[*n], merging with the last interval when they
 * overlap or touch. Input must come in ascending order of lo. */
static void mc__ranges_push(struct mc_range *out, uint32_t *n, uint64_t lo, uint64_t hi)
{
    if (*n && lo <= out[*n - 1].hi + 1) {
        if (hi > out[*n - 1].hi)
            out[*n - 1].hi = hi;
        return;
    }
    out[*n].lo = lo;
    out[*n].hi = hi;
    (*n)++;
}

/* out := a ∪ b; out has room for na + nb intervals. Returns its length. */
static uint32_t mc__ranges_union(const struct mc_range *a, uint32_t na, const struct mc_range *b,
                                 uint32_t nb, struct mc_range *out)
{
    uint32_t i = 0, j = 0, n = 0;
    while (i < na || j < nb) {
        const struct mc_range *r = (j >= nb || (i < na && a[i].lo <= b[j].lo)) ? &a[i++] : &b[j++];
        mc__ranges_push(out, &n, r->lo, r->hi);
    }
    return n;
}

/* True when every interval of b lies inside one interval of a. */
static bool mc__ranges_subset(const struct mc_range *a, uint32_t na, const struct mc_range *b,
                              uint32_t nb)
{
    uint32_t i = 0;
    for (uint32_t j = 0; j < nb; j++) {
        while (i < na && a[i].hi < b[j].lo)
            i++;
        if (i == na || a[i].lo > b[j].lo || a[i].hi < b[j].hi)
            return false;
    }
    return true;
}

/* out := a \ b where b ⊆ a (so each interval of b lies inside one of a);
 * out has room for na + nb intervals. Bounds are <= MC_RES_MAX_BOUND, so
 * hi + 1 cannot overflow. */
static uint32_t mc__ranges_diff(const struct mc_range *a, uint32_t na, const struct mc_range *b,
                                uint32_t nb, struct mc_range *out)
{
    uint32_t n = 0, j = 0;
    for (uint32_t i = 0; i < na; i++) {
        uint64_t lo = a[i].lo;
        for (; j < nb && b[j].lo <= a[i].hi; j++) {
            if (b[j].lo > lo) {
                out[n].lo = lo;
                out[n++].hi = b[j].lo - 1;
            }
            lo = b[j].hi + 1;
        }
        if (lo <= a[i].hi) {
            out[n].lo = lo;
            out[n++].hi = a[i].hi;
        }
    }
    return n;
}

/* ---- merge-based binary operations -------------------------------------- */

enum mc__res_op { MC__RES_ADD, MC__RES_SUB };

/* Combines equal items @x (from a) and @y (from b) into @out. Returns 0, 1 if the
 * result is zero (dropped), or a negative status. */
static int mc__res_combine(enum mc__res_op op, const struct mc_res_item *x,
                           const struct mc_res_item *y, struct mc_res_item *out)
{
    *out = *x;
    if (x->kind == MC_RES_SCALAR) {
        if (op == MC__RES_ADD) {
            if (__builtin_add_overflow(x->v.milli, y->v.milli, &out->v.milli))
                return MC_ERANGE;
        } else {
            out->v.milli = x->v.milli - y->v.milli; /* y <= x was checked */
        }
        return out->v.milli == 0;
    }
    uint64_t cap = (uint64_t)x->nrange + y->nrange;
    struct mc_range *tmp = malloc(cap * sizeof(*tmp));
    if (!tmp)
        return MC_ENOMEM;
    uint32_t n = op == MC__RES_ADD
                     ? mc__ranges_union(x->v.ranges, x->nrange, y->v.ranges, y->nrange, tmp)
                     : mc__ranges_diff(x->v.ranges, x->nrange, y->v.ranges, y->nrange, tmp);
    if (n == 0) {
        free(tmp);
        return 1;
    }
    if (n > MC_RES_MAX_RANGES) {
        free(tmp);
        return MC_ELIMIT;
    }
    out->v.ranges = tmp;
    out->nrange = n;
    return 0;
}

static int mc__res_merge(mc_res_t *a, const mc_res_t *b, enum mc__res_op op)
{
    uint64_t cap = (uint64_t)a->n + (op == MC__RES_ADD ? b->n : 0);
    if (cap > MC_RES_MAX_ITEMS)
        return MC_ELIMIT;
    struct mc_res_item *out = cap ? malloc(cap * sizeof(*out)) : NULL;
    if (cap && !out)
        return MC_ENOMEM;
    uint32_t i = 0, j = 0, n = 0;
    int rc = MC_OK;
    while (i < a->n || j < b->n) {
        int c = j >= b->n ? -1 : i >= a->n ? 1 : mc__res_item_cmp(&a->items[i], &b->items[j]);
        const struct mc_res_item *src = c <= 0 ? &a->items[i] : &b->items[j];
        if (c == 0) {
            rc = mc__res_combine(op, &a->items[i++], &b->items[j++], &out[n]);
            if (rc < 0)
                goto out_free;
            n += rc == 0;
            rc = MC_OK;
            continue;
        }
        /* an item only one side has: kept as is (sub never gets here with c > 0,
         * because containment was checked) */
        out[n] = *src;
        if (src->kind == MC_RES_RANGES &&
            (rc = mc__ranges_dup(&out[n], src->v.ranges, src->nrange)))
            goto out_free;
        n++;
        if (c < 0)
            i++;
        else
            j++;
    }
    mc__res_adopt(a, out, n, (uint32_t)cap);
    return MC_OK;
out_free:
    mc__res_items_free(out, n);
    return rc;
}

int mc_res_add(mc_res_t *a, const mc_res_t *b)
{
    return b->n ? mc__res_merge(a, b, MC__RES_ADD) : MC_OK;
}

int mc_res_sub(mc_res_t *a, const mc_res_t *b)
{
    if (!mc_res_contains(a, b))
        return MC_EEXCEED;
    return b->n ? mc__res_merge(a, b, MC__RES_SUB) : MC_OK;
}

bool mc_res_contains(const mc_res_t *a, const mc_res_t *b)
{
    uint32_t i = 0;
    for (uint32_t j = 0; j < b->n; j++) {
        const struct mc_res_item *y = &b->items[j];
        int c = -1;
        while (i < a->n && (c = mc__res_item_cmp(&a->items[i], y)) < 0)
            i++;
        if (i == a->n || c != 0)
            return false;
        const struct mc_res_item *x = &a->items[i];
        if (y->kind == MC_RES_SCALAR
                ? x->v.milli < y->v.milli
                : !mc__ranges_subset(x->v.ranges, x->nrange, y->v.ranges, y->nrange))
            return false;
    }
    return true;
}

bool mc_res_equal(const mc_res_t *a, const mc_res_t *b)
{
    if (a->n != b->n)
        return false;
    for (uint32_t i = 0; i < a->n; i++) {
        const struct mc_res_item *x = &a->items[i], *y = &b->items[i];
        if (x->kind != y->kind || x->name != y->name || x->role != y->role)
            return false;
        if (x->kind == MC_RES_SCALAR
                ? x->v.milli != y->v.milli
                : x->nrange != y->nrange ||
                      memcmp(x->v.ranges, y->v.ranges, x->nrange * sizeof(*x->v.ranges)))
            return false;
    }
    return true;
}

mc_milli_t mc_res_scalar(const mc_res_t *r, uint32_t name, uint32_t role)
{
    for (uint32_t i = 0; i < r->n; i++) {
        const struct mc_res_item *it = &r->items[i];
        if (it->kind == MC_RES_SCALAR && it->name == name && it->role == role)
            return it->v.milli;
    }
    return 0;
}

mc_milli_t mc_res_quantity(const mc_res_t *r, uint32_t name)
{
    mc_milli_t sum = 0;
    for (uint32_t i = 0; i < r->n; i++)
        if (r->items[i].kind == MC_RES_SCALAR && r->items[i].name == name)
            sum += r->items[i].v.milli;
    return sum;
}

int mc_res_filter(mc_res_t *dst, const mc_res_t *src, mc_res_pred_cb keep, void *arg)
{
    struct mc_res_item *out = src->n ? malloc((size_t)src->n * sizeof(*out)) : NULL;
    if (src->n && !out)
        return MC_ENOMEM;
    uint32_t n = 0;
    for (uint32_t i = 0; i < src->n; i++) {
        const struct mc_res_item *it = &src->items[i];
        if (!keep(it, arg))
            continue;
        out[n] = *it;
        if (it->kind == MC_RES_RANGES && mc__ranges_dup(&out[n], it->v.ranges, it->nrange)) {
            mc__res_items_free(out, n);
            return MC_ENOMEM;
        }
        n++;
    }
    mc__res_adopt(dst, out, n, src->n);
    return MC_OK;
}

bool mc_res_valid(const mc_res_t *r)
{
    for (uint32_t i = 0; i < r->n; i++) {
        const struct mc_res_item *it = &r->items[i];
        if (i && mc__res_item_cmp(&r->items[i - 1], it) >= 0)
            return false; /* R1, R2 */
        if (it->kind == MC_RES_SCALAR) {
            if (it->v.milli <= 0)
                return false; /* R3 */
            continue;
        }
        if (it->nrange == 0)
            return false; /* R3 */
        for (uint32_t k = 0; k < it->nrange; k++) {
            if (it->v.ranges[k].lo > it->v.ranges[k].hi)
                return false;
            if (k && it->v.ranges[k].lo <= it->v.ranges[k - 1].hi + 1)
                return false; /* R4 */
        }
    }
    return true;
}

/* ---- text form ------------------------------------------------------------- */

static bool mc__is_name_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
           c == '-' || c == '.';
}

/* Parses a non-negative decimal into thousandths, rounding half up at the
 * fourth decimal. Every value a vector can hold (up to MC_RES_MAX_MILLI)
 * parses, so every printed vector parses back. Returns the number of bytes
 * used or a negative status. */
static int mc__parse_milli(const char *s, size_t len, mc_milli_t *out, const char **why)
{
    size_t i = 0;
    int64_t ip = 0, frac = 0;
    int fdigits = 0, round = 0;
    bool digits = false;
    while (i < len && s[i] >= '0' && s[i] <= '9') {
        ip = ip * 10 + (s[i++] - '0');
        digits = true;
        if (ip > MC_RES_MAX_MILLI / MC_MILLI) {
            *why = "scalar value too large";
            return MC_ERANGE;
        }
    }
    if (i < len && s[i] == '.') {
        i++;
        while (i < len && s[i] >= '0' && s[i] <= '9') {
            if (fdigits < 3)
                frac = frac * 10 + (s[i] - '0');
            else if (fdigits == 3)
                round = s[i] >= '5';
            fdigits++;
            i++;
            digits = true;
        }
    }
    if (!digits) {
        *why = "expected a non-negative decimal number";
        return MC_ESYNTAX;
    }
    while (fdigits < 3) {
        frac *= 10;
        fdigits++;
    }
    if (__builtin_add_overflow(ip * MC_MILLI, frac + round, out)) {
        *why = "scalar value too large";
        return MC_ERANGE;
    }
    return (int)i;
}

static int mc__parse_u64(const char *s, size_t len, size_t *i, uint64_t *out, const char **why)
{
    uint64_t v = 0;
    size_t start = *i;
    while (*i < len && s[*i] >= '0' && s[*i] <= '9') {
        if (__builtin_mul_overflow(v, 10, &v) ||
            __builtin_add_overflow(v, (uint64_t)(s[(*i)++] - '0'), &v) || v > MC_RES_MAX_BOUND) {
            *why = "range bound too large";
            return MC_ERANGE;
        }
    }
    if (*i == start) {
        *why = "expected a range bound";
        return MC_ESYNTAX;
    }
    *out = v;
    return MC_OK;
}

static int mc__range_cmp(const void *a, const void *b)
{
    const struct mc_range *x = a, *y = b;
    return x->lo < y->lo ? -1 : x->lo > y->lo;
}

/* Parses `[a-b,c,...]` into a fresh coalesced array. */
static int mc__parse_ranges(const char *s, size_t len, struct mc_res_item *it, const char **why)
{
    if (len < 2 || s[0] != '[' || s[len - 1] != ']') {
        *why = "a range set is written [lo-hi,...]";
        return MC_ESYNTAX;
    }
    uint64_t count = len > 2; /* intervals = commas + 1, for a non-empty list */
    for (size_t k = 1; k + 1 < len; k++)
        count += s[k] == ',';
    if (count > MC_RES_MAX_RANGES) {
        *why = "too many ranges";
        return MC_ELIMIT;
    }
    struct mc_range *r = count ? malloc(count * sizeof(*r)) : NULL;
    if (count && !r)
        return MC_ENOMEM;
    size_t i = 1, end = len - 1;
    uint32_t n = 0;
    int rc;
    while (i < end) {
        uint64_t lo, hi;
        if ((rc = mc__parse_u64(s, end, &i, &lo, why)))
            goto out_free;
        hi = lo;
        if (i < end && s[i] == '-') {
            i++;
            if ((rc = mc__parse_u64(s, end, &i, &hi, why)))
                goto out_free;
        }
        if (hi < lo) {
            *why = "range with lo > hi";
            rc = MC_ESYNTAX;
            goto out_free;
        }
        r[n].lo = lo;
        r[n++].hi = hi;
        if (i < end && s[i++] != ',') {
            *why = "ranges are separated by ','";
            rc = MC_ESYNTAX;
            goto out_free;
        }
        if (i == end && s[i - 1] == ',') {
            *why = "empty range after ','";
            rc = MC_ESYNTAX;
            goto out_free;
        }
    }
    if (n > 1)
        qsort(r, n, sizeof(*r), mc__range_cmp);
    uint32_t m = 0;
    for (uint32_t k = 0; k < n; k++)
        mc__ranges_push(r, &m, r[k].lo, r[k].hi);
    it->v.ranges = r;
    it->nrange = m;
    return MC_OK;
out_free:
    free(r);
    return rc;
}

/* Parses one `name[(role)]:value` item of @len bytes into @it. Returns 0, 1 when
 * the item is zero (skip it), or a negative status. */
static int mc__parse_item(const char *s, size_t len, struct mc_res_item *it, const char **why)
{
    size_t i = 0;
    while (i < len && mc__is_name_char(s[i]))
        i++;
    if (i == 0) {
        *why = "expected a resource name";
        return MC_ESYNTAX;
    }
    int64_t name = mc_sym_intern(s, i);
    if (name < 0)
        return (int)name;
    int64_t role = MC_SYM_NONE;
    if (i < len && s[i] == '(') {
        size_t r0 = ++i;
        while (i < len && (mc__is_name_char(s[i]) || s[i] == '/'))
            i++;
        if (i == r0 || i >= len || s[i] != ')') {
            *why = "a reservation is written name(role):value";
            return MC_ESYNTAX;
        }
        if ((role = mc_sym_intern(s + r0, i - r0)) < 0)
            return (int)role;
        i++;
    }
    if (i >= len || s[i] != ':') {
        *why = "expected ':' after the resource name";
        return MC_ESYNTAX;
    }
    i++;
    it->name = (uint32_t)name;
    it->role = (uint32_t)role;
    if (i < len && s[i] == '[') {
        it->kind = MC_RES_RANGES;
        int rc = mc__parse_ranges(s + i, len - i, it, why);
        if (rc)
            return rc;
        if (it->nrange == 0) {
            free(it->v.ranges);
            return 1;
        }
        return MC_OK;
    }
    it->kind = MC_RES_SCALAR;
    it->nrange = 0;
    int used = mc__parse_milli(s + i, len - i, &it->v.milli, why);
    if (used < 0)
        return used;
    if ((size_t)used != len - i) {
        *why = "unexpected characters after the value";
        return MC_ESYNTAX;
    }
    return it->v.milli == 0;
}

int mc_res_parse(mc_res_t *r, const char *s, size_t len, const char **why)
{
    const char *dummy;
    if (!why)
        why = &dummy;
    *why = "";
    mc_res_clear(r);
    if (len == 0 || (len == 1 && s[0] == '-'))
        return MC_OK;
    size_t start = 0;
    int rc = MC_OK;
    mc_res_t one = MC_RES_INIT;
    struct mc_res_item it;
    for (size_t i = 0; i <= len; i++) {
        if (i < len && s[i] != ';')
            continue;
        if (i == start) {
            *why = "empty item";
            rc = MC_ESYNTAX;
            break;
        }
        rc = mc__parse_item(s + start, i - start, &it, why);
        start = i + 1;
        if (rc == 1) {
            rc = MC_OK;
            continue;
        }
        if (rc)
            break;
        /* add it through the merge so duplicates sum and order is canonical */
        one.items = &it;
        one.n = one.cap = 1;
        rc = mc_res_add(r, &one);
        if (it.kind == MC_RES_RANGES)
            free(it.v.ranges);
        if (rc) {
            if (rc == MC_ERANGE)
                *why = "scalar sum overflows";
            else if (rc == MC_ELIMIT)
                *why = "too many items";
            break;
        }
    }
    if (rc)
        mc_res_fini(r); /* empty, and holding no memory, so error paths need no cleanup */
    return rc;
}

size_t mc_milli_format(mc_milli_t v, char *buf, size_t size)
{
    const char *sign = v < 0 ? "-" : "";
    uint64_t u = v < 0 ? -(uint64_t)v : (uint64_t)v;
    uint64_t ip = u / MC_MILLI, fp = u % MC_MILLI;
    if (fp == 0)
        return (size_t)snprintf(buf, size, "%s%llu", sign, (unsigned long long)ip);
    int digits = 3;
    while (fp % 10 == 0) {
        fp /= 10;
        digits--;
    }
    return (size_t)snprintf(buf, size, "%s%llu.%0*llu", sign, (unsigned long long)ip, digits,
                            (unsigned long long)fp);
}

/* Appends formatted text at *@pos, tracking the length needed even when the
 * buffer is too small. */
#define MC__EMIT(...)                                                                              \
    do {                                                                                           \
        size_t room_ = *pos < size ? size - *pos : 0;                                              \
        *pos += (size_t)snprintf(room_ ? buf + *pos : NULL, room_, __VA_ARGS__);                   \
    } while (0)

static void mc__format_item(const struct mc_res_item *it, char *buf, size_t size, size_t *pos)
{
    MC__EMIT("%s", mc_sym_name(it->name));
    if (it->role != MC_SYM_NONE)
        MC__EMIT("(%s)", mc_sym_name(it->role));
    if (it->kind == MC_RES_SCALAR) {
        char num[32];
        mc_milli_format(it->v.milli, num, sizeof(num));
        MC__EMIT(":%s", num);
        return;
    }
    MC__EMIT(":[");
    for (uint32_t k = 0; k < it->nrange; k++)
        MC__EMIT("%s%llu-%llu", k ? "," : "", (unsigned long long)it->v.ranges[k].lo,
                 (unsigned long long)it->v.ranges[k].hi);
    MC__EMIT("]");
}

size_t mc_res_format(const mc_res_t *r, char *buf, size_t size)
{
    size_t p = 0, *pos = &p;
    if (size)
        buf[0] = '\0';
    if (r->n == 0)
        MC__EMIT("-");
    for (uint32_t i = 0; i < r->n; i++) {
        if (i)
            MC__EMIT(";");
        mc__format_item(&r->items[i], buf, size, pos);
    }
    return p;
}

char *mc_res_str(const mc_res_t *r)
{
    size_t need = mc_res_format(r, NULL, 0) + 1;
    char *s = malloc(need);
    if (s)
        mc_res_format(r, s, need);
    return s;
}
