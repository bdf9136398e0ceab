/* cli/sim.c: the scenario simulator. The format is a contract: docs/sim.md.
 *
 * Each line is parsed and validated in full before the engine is touched, and
 * a command's output is written only after the command succeeded, so a failing
 * line prints nothing of its own. */
#include "cli/sim.h"
#include "engine/engine.h"
#include "engine/status.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define MC_SIM_MAX_TOKENS 16
#define MC_SIM_MAX_LINE   (1u << 20)
#define MC_SIM_RUN_MAX    10000ul

/* An automatic framework's task size, by framework id. */
struct mc_sim_auto {
    char *fw;
    char *text; /* canonical text of the task */
    mc_res_t task;
};

/* An offer published in the current cycle. */
struct mc_sim_offer {
    char *fw, *agent, *text;
    mc_res_t res;
    uint64_t seq;
};

struct mc_sim {
    mc_engine_t *e;
    const struct mc_sim_options *opt;
    FILE *out, *err;
    const char *name;
    unsigned long line;
    uint64_t now; /* virtual clock, ns */
    struct mc_sim_auto *autos;
    size_t nautos;
    struct mc_sim_offer *offers;
    size_t noffers, capoffers;
    bool oom;
};

static uint64_t mc_sim_clock(void *arg)
{
    return ((struct mc_sim *)arg)->now;
}

static void mc_sim_on_offers(void *arg, const struct mc_offer *offers, size_t n)
{
    struct mc_sim *sim = arg;
    for (size_t i = 0; i < n; i++) {
        if (sim->noffers == sim->capoffers) {
            size_t cap = sim->capoffers ? sim->capoffers * 2 : 64;
            void *p = realloc(sim->offers, cap * sizeof(*sim->offers));
            if (!p) {
                sim->oom = true;
                return;
            }
            sim->offers = p;
            sim->capoffers = cap;
        }
        struct mc_sim_offer *o = &sim->offers[sim->noffers];
        o->fw = strdup(offers[i].framework);
        o->agent = strdup(offers[i].agent);
        o->text = mc_res_str(offers[i].res);
        mc_res_init(&o->res);
        if (!o->fw || !o->agent || !o->text || mc_res_copy(&o->res, offers[i].res)) {
            free(o->fw);
            free(o->agent);
            free(o->text);
            mc_res_fini(&o->res);
            sim->oom = true;
            return;
        }
        o->seq = offers[i].seq;
        sim->noffers++;
    }
}

static void mc_sim_offers_clear(struct mc_sim *sim)
{
    for (size_t i = 0; i < sim->noffers; i++) {
        free(sim->offers[i].fw);
        free(sim->offers[i].agent);
        free(sim->offers[i].text);
        mc_res_fini(&sim->offers[i].res);
    }
    sim->noffers = 0;
}

/* With one shard the decision order; with more, agent id then framework id. */
static int mc_sim_offer_cmp_seq(const void *a, const void *b)
{
    const struct mc_sim_offer *x = a, *y = b;
    return x->seq < y->seq ? -1 : x->seq > y->seq;
}

static int mc_sim_offer_cmp_ids(const void *a, const void *b)
{
    const struct mc_sim_offer *x = a, *y = b;
    int c = strcmp(x->agent, y->agent);
    if (!c)
        c = strcmp(x->fw, y->fw);
    return c ? c : mc_sim_offer_cmp_seq(a, b);
}

static int mc_sim_fail(struct mc_sim *sim, const char *fmt, ...)
{
    va_list ap;
    fprintf(sim->err, "sim: %s: line %lu: ", sim->name, sim->line);
    va_start(ap, fmt);
    vfprintf(sim->err, fmt, ap);
    va_end(ap);
    fputc('\n', sim->err);
    return 2;
}

/* ---- token parsing ----------------------------------------------------------------- */

