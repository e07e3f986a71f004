/* earflow LV2 plugins: Binaural, Separate and Separate (stereo). Glue between the
 * host and the engine (model/earflow.h), in the order the host calls it. */
#include "ef_lv2_plugin.h"


#include <lv2/buf-size/buf-size.h>
#include <lv2/options/options.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#if defined(__SSE__)
#include <xmmintrin.h>
#endif

/* ------------------------------------------------------------ instantiation class */

ef_lv2_slot *ef_lv2_plugin_make_slot(ef_lv2_plugin *p, const char *path, int *chosen)
{
    ef_error err = {{0}};
    ef_lv2_slot *slot = NULL;
    *chosen = 0;
    if (path && path[0]) {
        slot = ef_lv2_slot_new(p->variant, path, p->rate, p->max_block, &p->applied, &err);
        if (slot) {
            *chosen = 1;
        } else {
            lv2_log_warning(&p->logger, "earflow: cannot load model: %s; using the default model\n",
                            err.message);
        }
    }
    if (!slot && p->default_path[0]) {
        slot = ef_lv2_slot_new(p->variant, p->default_path, p->rate, p->max_block,
                                  &p->applied, &err);
        if (!slot)
            lv2_log_warning(&p->logger, "earflow: cannot load the default model: %s; "
                            "passing the dry signal\n", err.message);
    }
    if (!slot) {
        slot = ef_lv2_slot_new(p->variant, NULL, p->rate, p->max_block, &p->applied, &err);
        if (!slot)
            lv2_log_error(&p->logger, "earflow: %s\n", err.message);
    }
    if (slot) {
        slot->chosen = *chosen;
        strcpy(p->newest_path, slot->path);
        p->newest_chosen = *chosen;
    }
    return slot;
}

static int read_max_block(ef_lv2_plugin *p, const LV2_Options_Option *options)
{
    int max_block = EF_LV2_DEFAULT_MAX_BLOCK;
    for (const LV2_Options_Option *o = options; p->map && o && o->key; o++)
        if (o->key == p->uris.bufsz_maxBlockLength && o->type == p->uris.atom_Int &&
            o->size == sizeof(int32_t)) {
            int32_t v = *(const int32_t *)o->value;
            /* Larger host blocks are processed in chunks of our maximum. */
            if (v >= 1 && v < max_block)
                max_block = v;
        }
    return max_block;
}

static void cleanup(LV2_Handle instance);

static LV2_Handle instantiate(const LV2_Descriptor *descriptor, double rate,
                              const char *bundle_path, const LV2_Feature *const *features)
{
    const ef_lv2_variant *variant = ef_lv2_variant_find(descriptor->URI);
    if (!variant)
        return NULL;
    ef_lv2_plugin *p = calloc(1, sizeof *p);
    if (!p)
        return NULL;
    p->variant = variant;
    for (int i = 0; i < EF_LV2_IN_FLIGHT; i++)
        atomic_init(&p->in_flight[i], NULL);
    atomic_init(&p->restored, NULL);
    LV2_Log_Log *log = NULL;
    const LV2_Options_Option *options = NULL;
    for (int i = 0; features && features[i]; i++) {
        const char *uri = features[i]->URI;
        if (!uri)
            continue; /* seen from lv2file */
        if (!strcmp(uri, LV2_URID__map))
            p->map = features[i]->data;
        else if (!strcmp(uri, LV2_LOG__log))
            log = features[i]->data;
        else if (!strcmp(uri, LV2_WORKER__schedule))
            p->schedule = features[i]->data;
        else if (!strcmp(uri, LV2_OPTIONS__options))
            options = features[i]->data;
    }
    /* Why no required features: lv2apply gives none; we then run the default model
     * with fixed controls (no model changes, no log but stderr). */
    lv2_log_logger_init(&p->logger, p->map, log);
    if (p->map) {
        ef_lv2_uris_map(&p->uris, p->map);
        lv2_atom_forge_init(&p->forge, p->map);
    }
    if (!(rate >= 8000.0 && rate <= 192000.0) || rate != floor(rate)) {
        lv2_log_error(&p->logger, "earflow: sample rate %g Hz is not supported "
                      "(whole numbers from 8000 to 192000 Hz)\n", rate);
        free(p);
        return NULL;
    }
    p->rate = rate;
    p->max_block = read_max_block(p, options);
    snprintf(p->bundle_path, sizeof p->bundle_path, "%s", bundle_path ? bundle_path : "");
    ef_error err = {{0}};
    if (ef_model_find_file(variant->model_name, p->bundle_path, p->default_path,
                           sizeof p->default_path, &err) != 0)
        lv2_log_warning(&p->logger, "earflow: %s; passing the dry signal until a model file "
                        "is chosen\n", err.message);
    ef_lv2_settings_default(&p->applied);
    int chosen;
    if (ef_lv2_switch_init(&p->sw, variant, rate, p->max_block) != 0 ||
        !(p->sw.current = ef_lv2_plugin_make_slot(p, NULL, &chosen))) {
        cleanup(p);
        return NULL;
    }
    p->fresh = 1;
    return p;
}

