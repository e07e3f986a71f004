/* Worker class: model files are loaded and engines built here, never on the audio
 * thread; retired slots come back here to be freed. */
#include "ef_lv2_plugin.h"

#include <stdio.h>
#include <string.h>

/* Why copies: hosts' worker rings (jalv's, ours in tests) give no alignment, so the
 * message header is copied out before its fields are read. */
static int read_header(ef_lv2_msg *msg, uint32_t size, const void *data)
{
    if (size < sizeof *msg)
        return -1;
    memcpy(msg, data, sizeof *msg);
    return 0;
}

/* Worker: notes a slot sent to the audio thread; -1 when EF_LV2_IN_FLIGHT answers are
 * already waiting (a host that stopped delivering them). */
static int track(ef_lv2_plugin *p, ef_lv2_slot *slot)
{
    for (int i = 0; i < EF_LV2_IN_FLIGHT; i++) {
        ef_lv2_slot *expected = NULL;
        if (atomic_compare_exchange_strong(&p->in_flight[i], &expected, slot))
            return 0;
    }
    return -1;
}

/* Worker or audio thread (no lock, no allocation): the slot has arrived or is gone. */
static void untrack(ef_lv2_plugin *p, const ef_lv2_slot *slot)
{
    for (int i = 0; i < EF_LV2_IN_FLIGHT; i++)
        if (atomic_load(&p->in_flight[i]) == slot)
            atomic_store(&p->in_flight[i], NULL);
}

static const char *terminated_path(uint32_t size, const void *data)
{
    const char *path = (const char *)data + sizeof(ef_lv2_msg);
    size_t room = size - sizeof(ef_lv2_msg);
    return room > 0 && memchr(path, 0, room) ? path : NULL;
}

/* Worker: the Target port asked for a label the model was not trained for. */
static void log_refused(ef_lv2_plugin *p, const ef_model *m, int target)
{
    char trained[256] = "";
    for (int i = 0; i < ef_model_labels(m); i++)
        if (ef_model_label_trained(m, i))
            snprintf(trained + strlen(trained), sizeof trained - strlen(trained), "%s%s",
                     trained[0] ? ", " : "", ef_model_label_name(m, i));
    const int n = ef_model_labels(m);
    const int label = target < 0 ? 0 : target >= n ? n - 1 : target;
    lv2_log_warning(&p->logger, "earflow: target %d (%s): the model was not trained for it; "
                    "keeping the last trained label (trained: %s)\n", target,
                    n > 0 ? ef_model_label_name(m, label) : "-", trained);
}

LV2_Worker_Status ef_lv2_work(LV2_Handle instance, LV2_Worker_Respond_Function respond,
                              LV2_Worker_Respond_Handle handle, uint32_t size, const void *data)
{
    ef_lv2_plugin *p = instance;
    ef_lv2_msg msg;
    if (read_header(&msg, size, data))
        return LV2_WORKER_ERR_UNKNOWN;
    if (msg.type == EF_LV2_MSG_FREE) {
        ef_lv2_slot_free(msg.slot);
        return LV2_WORKER_SUCCESS;
    }
    if (msg.type == EF_LV2_MSG_REFUSED) {
        log_refused(p, msg.slot->model, (int)msg.settings.value[EF_CONTROL_TARGET]);
        return LV2_WORKER_SUCCESS;
    }
    if (msg.type != EF_LV2_MSG_LOAD && msg.type != EF_LV2_MSG_REBUILD)
        return LV2_WORKER_ERR_UNKNOWN;
    const int load = msg.type == EF_LV2_MSG_LOAD;
    const char *path = load ? terminated_path(size, data) : p->newest_path;
    if (!path)
        return LV2_WORKER_ERR_UNKNOWN;
    ef_error err = {{0}};
    ef_lv2_slot *slot = ef_lv2_slot_new(p->variant, path, p->rate, p->max_block,
                                           &msg.settings, &err);
    if (!slot) {
        lv2_log_error(&p->logger, "earflow: cannot load model: %s; keeping the current one\n",
                      err.message);
        return LV2_WORKER_SUCCESS;
    }
    slot->chosen = load ? 1 : p->newest_chosen;
    if (load) {
        memmove(p->newest_path, path, strlen(path) + 1);
        p->newest_chosen = 1;
    }
    if (track(p, slot) != 0) {
        lv2_log_error(&p->logger, "earflow: %d new models are waiting for the audio thread; "
                      "dropping this one\n", EF_LV2_IN_FLIGHT);
        ef_lv2_slot_free(slot);
        return LV2_WORKER_ERR_NO_SPACE;
    }
    ef_lv2_msg reply = {.type = EF_LV2_MSG_READY, .slot = slot};
    if (respond(handle, sizeof reply, &reply) != LV2_WORKER_SUCCESS) {
        untrack(p, slot);
        ef_lv2_slot_free(slot);
        return LV2_WORKER_ERR_NO_SPACE;
    }
    return LV2_WORKER_SUCCESS;
}

/* Audio class: the new slot starts its warm-up and crossfade. */
LV2_Worker_Status ef_lv2_work_response(LV2_Handle instance, uint32_t size, const void *data)
{
    ef_lv2_plugin *p = instance;
    ef_lv2_msg msg;
    if (read_header(&msg, size, data) || msg.type != EF_LV2_MSG_READY || !msg.slot)
        return LV2_WORKER_ERR_UNKNOWN;
    untrack(p, msg.slot);
    ef_lv2_plugin_begin_swap(p, msg.slot);
    return LV2_WORKER_SUCCESS;
}
