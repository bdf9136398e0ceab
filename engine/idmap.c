/* engine/idmap.c: see idmap.h. Linear probing; the table doubles when live +
 * tombstones reach 3/4 of its slots, dropping tombstones on the way. */
#include "engine/idmap.h"
#include "engine/status.h"

#include <stdlib.h>
#include <string.h>

static const char mc__idmap_tomb[1];

static uint64_t mc__idmap_hash(const char *s)
{
    uint64_t h = 1469598103934665603ull;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ull;
    return h ^ (h >> 29);
}

void mc_idmap_init(mc_idmap_t *m)
{
    memset(m, 0, sizeof(*m));
}

void mc_idmap_fini(mc_idmap_t *m)
{
    free(m->slots);
    mc_idmap_init(m);
}

/* Returns the slot holding @key, or NULL. */
static struct mc__idslot *mc__idmap_find(const mc_idmap_t *m, const char *key, uint64_t h)
{
    if (!m->cap)
        return NULL;
    for (uint32_t i = (uint32_t)h & (m->cap - 1);; i = (i + 1) & (m->cap - 1)) {
        struct mc__idslot *s = &m->slots[i];
        if (!s->key)
            return NULL;
        if (s->key != mc__idmap_tomb && s->hash == h && strcmp(s->key, key) == 0)
            return s;
    }
}

static void mc__idmap_place(struct mc__idslot *slots, uint32_t cap, const char *key, uint64_t h,
                            uint32_t val)
{
    uint32_t i = (uint32_t)h & (cap - 1);
    while (slots[i].key && slots[i].key != mc__idmap_tomb)
        i = (i + 1) & (cap - 1);
    slots[i].key = key;
    slots[i].hash = h;
    slots[i].val = val;
}

int mc_idmap_put(mc_idmap_t *m, const char *key, uint32_t val)
{
    uint64_t h = mc__idmap_hash(key);
    if (mc__idmap_find(m, key, h))
        return MC_EEXIST;
    if ((uint64_t)(m->used + 1) * 4 > (uint64_t)m->cap * 3) {
        uint32_t cap = m->cap ? m->cap : 16;
        while ((uint64_t)(m->live + 1) * 2 > cap)
            cap *= 2;
        struct mc__idslot *slots = calloc(cap, sizeof(*slots));
        if (!slots)
            return MC_ENOMEM;
        for (uint32_t i = 0; i < m->cap; i++)
            if (m->slots[i].key && m->slots[i].key != mc__idmap_tomb)
                mc__idmap_place(slots, cap, m->slots[i].key, m->slots[i].hash, m->slots[i].val);
        free(m->slots);
        m->slots = slots;
        m->cap = cap;
        m->used = m->live;
    }
    uint32_t i = (uint32_t)h & (m->cap - 1);
    while (m->slots[i].key && m->slots[i].key != mc__idmap_tomb)
        i = (i + 1) & (m->cap - 1);
    m->used += m->slots[i].key == NULL;
    m->slots[i].key = key;
    m->slots[i].hash = h;
    m->slots[i].val = val;
    m->live++;
    return MC_OK;
}

int64_t mc_idmap_get(const mc_idmap_t *m, const char *key)
{
    struct mc__idslot *s = mc__idmap_find(m, key, mc__idmap_hash(key));
    return s ? (int64_t)s->val : -1;
}

void mc_idmap_del(mc_idmap_t *m, const char *key)
{
    struct mc__idslot *s = mc__idmap_find(m, key, mc__idmap_hash(key));
    if (s) {
        s->key = mc__idmap_tomb;
        m->live--;
    }
}