static int mc_sim_res(struct mc_sim *sim, const char *tok, mc_res_t *r)
{
    const char *why = "";
    int rc = mc_res_parse(r, tok, strlen(tok), &why);
    if (rc == MC_ENOMEM)
        return 1;
    if (rc)
        return mc_sim_fail(sim, "bad resources '%s': %s", tok, why);
    return 0;
}

/* A decimal number of seconds (negative only when @neg_ok). */
static int mc_sim_seconds(struct mc_sim *sim, const char *tok, bool neg_ok, double *out)
{
    const char *p = tok;
    if (*p == '-' && neg_ok)
        p++;
    bool digits = false, dot = false;
    for (; *p; p++) {
        if (*p >= '0' && *p <= '9')
            digits = true;
        else if (*p == '.' && !dot)
            dot = true;
        else
            break;
    }
    if (!digits || *p)
        return mc_sim_fail(sim, "bad number of seconds '%s'", tok);
    *out = strtod(tok, NULL);
    if (!isfinite(*out) || fabs(*out) > 1e9)
        return mc_sim_fail(sim, "number of seconds out of range '%s'", tok);
    return 0;
}

static int mc_sim_u64(struct mc_sim *sim, const char *tok, uint64_t max, uint64_t *out)
{
    if (!*tok || strspn(tok, "0123456789") != strlen(tok))
        return mc_sim_fail(sim, "bad number '%s'", tok);
    errno = 0;
    unsigned long long v = strtoull(tok, NULL, 10);
    if (errno || v > max)
        return mc_sim_fail(sim, "number out of range '%s'", tok);
    *out = v;
    return 0;
}

static int mc_sim_engine_err(struct mc_sim *sim, int rc, const char *what)
{
    if (rc == MC_ENOMEM)
        return 1;
    return mc_sim_fail(sim, "%s: %s", what, mc_strerror(rc));
}

static struct mc_sim_auto *mc_sim_auto_find(struct mc_sim *sim, const char *fw)
{
    for (size_t i = 0; i < sim->nautos; i++)
        if (strcmp(sim->autos[i].fw, fw) == 0)
            return &sim->autos[i];
    return NULL;
}

static int mc_sim_need_fw(struct mc_sim *sim, const char *fw)
{
    if (!mc_engine_has_framework(sim->e, fw))
        return mc_sim_fail(sim, "unknown framework '%s'", fw);
    return 0;
}

static int mc_sim_need_agent(struct mc_sim *sim, const char *agent)
{
    if (!mc_engine_has_agent(sim->e, agent))
        return mc_sim_fail(sim, "unknown agent '%s'", agent);
    return 0;
}

/* ---- commands ------------------------------------------------------------------------- */

static int mc_sim_cmd_role(struct mc_sim *sim, char **t, int n)
{
    if (n < 2 || n % 2)
        return mc_sim_fail(sim, "usage: role NAME [weight W] [guarantee RES] [limit RES]");
    const char *name = t[1];
    if (!mc_role_name_valid(name, strlen(name)))
        return mc_sim_fail(sim, "bad role name '%s'", name);
    double weight = 1;
    mc_res_t g = MC_RES_INIT, l = MC_RES_INIT;
    bool has_w = false, has_g = false, has_l = false;
    int rc = 0;
    for (int i = 2; i < n && !rc; i += 2) {
        if (strcmp(t[i], "weight") == 0 && !has_w) {
            char *end;
            weight = strtod(t[i + 1], &end);
            has_w = true;
            if (*end || end == t[i + 1] || !(weight > 0) || !isfinite(weight) ||
                strspn(t[i + 1], "0123456789.") != strlen(t[i + 1]))
                rc = mc_sim_fail(sim, "bad weight '%s' (a positive decimal)", t[i + 1]);
        } else if (strcmp(t[i], "guarantee") == 0 && !has_g) {
            has_g = true;
            rc = mc_sim_res(sim, t[i + 1], &g);
        } else if (strcmp(t[i], "limit") == 0 && !has_l) {
            has_l = true;
            rc = mc_sim_res(sim, t[i + 1], &l);
        } else {
            rc = mc_sim_fail(sim, "unexpected '%s' in role (weight, guarantee, limit, once each)",
                             t[i]);
        }
    }
    if (!rc) {
        /* an existing role keeps its weight unless the line gives one */
        if (!has_w)
            weight = 0;
        int erc = mc_engine_role_set(sim->e, name, weight, has_g ? &g : NULL, has_l ? &l : NULL);
        if (erc == MC_EINVAL)
            rc = mc_sim_fail(sim,
                             "role %s: quota is scalar unreserved quantities, and a "
                             "guarantee may not exceed the limit",
                             name);
        else if (erc)
            rc = mc_sim_engine_err(sim, erc, "role");
    }
    mc_res_fini(&g);
    mc_res_fini(&l);
    return rc;
}

