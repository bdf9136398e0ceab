/* engine/sym.h: process-wide symbol table for resource and role names.
 *
 * Resource vectors and the allocator refer to names by small integer ids so
 * that the hot path compares integers, not strings. Symbols are interned once
 * and never freed; ids are dense and stable for the life of the process.
 *
 * Invariants:
 *   S1. Ids 1..MC_SYM_PORTS are the well-known names below, in this order.
 *   S2. An id, once returned by mc_sym_intern(), maps to the same NUL-terminated
 *       string forever; mc_sym_name() never blocks and never sees a torn entry.
 * Ordering: the intern path stores the string pointer, then publishes the new
 * count with a release store; mc_sym_name() / mc_sym_count() load the count
 * with acquire (pair: sym.c "publish"). Interning takes a mutex (control path). */
#ifndef MC_ENGINE_SYM_H
#define MC_ENGINE_SYM_H
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

enum {
    MC_SYM_NONE = 0, /* the unreserved role / no name */
    MC_SYM_CPUS = 1,
    MC_SYM_MEM = 2,
    MC_SYM_DISK = 3,
    MC_SYM_GPUS = 4,
    MC_SYM_PORTS = 5,
};

#define MC_SYM_MAX     65536u /* capacity of the table, ids are < this */
#define MC_SYM_MAX_LEN 255u   /* longest name accepted */

/* Interns @len bytes at @s (need not be NUL-terminated). Returns the id (> 0)
 * or MC_EINVAL (empty or too long) / MC_ELIMIT (table full) / MC_ENOMEM.
 * Context: any thread; takes the table mutex when the name is new. */
int64_t mc_sym_intern(const char *s, size_t len);

/* Looks @len bytes at @s up without interning. Returns the id, or 0. */
uint32_t mc_sym_find(const char *s, size_t len);

/* The name of @id ("" for MC_SYM_NONE or an id never returned). Context: any
 * thread, lock-free. */
const char *mc_sym_name(uint32_t id);

/* Total order used for canonical printing of resource names: cpus, mem,
 * disk, gpus, then every other name by byte-wise comparison. Returns <0, 0, >0. */
int mc_sym_cmp_resource(uint32_t a, uint32_t b);

/* Byte-wise order of two names (roles, ids). Returns <0, 0, >0. */
int mc_sym_cmp_name(uint32_t a, uint32_t b);

#ifdef __cplusplus
}
#endif

#endif
