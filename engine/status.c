#include "engine/status.h"

const char *mc_strerror(int code)
{
    switch (code) {
#define MC__STATUS_TEXT(name, c, text)                                                             \
    case c:                                                                                        \
        return text;
        MC_STATUS_MAP(MC__STATUS_TEXT)
#undef MC__STATUS_TEXT
    }
    return "unknown status";
}

const char *mc_err_name(int code)
{
    switch (code) {
#define MC__STATUS_NAME(name, c, text)                                                             \
    case c:                                                                                        \
        return #name;
        MC_STATUS_MAP(MC__STATUS_NAME)
#undef MC__STATUS_NAME
    }
    return "UNKNOWN";
}