static bool mc_sim_attrs_valid(const char *s)
{
    /* k:v pairs joined by ';', each side an id */
    while (*s) {
        const char *colon = strchr(s, ':'), *semi = strchr(s, ';');
        if (!semi)
            semi = s + strlen(s);
        if (!colon || colon > semi || !mc_id_valid(s, (size_t)(colon - s)) ||
            !mc_id_valid(colon + 1, (size_t)(semi - colon - 1)))
            return false;
        s = *semi ? semi + 1 : semi;
        if (*s == '\0' && semi[0] == ';')
            return false;
    }
    return true;
}

static int mc_sim_cmd_agent(struct mc_sim *sim, char **t, int n)
{
    if (n == 3 && strcmp(t[1], "remove") == 0) {
        int rc = mc_engine_agent_remove(sim->e, t[2]);
        return rc == MC_ENOENT ? mc_sim_fail(sim, "unknown agent '%s'", t[2]) : 0;
    }
    if (!((n == 4 || (n == 6 && strcmp(t[4], "attrs") == 0)) && strcmp(t[1], "add") == 0))
        return mc_sim_fail(sim, "usage: agent add ID RES [attrs k:v;k:v] | agent remove ID");
    if (!mc_id_valid(t[2], strlen(t[2])))
        return mc_sim_fail(sim, "bad agent id '%s'", t[2]);
    if (n == 6 && !mc_sim_attrs_valid(t[5]))
        return mc_sim_fail(sim, "bad attributes '%s' (k:v;k:v)", t[5]);
    mc_res_t r = MC_RES_INIT;
    int rc = mc_sim_res(sim, t[3], &r);
    if (!rc) {
        int erc = mc_engine_agent_add(sim->e, t[2], &r, n == 6 ? t[5] : NULL);
        if (erc == MC_EEXIST)
            rc = mc_sim_fail(sim, "agent '%s' already exists", t[2]);
        else if (erc == MC_ELIMIT)
            rc = mc_sim_fail(sim, "agent '%s': more than %u scalar resource names", t[2],
                             MC_ENGINE_MAX_DIMS);
        else if (erc)
            rc = mc_sim_engine_err(sim, erc, "agent add");
    }
    mc_res_fini(&r);
    return rc;
}