static void connect_port(LV2_Handle instance, uint32_t port, void *data)
{
    ef_lv2_plugin *p = instance;
    ef_lv2_role role = EF_LV2_ROLE_COUNT;
    ef_control control;
    const int what = ef_lv2_variant_port(p->variant, port, &role, &control);
    if (what == 1)
        p->controls[control] = data;
    if (what != 0)
        return;
    if (role == EF_LV2_CONTROL)
        p->control = data;
    else if (role == EF_LV2_NOTIFY)
        p->notify = data;
    else
        p->ports[role] = data;
}

static void reset_slot(ef_lv2_slot *slot)
{
    for (int i = 0; slot && i < slot->n_engines; i++)
        ef_engine_reset(slot->engines[i]);
}

/* Instantiation class: clears all history; the first run snaps to the controls. */
static void activate(LV2_Handle instance)
{
    ef_lv2_plugin *p = instance;
    reset_slot(p->sw.current);
    reset_slot(p->sw.incoming);
    p->sw.incoming_age = 0;
    p->fresh = 1;
}

/* ------------------------------------------------------------ audio class */

void ef_lv2_plugin_retire(ef_lv2_plugin *p, ef_lv2_slot *slot)
{
    if (!slot)
        return;
    if (p->n_retire < EF_LV2_RETIRE_QUEUE)
        p->retire[p->n_retire++] = slot;
    /* else: the worker has stopped answering for 32 swaps; leaking the slot is the
     * only real-time safe choice left. */
}

static void for_each_engine(ef_lv2_plugin *p, void (*fn)(ef_lv2_plugin *, ef_lv2_slot *, ef_engine *))
{
    ef_lv2_slot *slots[2] = {p->sw.current, p->sw.incoming};
    for (int s = 0; s < 2; s++)
        for (int i = 0; slots[s] && i < slots[s]->n_engines; i++)
            fn(p, slots[s], slots[s]->engines[i]);
}

static void apply_all(ef_lv2_plugin *p, ef_lv2_slot *slot, ef_engine *e)
{
    if (ef_lv2_settings_apply(&p->applied, e))
        p->refused = slot;
}

void ef_lv2_plugin_begin_swap(ef_lv2_plugin *p, ef_lv2_slot *slot)
{
    for (int i = 0; i < slot->n_engines; i++)
        apply_all(p, slot, slot->engines[i]);
    ef_lv2_plugin_retire(p, ef_lv2_switch_begin(&p->sw, slot));
    /* The new model is what state saves and notify reports from now on. */
    if (slot->chosen)
        memcpy(p->chosen_path, slot->path, strlen(slot->path) + 1);
    else
        p->chosen_path[0] = 0;
    p->notify_path = 1;
}

/* Audio thread: a slot made by restore(). Before the first run since activate (a
 * session loading) it replaces the current one outright; while playing it is
 * crossfaded in like a model chosen on the control port. */
