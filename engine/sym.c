/* engine/sym.c: the symbol table. See sym.h for invariants S1-S2.
 *
 * Lookup by name uses an open-addressing hash table guarded by the same
 * mutex as interning; lookup by id is a lock-free array read. The array of
 * names is allocated once at its full capacity, so a reader never races with
 * a resize. */
#include "engine/sym.h"
#include "engine/status.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#define MC__SYM_HASH_SLOTS (2 * MC_SYM_MAX) /* load factor <= 1/2 */

static const char *mc__sym_names[MC_SYM_MAX];
static uint64_t mc__sym_prefix[MC_SYM_MAX];       /* first 8 bytes, big-endian: orders most pairs */
static uint32_t mc__sym_hash[MC__SYM_HASH_SLOTS]; /* 0 = empty slot, else id */
static _Atomic uint32_t mc__sym_count;            /* ids in use are 1..count-1 */
static pthread_mutex_t mc__sym_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_once_t mc__sym_once = PTHREAD_ONCE_INIT;

static uint64_t mc__sym_hashfn(const char *s, size_t len)
{
    uint64_t h = 1469598103934665603ull; /* FNV-1a */
    for (size_t i = 0; i < len; i++)
        h = (h ^ (unsigned char)s[i]) * 1099511628211ull;
    return h;
}

/* Finds the slot for @s: the slot holding it, or the empty slot where it
 * would go. Caller holds mc__sym_lock. */
static uint32_t *mc__sym_slot_locked(const char *s, size_t len)
{
    uint64_t i = mc__sym_hashfn(s, len) & (MC__SYM_HASH_SLOTS - 1);
    for (;;) {
        uint32_t id = mc__sym_hash[i];
        if (id == 0)
            return &mc__sym_hash[i];
        const char *n = mc__sym_names[id];
        if (strncmp(n, s, len) == 0 && n[len] == '\0')
            return &mc__sym_hash[i];
        i = (i + 1) & (MC__SYM_HASH_SLOTS - 1);
    }
}

static int64_t mc__sym_intern_locked(const char *s, size_t len)
{
    uint32_t *slot = mc__sym_slot_locked(s, len);
    if (*slot)
        return *slot;
    uint32_t id = atomic_load_explicit(&mc__sym_count, memory_order_relaxed);
    if (id >= MC_SYM_MAX)
        return MC_ELIMIT;
    char *copy = malloc(len + 1);
    if (!copy)
        return MC_ENOMEM;
    memcpy(copy, s, len);
    copy[len] = '\0';
    mc__sym_names[id] = copy;
    uint64_t prefix = 0;
    for (size_t i = 0; i < 8 && i < len; i++)
        prefix |= (uint64_t)(unsigned char)s[i] << (56 - 8 * i);
    mc__sym_prefix[id] = prefix;
    *slot = id;
    /* publish: the name store above happens-before any reader that sees the
     * new count (pair: acquire loads in mc_sym_name()). */
    atomic_store_explicit(&mc__sym_count, id + 1, memory_order_release);
    return id;
}

static void mc__sym_init(void)
{
    static const char *const known[] = {"cpus", "mem", "disk", "gpus", "ports"};
    mc__sym_names[0] = "";
    atomic_store_explicit(&mc__sym_count, 1, memory_order_release);
    for (size_t i = 0; i < sizeof(known) / sizeof(known[0]); i++)
        mc__sym_intern_locked(known[i], strlen(known[i])); /* ids 1..5 (S1) */
}

int64_t mc_sym_intern(const char *s, size_t len)
{
    if (len == 0 || len > MC_SYM_MAX_LEN || memchr(s, '\0', len))
        return MC_EINVAL;
    pthread_once(&mc__sym_once, mc__sym_init);
    pthread_mutex_lock(&mc__sym_lock);
    int64_t id = mc__sym_intern_locked(s, len);
    pthread_mutex_unlock(&mc__sym_lock);
    return id;
}

uint32_t mc_sym_find(const char *s, size_t len)
{
    if (len == 0 || len > MC_SYM_MAX_LEN)
        return 0;
    pthread_once(&mc__sym_once, mc__sym_init);
    pthread_mutex_lock(&mc__sym_lock);
    uint32_t id = *mc__sym_slot_locked(s, len);
    pthread_mutex_unlock(&mc__sym_lock);
    return id;
}

const char *mc_sym_name(uint32_t id)
{
    pthread_once(&mc__sym_once, mc__sym_init);
    /* pair: the release store in mc__sym_intern_locked() */
    if (id == 0 || id >= atomic_load_explicit(&mc__sym_count, memory_order_acquire))
        return "";
    return mc__sym_names[id];
}

/* Byte order of two interned names; the prefixes were stored before the ids
 * were published (S2), so reading them needs no lock. */
static int mc__sym_cmp(uint32_t a, uint32_t b)
{
    if (mc__sym_prefix[a] != mc__sym_prefix[b])
        return mc__sym_prefix[a] < mc__sym_prefix[b] ? -1 : 1;
    return strcmp(mc_sym_name(a), mc_sym_name(b));
}

int mc_sym_cmp_name(uint32_t a, uint32_t b)
{
    return a == b ? 0 : mc__sym_cmp(a, b);
}

int mc_sym_cmp_resource(uint32_t a, uint32_t b)
{
    if (a == b)
        return 0;
    int ka = a >= MC_SYM_CPUS && a <= MC_SYM_GPUS, kb = b >= MC_SYM_CPUS && b <= MC_SYM_GPUS;
    if (ka && kb)
        return a < b ? -1 : 1;
    if (ka != kb)
        return ka ? -1 : 1;
    return mc__sym_cmp(a, b);
}