static int mc_sim_cmd_framework(struct mc_sim *sim, char **t, int n)
{
    if (n == 3 && strcmp(t[1], "remove") == 0) {
        if (mc_engine_framework_remove(sim->e, t[2]) == MC_ENOENT)
            return mc_sim_fail(sim, "unknown framework '%s'", t[2]);
        struct mc_sim_auto *a = mc_sim_auto_find(sim, t[2]);
        if (a) {
            free(a->fw);
            free(a->text);
            mc_res_fini(&a->task);
            *a = sim->autos[--sim->nautos];
        }
        return 0;
    }
    if (!(strcmp(t[1], "add") == 0 && (n == 5 || (n == 7 && strcmp(t[5], "task") == 0)) &&
          strcmp(t[3], "roles") == 0))
        return mc_sim_fail(sim, "usage: framework add ID roles R1[,R2...] [task RES] | "
                                "framework remove ID");
    const char *id = t[2];
    if (!mc_id_valid(id, strlen(id)))
        return mc_sim_fail(sim, "bad framework id '%s'", id);
    if (mc_engine_has_framework(sim->e, id))
        return mc_sim_fail(sim, "framework '%s' already exists", id);
    const char *roles[MC_FW_MAX_ROLES];
    size_t nroles = 0;
    for (char *p = t[4];;) {
        char *comma = strchr(p, ',');
        if (comma)
            *comma = '\0';
        if (nroles == MC_FW_MAX_ROLES)
            return mc_sim_fail(sim, "more than %u roles", MC_FW_MAX_ROLES);
        if (!mc_role_name_valid(p, strlen(p)))
            return mc_sim_fail(sim, "bad role name '%s'", p);
        for (size_t k = 0; k < nroles; k++)
            if (strcmp(roles[k], p) == 0)
                return mc_sim_fail(sim, "role '%s' listed twice", p);
        roles[nroles++] = p;
        if (!comma)
            break;
        p = comma + 1;
    }
    struct mc_sim_auto a = {NULL, NULL, MC_RES_INIT};
    if (n == 7) {
        int rc = mc_sim_res(sim, t[6], &a.task);
        if (rc)
            return rc;
        if (mc_res_empty(&a.task)) {
            mc_res_fini(&a.task);
            return mc_sim_fail(sim, "task size is empty");
        }
        void *p = realloc(sim->autos, (sim->nautos + 1) * sizeof(*sim->autos));
        if (p)
            sim->autos = p;
        if (!p || !(a.fw = strdup(id)) || !(a.text = mc_res_str(&a.task))) {
            free(a.fw);
            mc_res_fini(&a.task);
            return 1;
        }
    }
    int erc = mc_engine_framework_add(sim->e, id, roles, nroles, NULL, 0);
    if (erc) {
        free(a.fw);
        free(a.text);
        mc_res_fini(&a.task);
        return mc_sim_engine_err(sim, erc, "framework add");
    }
    if (a.fw)
        sim->autos[sim->nautos++] = a;
    return 0;
}

/* Prints this cycle's offers in the documented order. */
static void mc_sim_print_offers(struct mc_sim *sim)
{
    if (sim->noffers > 1)
        qsort(sim->offers, sim->noffers, sizeof(*sim->offers),
              sim->opt->shards > 1 ? mc_sim_offer_cmp_ids : mc_sim_offer_cmp_seq);
    for (size_t i = 0; i < sim->noffers; i++)
        fprintf(sim->out, "offer %s %s %s\n", sim->offers[i].fw, sim->offers[i].agent,
                sim->offers[i].text);
}

static int mc_sim_allocate(struct mc_sim *sim)
{
    mc_sim_offers_clear(sim);
    int rc = mc_engine_allocate(sim->e, NULL);
    if (rc || sim->oom)
        return 1;
    if (sim->noffers > 1)
        if (sim->noffers > 1)
            qsort(sim->offers, sim->noffers, sizeof(*sim->offers), mc_sim_offer_cmp_seq);
    return 0;
}

/* The engine keeps one outstanding offer per framework, role and agent, so
 * several decisions of one cycle for the same (framework, agent) pair reach
 * the framework as one offer: their sum. */
static int mc_sim_pair_sum(struct mc_sim *sim, size_t first, mc_res_t *sum)
{
    const struct mc_sim_offer *o = &sim->offers[first];
    int rc = mc_res_copy(sum, &o->res);
    for (size_t k = first + 1; k < sim->noffers && !rc; k++)
        if (strcmp(sim->offers[k].fw, o->fw) == 0 && strcmp(sim->offers[k].agent, o->agent) == 0)
            rc = mc_res_add(sum, &sim->offers[k].res);
    return rc;
}

