/* engine/idmap.h: string id -> uint32 index, open addressing with tombstones.
 *
 * Keys are not copied: the caller keeps each key alive while it is mapped
 * (the engine maps an object's own id string). Context: not thread-safe. */
#ifndef MC_ENGINE_IDMAP_H
#define MC_ENGINE_IDMAP_H
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

struct mc__idslot {
    const char *key; /* NULL = empty, mc__idmap_tomb = deleted */
    uint64_t hash;
    uint32_t val;
};

typedef struct mc_idmap {
    struct mc__idslot *slots;
    uint32_t cap;  /* power of two, or 0 */
    uint32_t used; /* live + tombstones */
    uint32_t live;
} mc_idmap_t;

void mc_idmap_init(mc_idmap_t *m);
void mc_idmap_fini(mc_idmap_t *m);
/* Maps @key (NUL-terminated, kept alive by the caller) to @val. Returns 0,
 * MC_EEXIST or MC_ENOMEM. */
int mc_idmap_put(mc_idmap_t *m, const char *key, uint32_t val);
/* Returns the value of @key or -1. */
int64_t mc_idmap_get(const mc_idmap_t *m, const char *key);
/* Removes @key if present. */
void mc_idmap_del(mc_idmap_t *m, const char *key);

#ifdef __cplusplus
}
#endif

#endif
