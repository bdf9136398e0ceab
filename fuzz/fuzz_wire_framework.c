/* fuzz/fuzz_wire_framework.c: the body decoder for the FRAMEWORK family of messages
 * (net/msg.h). The first input byte picks the type, the rest is its body.
 * Properties: no crash, no read outside the input, an error is a status code
 * with its place inside the body; a body that decodes reads back consistently
 * through every accessor and survives the canonical round trip. */
#include "fuzz/wire_fuzz.h"

static const uint16_t family[] = {
#define TYPE(code, name, dir, fam) MC__FAMILY_##fam(MC_MSG_##name)
#define MC__FAMILY_CONN(x)
#define MC__FAMILY_AGENT(x)
#define MC__FAMILY_FRAMEWORK(x) x,
    MC_WIRE_TYPES(TYPE)
#undef TYPE
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    return fuzz_family(family, sizeof family / sizeof family[0], data, size);
}