static bool mc_sim_pair_seen(const struct mc_sim *sim, size_t i)
{
    for (size_t k = 0; k < i; k++)
        if (strcmp(sim->offers[k].fw, sim->offers[i].fw) == 0 &&
            strcmp(sim->offers[k].agent, sim->offers[i].agent) == 0)
            return true;
    return false;
}

static int mc_sim_cmd_run(struct mc_sim *sim, uint64_t max)
{
    mc_res_t sum = MC_RES_INIT;
    int rc = 0;
    for (uint64_t cycle = 0; cycle < max && !rc; cycle++) {
        if (mc_sim_allocate(sim)) {
            rc = 1;
            break;
        }
        uint64_t launched = 0;
        for (size_t i = 0; i < sim->noffers && !rc; i++) {
            struct mc_sim_offer *o = &sim->offers[i];
            struct mc_sim_auto *a = mc_sim_auto_find(sim, o->fw);
            if (!a || mc_sim_pair_seen(sim, i))
                continue; /* other frameworks' offers stay outstanding */
            if (mc_sim_pair_sum(sim, i, &sum)) {
                rc = 1;
                break;
            }
            /* launch one task if it fits in one outstanding offer (EEXCEED: the
             * pieces are in offers of different roles), then decline the rest */
            int erc = mc_res_contains(&sum, &a->task)
                          ? mc_engine_accept(sim->e, o->fw, o->agent, &a->task)
                          : MC_EEXCEED;
            if (erc == MC_OK) {
                fprintf(sim->out, "launch %s %s %s\n", o->fw, o->agent, a->text);
                launched++;
            } else if (erc != MC_EEXCEED) {
                rc = mc_sim_engine_err(sim, erc, "run: accept");
                break;
            }
            erc = mc_engine_decline(sim->e, o->fw, o->agent, 0);
            if (erc && erc != MC_ENOOFFER)
                rc = mc_sim_engine_err(sim, erc, "run: decline");
        }
        if (!launched)
            break;
    }
    mc_res_fini(&sum);
    return rc;
}

struct mc_sim_print {
    struct mc_sim *sim;
    int what;
};

static void mc_sim_print_fw(void *arg, const struct mc_fw_info *fw)
{
    struct mc_sim_print *p = arg;
    if (p->what == 1) {
        fprintf(p->sim->out, "tasks %s %llu\n", fw->id, (unsigned long long)fw->tasks);
        return;
    }
    char *text = mc_res_str(fw->alloc);
    if (!text) {
        p->sim->oom = true;
        return;
    }
    fprintf(p->sim->out, "allocation %s %s share %.6f\n", fw->id, text, fw->share);
    free(text);
}

static void mc_sim_print_agent(void *arg, const struct mc_agent_info *a)
{
    struct mc_sim_print *p = arg;
    char *text = mc_res_str(a->free);
    if (!text) {
        p->sim->oom = true;
        return;
    }
    fprintf(p->sim->out, "agent %s free %s\n", a->id, text);
    free(text);
}

