/* engine/tsan.h: ThreadSanitizer annotations, no-ops in other builds.
 *
 * concurrencykit and liburcu synchronise with volatile accesses, fences and
 * inline assembly that TSan does not model, so code that hands memory from one
 * thread to another through them says so explicitly: MC_TSAN_RELEASE(addr)
 * on the producer before the hand-off, MC_TSAN_ACQUIRE(addr) on the consumer
 * after it. */
#ifndef MC_ENGINE_TSAN_H
#define MC_ENGINE_TSAN_H

#if defined(__SANITIZE_THREAD__)
#define MC_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define MC_TSAN 1
#endif
#endif

#ifdef MC_TSAN
void __tsan_acquire(void *addr);
void __tsan_release(void *addr);
#define MC_TSAN_ACQUIRE(a) __tsan_acquire((void *)(a))
#define MC_TSAN_RELEASE(a) __tsan_release((void *)(a))
#else
#define MC_TSAN_ACQUIRE(a) ((void)(a))
#define MC_TSAN_RELEASE(a) ((void)(a))
#endif

#endif
