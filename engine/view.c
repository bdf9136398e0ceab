/* engine/view.c: the RCU-published summary (view.h).
 *
 * One allocation holds a summary: the struct, the framework array and the
 * id strings, so that a grace period frees it in one call. liburcu's
 * out-of-line memb flavour is used (no _LGPL_SOURCE): its inline fast paths
 * trip UBSan, and a summary is read far less often than a cycle runs.
 *
 * TSan does not see liburcu's grace periods (they live in the uninstrumented
 * library), so the hand-offs are stated explicitly (engine/tsan.h):
 *   publish  MC_TSAN_RELEASE(v) before rcu_assign_pointer; reader
 *            MC_TSAN_ACQUIRE(v) after rcu_dereference;
 *   reclaim  a reader's MC_TSAN_RELEASE(&mc__view_gp) before it unlocks
 *            pairs with MC_TSAN_ACQUIRE(&mc__view_gp) in the callback that
 *            frees, which runs only after that reader unlocked; the
 *            publisher's MC_TSAN_RELEASE(&old->rh) before call_rcu() pairs
 *            with MC_TSAN_ACQUIRE(rh) in the callback (another thread). */
#include "engine/view.h"
#include "engine/internal.h"
#include "engine/status.h"
#include "engine/tsan.h"

#include <stdlib.h>
#include <string.h>
#include <urcu/urcu-memb.h>

struct mc__view_box {
    struct rcu_head rh;
    struct mc_view v;
};

static char mc__view_gp; /* token for the grace-period hand-off (TSan) */

/* liburcu wants call_rcu() and rcu_barrier() on a registered thread; the
 * control thread is registered for the duration of each call that needs it
 * (nesting with a caller that registered itself is counted here). */
static __thread unsigned mc__rcu_depth;

static void mc__view_free_cb(struct rcu_head *rh)
{
    MC_TSAN_ACQUIRE(rh); /* pair: the release before call_rcu() */
    MC_TSAN_ACQUIRE(&mc__view_gp);
    free(caa_container_of(rh, struct mc__view_box, rh));
}

void mc__view_retire(mc_engine_t *e)
{
    if (!e->view)
        return;
    mc_view_thread_register();
    struct mc__view_box *old = rcu_xchg_pointer(&e->view, NULL);
    MC_TSAN_RELEASE(&old->rh);
    urcu_memb_call_rcu(&old->rh, mc__view_free_cb);
    urcu_memb_barrier(); /* every callback has run: nothing of @e is left in flight */
    mc_view_thread_unregister();
}

static int mc__fw_id_cmp(const void *a, const void *b)
{
    return strcmp(((const struct mc_view_framework *)a)->id,
                  ((const struct mc_view_framework *)b)->id);
}

int mc_engine_publish_view(mc_engine_t *e)
{
    uint32_t nfw = 0;
    size_t strings = 0;
    for (uint32_t i = 0; i < e->nfws_slots; i++)
        if (e->fws[i]) {
            nfw++;
            strings += strlen(e->fws[i]->id) + 1;
        }
    size_t size = sizeof(struct mc__view_box) + nfw * sizeof(struct mc_view_framework) + strings;
    struct mc__view_box *box = calloc(1, size);
    if (!box)
        return MC_ENOMEM;
    struct mc_view *v = &box->v;
    struct mc_view_framework *fws = (struct mc_view_framework *)(box + 1);
    char *str = (char *)(fws + nfw);
    v->cycles = e->cycles;
    v->published_at = e->cfg.clock(e->cfg.clock_arg);
    v->shards = e->nshards;
    v->roles = e->nroles;
    v->last = e->last_stats;
    for (uint32_t d = 0; d < 4; d++)
        v->total[d] = e->total[d]; /* dims 0-3 are cpus, mem, disk, gpus */
    for (uint32_t i = 0; i < e->nagent_slots; i++)
        if (e->agents[i]) {
            v->agents++;
            v->active_agents += e->agents[i]->active;
        }
    uint32_t k = 0;
    for (uint32_t i = 0; i < e->nfws_slots; i++) {
        struct mc__fw *f = e->fws[i];
        if (!f)
            continue;
        struct mc_view_framework *vf = &fws[k++];
        size_t len = strlen(f->id) + 1;
        memcpy(str, f->id, len);
        vf->id = str;
        str += len;
        vf->tasks = f->tasks;
        for (uint32_t r = 0; r < f->nroles; r++) {
            int64_t alloc[MC_ENGINE_MAX_DIMS];
            mc__client_load(e, &f->roles[r].c, alloc);
            double s = mc__share_of(e, alloc, f->roles[r].role->node.weight);
            vf->share = s > vf->share ? s : vf->share;
            for (uint32_t d = 0; d < 4; d++)
                vf->alloc[d] += alloc[d];
        }
    }
    if (nfw > 1)
        qsort(fws, nfw, sizeof(*fws), mc__fw_id_cmp);
    v->frameworks = fws;
    v->nframeworks = nfw;
    MC_TSAN_RELEASE(box); /* pair: MC_TSAN_ACQUIRE in mc_engine_view() */
    struct mc__view_box *old = rcu_xchg_pointer(&e->view, box);
    if (old) {
        mc_view_thread_register();
        MC_TSAN_RELEASE(&old->rh); /* pair: the acquire in mc__view_free_cb() */
        urcu_memb_call_rcu(&old->rh, mc__view_free_cb);
        mc_view_thread_unregister();
    }
    return MC_OK;
}

const struct mc_view *mc_engine_view(mc_engine_t *e)
{
    struct mc__view_box *box = rcu_dereference(e->view);
    if (!box)
        return NULL;
    MC_TSAN_ACQUIRE(box);
    return &box->v;
}

void mc_view_thread_register(void)
{
    if (mc__rcu_depth++ == 0)
        urcu_memb_register_thread();
}

void mc_view_thread_unregister(void)
{
    if (--mc__rcu_depth == 0)
        urcu_memb_unregister_thread();
}

void mc_view_read_lock(void)
{
    urcu_memb_read_lock();
}

void mc_view_read_unlock(void)
{
    MC_TSAN_RELEASE(&mc__view_gp); /* pair: the free callback's acquire */
    urcu_memb_read_unlock();
}