/* Holds the resources and ids of accept / decline / finish. */
static int mc_sim_cmd_offer_op(struct mc_sim *sim, char **t, int n)
{
    const char *cmd = t[0];
    bool decline = strcmp(cmd, "decline") == 0;
    if (decline ? !(n == 3 || (n == 5 && strcmp(t[3], "refuse") == 0)) : n != 4)
        return mc_sim_fail(
            sim, decline ? "usage: decline FW AGENT [refuse SECONDS]" : "usage: %s FW AGENT RES",
            cmd);
    int rc;
    if ((rc = mc_sim_need_fw(sim, t[1])) || (rc = mc_sim_need_agent(sim, t[2])))
        return rc;
    if (decline) {
        double refuse = 5;
        if (n == 5 && (rc = mc_sim_seconds(sim, t[4], true, &refuse)))
            return rc;
        rc = mc_engine_decline(sim->e, t[1], t[2], refuse);
        if (rc == MC_ENOOFFER)
            return mc_sim_fail(sim, "framework '%s' has no outstanding offer on agent '%s'", t[1],
                               t[2]);
        return rc ? mc_sim_engine_err(sim, rc, cmd) : 0;
    }
    mc_res_t r = MC_RES_INIT;
    if ((rc = mc_sim_res(sim, t[3], &r)))
        return rc;
    bool accept = strcmp(cmd, "accept") == 0;
    int erc = accept ? mc_engine_accept(sim->e, t[1], t[2], &r)
                     : mc_engine_finish(sim->e, t[1], t[2], &r);
    mc_res_fini(&r);
    if (erc == MC_ENOOFFER)
        return mc_sim_fail(sim, "framework '%s' has no outstanding offer on agent '%s'", t[1],
                           t[2]);
    if (erc == MC_EEXCEED)
        return mc_sim_fail(sim,
                           accept ? "accepting more than was offered: '%s' on agent '%s' by '%s'"
                                  : "finishing more than a task of '%3$s' uses on agent '%2$s': "
                                    "'%1$s'",
                           t[3], t[2], t[1]);
    return erc ? mc_sim_engine_err(sim, erc, cmd) : 0;
}

static int mc_sim_exec(struct mc_sim *sim, char **t, int n)
{
    const char *c = t[0];
    int rc;
    if (strcmp(c, "seed") == 0) {
        uint64_t seed = 0;
        if (n != 2)
            return mc_sim_fail(sim, "usage: seed N");
        if ((rc = mc_sim_u64(sim, t[1], UINT64_MAX, &seed)))
            return rc;
        mc_engine_seed(sim->e, seed);
        return 0;
    }
    if (strcmp(c, "role") == 0)
        return mc_sim_cmd_role(sim, t, n);
    if (strcmp(c, "agent") == 0)
        return n >= 2 ? mc_sim_cmd_agent(sim, t, n) : mc_sim_fail(sim, "usage: agent add|remove");
    if (strcmp(c, "framework") == 0)
        return n >= 3 ? mc_sim_cmd_framework(sim, t, n)
                      : mc_sim_fail(sim, "usage: framework add|remove ID ...");
    if (strcmp(c, "suppress") == 0 || strcmp(c, "revive") == 0) {
        if (n != 2)
            return mc_sim_fail(sim, "usage: %s FW", c);
        if ((rc = mc_sim_need_fw(sim, t[1])))
            return rc;
        rc = c[0] == 's' ? mc_engine_suppress(sim->e, t[1], NULL)
                         : mc_engine_revive(sim->e, t[1], NULL);
        return rc ? mc_sim_engine_err(sim, rc, c) : 0;
    }
    if (strcmp(c, "allocate") == 0) {
        if (n != 1)
            return mc_sim_fail(sim, "usage: allocate");
        if ((rc = mc_sim_allocate(sim)))
            return rc;
        mc_sim_print_offers(sim);
        return 0;
    }
    if (strcmp(c, "accept") == 0 || strcmp(c, "decline") == 0 || strcmp(c, "finish") == 0)
        return mc_sim_cmd_offer_op(sim, t, n);
    if (strcmp(c, "advance") == 0) {
        double s;
        if (n != 2)
            return mc_sim_fail(sim, "usage: advance SECONDS");
        if ((rc = mc_sim_seconds(sim, t[1], false, &s)))
            return rc;
        sim->now += (uint64_t)llround(s * (double)MC_NS_PER_SEC);
        mc_engine_expire(sim->e);
        return 0;
    }
    if (strcmp(c, "run") == 0) {
        uint64_t max = MC_SIM_RUN_MAX;
        if (n > 2)
            return mc_sim_fail(sim, "usage: run [MAX]");
        if (n == 2 && (rc = mc_sim_u64(sim, t[1], UINT32_MAX, &max)))
            return rc;
        if (sim->opt->max_run && max > sim->opt->max_run)
            max = sim->opt->max_run;
        return mc_sim_cmd_run(sim, max);
    }
    if (strcmp(c, "print") == 0) {
        struct mc_sim_print p = {sim, 0};
        if (n == 2 && strcmp(t[1], "allocation") == 0) {
            mc_engine_frameworks(sim->e, mc_sim_print_fw, &p);
        } else if (n == 2 && strcmp(t[1], "tasks") == 0) {
            p.what = 1;
            mc_engine_frameworks(sim->e, mc_sim_print_fw, &p);
        } else if (n == 2 && strcmp(t[1], "agents") == 0) {
            mc_engine_agents(sim->e, mc_sim_print_agent, &p);
        } else {
            return mc_sim_fail(sim, "usage: print allocation|tasks|agents");
        }
        return sim->oom ? 1 : 0;
    }
    return mc_sim_fail(sim, "unknown command '%s'", c);
}

