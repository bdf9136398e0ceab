/* engine/ring.h: a bounded single-producer single-consumer queue of
 * pointers, over concurrencykit's ck_ring.
 *
 * Ordering: ck_ring_enqueue_spsc() stores the slot, then a store fence, then
 * the producer tail; ck_ring_dequeue_spsc() loads the tail, then a load fence,
 * then the slot. That pair makes everything the producer wrote to the object
 * before enqueueing it visible to the consumer after dequeueing it; the TSan
 * annotations state the same hand-off for ThreadSanitizer, which cannot see
 * ck's fences. Progress: wait-free for both sides. */
#ifndef MC_ENGINE_RING_H
#define MC_ENGINE_RING_H
#include <stdbool.h>

#include <ck_ring.h>

#include "engine/tsan.h"

/* Context: the one producer thread. Returns false when the ring is full. */
static inline bool mc_ring_push_spsc(ck_ring_t *ring, ck_ring_buffer_t *buf, void *obj)
{
    MC_TSAN_RELEASE(obj);
    return ck_ring_enqueue_spsc(ring, buf, obj);
}

/* Context: the one consumer thread. Returns NULL when the ring is empty. */
static inline void *mc_ring_pop_spsc(ck_ring_t *ring, ck_ring_buffer_t *buf)
{
    void *obj;
    if (!ck_ring_dequeue_spsc(ring, buf, &obj))
        return NULL;
    MC_TSAN_ACQUIRE(obj);
    return obj;
}

#endif