static void adopt_restored(ef_lv2_plugin *p)
{
    ef_lv2_slot *slot = atomic_exchange(&p->restored, NULL);
    if (!slot)
        return;
    if (!p->fresh) {
        ef_lv2_plugin_begin_swap(p, slot);
        return;
    }
    ef_lv2_plugin_retire(p, p->sw.current);
    ef_lv2_plugin_retire(p, p->sw.incoming);
    p->sw.current = slot;
    p->sw.incoming = NULL;
    if (slot->chosen)
        memcpy(p->chosen_path, slot->path, strlen(slot->path) + 1);
    else
        p->chosen_path[0] = 0;
    p->notify_path = 1;
}

static void snap(ef_lv2_plugin *p, ef_lv2_slot *slot, ef_engine *e)
{
    apply_all(p, slot, e);
    /* Why reset: it starts the smoothers at the controls; after activate there is no
     * history to lose, and it neither allocates nor locks (rt_guard test). */
    ef_engine_reset(e);
}

static void apply_changed(ef_lv2_plugin *p, ef_lv2_slot *slot, ef_engine *e)
{
    if (ef_lv2_settings_apply_changes(&p->previous, &p->applied, e))
        p->refused = slot;
}

static void apply_steps(ef_lv2_plugin *p, ef_lv2_slot *slot, ef_engine *e)
{
    (void)slot;
    ef_engine_set_control(e, EF_CONTROL_STEPS, p->applied.value[EF_CONTROL_STEPS]);
}

/* Sends the queued requests to the worker. Last in run(): a host with a synchronous
 * worker (lv2file) calls work() and even work_response() from inside schedule_work. */
static void send_requests(ef_lv2_plugin *p, const char *load_path, int rebuild)
{
    if (!p->schedule)
        return;
    /* First: the slot may be among those retired below, which the worker frees in
     * the order sent. */
    if (p->refused) {
        ef_lv2_msg msg = {.type = EF_LV2_MSG_REFUSED, .slot = p->refused, .settings = p->applied};
        p->schedule->schedule_work(p->schedule->handle, sizeof msg, &msg);
        p->refused = NULL;
    }
    int kept = 0;
    for (int i = 0; i < p->n_retire; i++) {
        ef_lv2_msg msg = {.type = EF_LV2_MSG_FREE, .slot = p->retire[i]};
        if (p->schedule->schedule_work(p->schedule->handle, sizeof msg, &msg) != LV2_WORKER_SUCCESS)
            p->retire[kept++] = p->retire[i]; /* try again next run */
    }
    p->n_retire = kept;
    if (load_path) {
        size_t len = strlen(load_path);
        if (len >= EF_LV2_PATH_MAX)
            return;
        union { ef_lv2_msg msg; char bytes[sizeof(ef_lv2_msg) + EF_LV2_PATH_MAX]; } buf;
        memset(&buf.msg, 0, sizeof buf.msg);
        buf.msg.type = EF_LV2_MSG_LOAD;
        buf.msg.settings = p->applied;
        memcpy(buf.msg.path, load_path, len + 1);
        p->schedule->schedule_work(p->schedule->handle, (uint32_t)(sizeof buf.msg + len + 1), &buf);
    } else if (rebuild) {
        ef_lv2_msg msg = {.type = EF_LV2_MSG_REBUILD, .settings = p->applied};
        p->schedule->schedule_work(p->schedule->handle, sizeof msg, &msg);
    }
}

static int audio_connected(const ef_lv2_plugin *p)
{
    const ef_lv2_variant *v = p->variant;
    int ok = p->ports[EF_LV2_IN_L] && p->ports[EF_LV2_OUT_L];
    if (v->channels == 2)
        ok &= p->ports[EF_LV2_IN_R] != NULL;
    if (v->outputs == 2)
        ok &= p->ports[EF_LV2_OUT_R] != NULL;
    return ok;
}

