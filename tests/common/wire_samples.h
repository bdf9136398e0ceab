/* tests/common/wire_samples.h: one valid, realistic frame of every message
 * type, written by the encoder. Unit tests, the fuzz seed corpora and the
 * wire benchmarks all start from these. */
#ifndef MC_TESTS_WIRE_SAMPLES_H
#define MC_TESTS_WIRE_SAMPLES_H

#include "net/wire.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The message types in table order, and how many there are. */
extern const uint16_t mc_sample_types[];
extern const unsigned mc_sample_ntypes;

/* Writes one frame of @type into @w (session @session). @size scales the
 * repeated parts (offers in a batch, tasks, resources): 0 is the smallest
 * valid message, 1 a typical one, larger values more. Returns the frame size
 * or the writer's error. */
int mc_sample_frame(mc_wire_writer_t *w, uint16_t type, unsigned size, uint64_t session);

#ifdef __cplusplus
}
#endif

#endif