/* Splits @line in place into tokens, stopping at '#'. Returns the count, or
 * -1 when there are too many. */
static int mc_sim_tokens(char *line, char **t)
{
    int n = 0;
    char *p = line;
    for (;;) {
        while (*p == ' ' || *p == '\t')
            p++;
        if (!*p || *p == '#')
            return n;
        if (n == MC_SIM_MAX_TOKENS)
            return -1;
        t[n++] = p;
        while (*p && *p != ' ' && *p != '\t' && *p != '#')
            p++;
        if (*p == '#') {
            *p = '\0';
            return n;
        }
        if (*p)
            *p++ = '\0';
    }
}

int mc_sim_run(FILE *in, const char *name, FILE *out, FILE *err, const struct mc_sim_options *opt)
{
    struct mc_sim sim = {.opt = opt, .out = out, .err = err, .name = name};
    struct mc_engine_config cfg = {
        .shards = opt->shards ? opt->shards : 1,
        .seed = 0,
        .clock = mc_sim_clock,
        .clock_arg = &sim,
        .on_offers = mc_sim_on_offers,
        .cb_arg = &sim,
    };
    if (mc_engine_create(&sim.e, &cfg)) {
        fprintf(err, "sim: out of memory\n");
        return 1;
    }
    char *line = NULL;
    size_t cap = 0;
    ssize_t len;
    int rc = 0;
    while (rc == 0 && (len = getline(&line, &cap, in)) >= 0) {
        sim.line++;
        if ((size_t)len > MC_SIM_MAX_LINE) {
            rc = mc_sim_fail(&sim, "line longer than %u bytes", MC_SIM_MAX_LINE);
            break;
        }
        if (memchr(line, '\0', (size_t)len)) {
            rc = mc_sim_fail(&sim, "NUL byte in line");
            break;
        }
        while (len && (line[len - 1] == '\n' || line[len - 1] == '\r'))
            line[--len] = '\0';
        char *t[MC_SIM_MAX_TOKENS];
        int n = mc_sim_tokens(line, t);
        if (n < 0) {
            rc = mc_sim_fail(&sim, "too many tokens");
            break;
        }
        if (n == 0)
            continue;
        rc = mc_sim_exec(&sim, t, n);
        if (rc == 0 && opt->check) {
            char why[1024];
            if (mc_engine_check(sim.e, why, sizeof(why)))
                rc = mc_sim_fail(&sim, "check failed: %s", why);
        }
        fflush(out);
    }
    if (rc == 0 && ferror(in)) {
        fprintf(err, "sim: %s: read error\n", name);
        rc = 1;
    }
    if (rc == 1)
        fprintf(err, "sim: %s: line %lu: out of memory\n", name, sim.line);
    free(line);
    mc_sim_offers_clear(&sim);
    free(sim.offers);
    for (size_t i = 0; i < sim.nautos; i++) {
        free(sim.autos[i].fw);
        free(sim.autos[i].text);
        mc_res_fini(&sim.autos[i].task);
    }
    free(sim.autos);
    mc_engine_destroy(sim.e);
    return rc;
}