/* Audio class: no allocation, lock, log or file access (tests/test_lv2_rt.c). */
static void run(LV2_Handle instance, uint32_t n_samples)
{
    ef_lv2_plugin *p = instance;
#if defined(__SSE__)
    const unsigned int csr = _mm_getcsr();
    _mm_setcsr(csr | 0x8040u); /* FTZ | DAZ: no denormal slow-down in the crossfade */
#endif
    adopt_restored(p);
    const char *load_path = p->map && p->control ? ef_lv2_patch_read(p) : NULL;
    p->previous = p->applied;
    ef_lv2_settings_read(&p->applied, p->controls);
    int rebuild = 0;
    if (p->fresh) {
        for_each_engine(p, snap);
        p->fresh = 0;
    } else {
        for_each_engine(p, apply_changed);
        if (p->applied.value[EF_CONTROL_STEPS] != p->previous.value[EF_CONTROL_STEPS]) {
            /* Crossfade to a rebuilt engine whose history has settled at the new
             * schedule when a worker can build it, else switch in place (the engine
             * carries the history over, ef_engine_set_schedule). */
            if (p->schedule && !p->sw.current->is_identity)
                rebuild = 1;
            else
                for_each_engine(p, apply_steps);
        }
    }
    if (n_samples > 0 && audio_connected(p)) {
        const float *in[2] = {p->ports[EF_LV2_IN_L], p->ports[EF_LV2_IN_R]};
        float *out[2] = {p->ports[EF_LV2_OUT_L], p->ports[EF_LV2_OUT_R]};
        ef_lv2_slot *retired = ef_lv2_switch_process(&p->sw, in, out, (int)n_samples);
        ef_lv2_plugin_retire(p, retired);
    }
    if (p->ports[EF_LV2_LATENCY])
        *p->ports[EF_LV2_LATENCY] = (float)p->sw.current->latency;
    if (p->ports[EF_LV2_STEPS])
        *p->ports[EF_LV2_STEPS] = (float)ef_engine_running_steps(p->sw.current->engines[0]);
    if (p->map && p->notify)
        ef_lv2_patch_write(p);
#if defined(__SSE__)
    _mm_setcsr(csr);
#endif
    send_requests(p, load_path, rebuild);
}

static void deactivate(LV2_Handle instance) { (void)instance; }

/* ------------------------------------------------------------ instantiation class */

static void cleanup(LV2_Handle instance)
{
    ef_lv2_plugin *p = instance;
    for (int i = 0; i < p->n_retire; i++)
        ef_lv2_slot_free(p->retire[i]);
    /* Answers of the worker that the host dropped (deactivated before delivering). */
    for (int i = 0; i < EF_LV2_IN_FLIGHT; i++)
        ef_lv2_slot_free(atomic_load(&p->in_flight[i]));
    ef_lv2_slot_free(atomic_load(&p->restored));
    ef_lv2_switch_free(&p->sw);
    free(p);
}

static const void *extension_data(const char *uri)
{
    static const LV2_Worker_Interface worker = {ef_lv2_work, ef_lv2_work_response, NULL};
    static const LV2_State_Interface state = {ef_lv2_state_save, ef_lv2_state_restore};
    if (!strcmp(uri, LV2_WORKER__interface))
        return &worker;
    if (!strcmp(uri, LV2_STATE__interface))
        return &state;
    return NULL;
}

#define DESCRIPTOR(uri) \
    {uri, instantiate, connect_port, activate, run, deactivate, cleanup, extension_data}

static const LV2_Descriptor descriptors[] = {
    DESCRIPTOR(EF_LV2_URI_BINAURAL),
    DESCRIPTOR(EF_LV2_URI_SEPARATE),
    DESCRIPTOR(EF_LV2_URI_SEPARATE_STEREO),
};

LV2_SYMBOL_EXPORT const LV2_Descriptor *lv2_descriptor(uint32_t index)
{
    return index < sizeof descriptors / sizeof descriptors[0] ? &descriptors[index] : NULL;
}
