#include "lv2_test_host.h"

#include <lv2/atom/atom.h>
#include <lv2/atom/forge.h>
#include <lv2/buf-size/buf-size.h>
#include <lv2/log/log.h>
#include <lv2/options/options.h>
#include <lv2/patch/patch.h>
#include <lv2/state/state.h>
#include <lv2/urid/urid.h>
#include <lv2/worker/worker.h>

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_URIS 256
#define MAX_PORTS 32
#define ATOM_CAPACITY 8192
#define QUEUE_BYTES 65536

/* A byte queue of [uint32 size][data] records, preallocated (no malloc in run()). */
typedef struct queue {
    unsigned char bytes[QUEUE_BYTES];
    size_t used;
} queue;

struct lv2_host {
    LilvWorld *world;
    const LilvPlugin *plugin;
    LilvInstance *instance;
    const LV2_Worker_Interface *worker;
    char *uris[MAX_URIS];
    int n_uris;
    LV2_URID_Map map;
    LV2_URID_Unmap unmap;
    LV2_Log_Log log;
    LV2_Worker_Schedule schedule;
    int32_t max_block;
    LV2_Options_Option options[3];
    LV2_Feature f_map, f_unmap, f_log, f_schedule, f_options;
    const LV2_Feature *features[8];
    float controls[MAX_PORTS];
    int n_ports, audio_in[2], audio_out[2], n_in, n_out;
    int control_port, notify_port;
    uint64_t control_buf[ATOM_CAPACITY / 8], notify_buf[ATOM_CAPACITY / 8];
    char pending_path[2048];
    queue requests, responses;
    char log_text[16384];
    const rt_guard_api *guard;
};

static LV2_URID map_uri(LV2_URID_Map_Handle handle, const char *uri)
{
    lv2_host *h = handle;
    for (int i = 0; i < h->n_uris; i++)
        if (!strcmp(h->uris[i], uri))
            return (LV2_URID)i + 1;
    if (h->n_uris == MAX_URIS)
        return 0;
    h->uris[h->n_uris++] = strdup(uri);
    return (LV2_URID)h->n_uris;
}

static const char *unmap_uri(LV2_URID_Unmap_Handle handle, LV2_URID urid)
{
    lv2_host *h = handle;
    return urid >= 1 && (int)urid <= h->n_uris ? h->uris[urid - 1] : NULL;
}

static int log_vprintf(LV2_Log_Handle handle, LV2_URID type, const char *fmt, va_list ap)
{
    (void)type;
    lv2_host *h = handle;
    size_t used = strlen(h->log_text);
    return vsnprintf(h->log_text + used, sizeof h->log_text - used, fmt, ap);
}

static int log_printf(LV2_Log_Handle handle, LV2_URID type, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int r = log_vprintf(handle, type, fmt, ap);
    va_end(ap);
    return r;
}

static int queue_push(queue *q, uint32_t size, const void *data)
{
    if (q->used + sizeof size + size > QUEUE_BYTES)
        return -1;
    memcpy(q->bytes + q->used, &size, sizeof size);
    memcpy(q->bytes + q->used + sizeof size, data, size);
    q->used += sizeof size + size;
    return 0;
}

static LV2_Worker_Status schedule_work(LV2_Worker_Schedule_Handle handle, uint32_t size,
                                       const void *data)
{
    lv2_host *h = handle;
    return queue_push(&h->requests, size, data) ? LV2_WORKER_ERR_NO_SPACE : LV2_WORKER_SUCCESS;
}

static LV2_Worker_Status respond(LV2_Worker_Respond_Handle handle, uint32_t size, const void *data)
{
    lv2_host *h = handle;
    return queue_push(&h->responses, size, data) ? LV2_WORKER_ERR_NO_SPACE : LV2_WORKER_SUCCESS;
}

/* Calls fn on each record and empties the queue (records are copied first: fn may
 * push to the queue being drained only in the other queue, never this one). */
static void drain(lv2_host *h, queue *q, int responses)
{
    static unsigned char copy[QUEUE_BYTES];
    size_t used = q->used;
    memcpy(copy, q->bytes, used);
    q->used = 0;
    LV2_Handle handle = lilv_instance_get_handle(h->instance);
    for (size_t at = 0; at < used;) {
        uint32_t size;
        memcpy(&size, copy + at, sizeof size);
        const void *data = copy + at + sizeof size;
        if (responses)
            h->worker->work_response(handle, size, data);
        else
            h->worker->work(handle, respond, h, size, data);
        at += sizeof size + size;
    }
}

lv2_host *lv2_host_new(const char *uri, double rate, int max_block, int features)
{
    lv2_host *h = calloc(1, sizeof *h);
    h->world = lilv_world_new();
    lilv_world_load_all(h->world);
    LilvNode *uri_node = lilv_new_uri(h->world, uri);
    h->plugin = lilv_plugins_get_by_uri(lilv_world_get_all_plugins(h->world), uri_node);
    lilv_node_free(uri_node);
    if (!h->plugin) {
        fprintf(stderr, "lv2_test_host: %s not found in LV2_PATH=%s\n", uri, getenv("LV2_PATH"));
        lv2_host_free(h);
        return NULL;
    }
    h->map = (LV2_URID_Map){h, map_uri};
    h->unmap = (LV2_URID_Unmap){h, unmap_uri};
    h->log = (LV2_Log_Log){h, log_printf, log_vprintf};
    h->schedule = (LV2_Worker_Schedule){h, schedule_work};
    h->max_block = max_block;
    int n = 0;
    h->f_map = (LV2_Feature){LV2_URID__map, &h->map};
    h->f_unmap = (LV2_Feature){LV2_URID__unmap, &h->unmap};
    h->f_log = (LV2_Feature){LV2_LOG__log, &h->log};
    h->f_schedule = (LV2_Feature){LV2_WORKER__schedule, &h->schedule};
    if (features & LV2_HOST_MAP) {
        h->features[n++] = &h->f_map;
        h->features[n++] = &h->f_unmap;
    }
    if (features & LV2_HOST_LOG)
        h->features[n++] = &h->f_log;
    if (features & LV2_HOST_WORKER)
        h->features[n++] = &h->f_schedule;
    if ((features & LV2_HOST_OPTIONS) && (features & LV2_HOST_MAP)) {
        h->options[0] = (LV2_Options_Option){LV2_OPTIONS_INSTANCE, 0,
                                             map_uri(h, LV2_BUF_SIZE__maxBlockLength),
                                             sizeof(int32_t), map_uri(h, LV2_ATOM__Int),
                                             &h->max_block};
        h->f_options = (LV2_Feature){LV2_OPTIONS__options, h->options};
        h->features[n++] = &h->f_options;
    }
    h->features[n] = NULL;
    h->instance = lilv_plugin_instantiate(h->plugin, rate, h->features);
    if (!h->instance) {
        fprintf(stderr, "lv2_test_host: %s did not instantiate\n", uri);
        lv2_host_free(h);
        return NULL;
    }
    h->worker = lilv_instance_get_extension_data(h->instance, LV2_WORKER__interface);
    h->n_ports = (int)lilv_plugin_get_num_ports(h->plugin);
    h->control_port = h->notify_port = -1;
    LilvNode *audio = lilv_new_uri(h->world, LV2_CORE__AudioPort);
    LilvNode *control = lilv_new_uri(h->world, LV2_CORE__ControlPort);
    LilvNode *input = lilv_new_uri(h->world, LV2_CORE__InputPort);
    LilvNode *atom = lilv_new_uri(h->world, LV2_ATOM__AtomPort);
    float defaults[MAX_PORTS];
    lilv_plugin_get_port_ranges_float(h->plugin, NULL, NULL, defaults);
    for (int i = 0; i < h->n_ports; i++) {
        const LilvPort *port = lilv_plugin_get_port_by_index(h->plugin, (uint32_t)i);
        int is_in = lilv_port_is_a(h->plugin, port, input);
        if (lilv_port_is_a(h->plugin, port, audio)) {
            if (is_in)
                h->audio_in[h->n_in++] = i;
            else
                h->audio_out[h->n_out++] = i;
        } else if (lilv_port_is_a(h->plugin, port, control)) {
            h->controls[i] = defaults[i] == defaults[i] ? defaults[i] : 0.0f;
            lilv_instance_connect_port(h->instance, (uint32_t)i, &h->controls[i]);
        } else if (lilv_port_is_a(h->plugin, port, atom) && (features & LV2_HOST_MAP)) {
            if (is_in) {
                h->control_port = i;
                lilv_instance_connect_port(h->instance, (uint32_t)i, h->control_buf);
            } else {
                h->notify_port = i;
                lilv_instance_connect_port(h->instance, (uint32_t)i, h->notify_buf);
            }
        }
    }
    lilv_node_free(audio);
    lilv_node_free(control);
    lilv_node_free(input);
    lilv_node_free(atom);
    lilv_instance_activate(h->instance);
    return h;
}

void lv2_host_free(lv2_host *h)
{
    if (!h)
        return;
    if (h->instance) {
        lilv_instance_deactivate(h->instance);
        /* The plugin retires slots through the worker: let it free them. */
        if (h->worker)
            drain(h, &h->requests, 0);
        lilv_instance_free(h->instance);
    }
    lilv_world_free(h->world);
    for (int i = 0; i < h->n_uris; i++)
        free(h->uris[i]);
    free(h);
}

void lv2_host_guard(lv2_host *h, const rt_guard_api *guard) { h->guard = guard; }

static int port_index(lv2_host *h, const char *symbol)
{
    LilvNode *sym = lilv_new_string(h->world, symbol);
    const LilvPort *port = lilv_plugin_get_port_by_symbol(h->plugin, sym);
    lilv_node_free(sym);
    if (!port) {
        fprintf(stderr, "lv2_test_host: no port %s\n", symbol);
        abort();
    }
    return (int)lilv_port_get_index(h->plugin, port);
}

void lv2_host_set(lv2_host *h, const char *symbol, float value)
{
    h->controls[port_index(h, symbol)] = value;
}

float lv2_host_get(lv2_host *h, const char *symbol) { return h->controls[port_index(h, symbol)]; }

void lv2_host_send_path(lv2_host *h, const char *path)
{
    snprintf(h->pending_path, sizeof h->pending_path, "%s", path);
}

/* Fills the control port: an empty sequence, or a patch:Set of the pending path. */
static void prepare_atoms(lv2_host *h)
{
    if (h->control_port < 0)
        return;
    LV2_Atom_Forge forge;
    lv2_atom_forge_init(&forge, &h->map);
    lv2_atom_forge_set_buffer(&forge, (uint8_t *)h->control_buf, sizeof h->control_buf);
    LV2_Atom_Forge_Frame seq, obj;
    lv2_atom_forge_sequence_head(&forge, &seq, 0);
    if (h->pending_path[0]) {
        lv2_atom_forge_frame_time(&forge, 0);
        lv2_atom_forge_object(&forge, &obj, 0, map_uri(h, LV2_PATCH__Set));
        lv2_atom_forge_key(&forge, map_uri(h, LV2_PATCH__property));
        lv2_atom_forge_urid(&forge, map_uri(h, "urn:earflow:model"));
        lv2_atom_forge_key(&forge, map_uri(h, LV2_PATCH__value));
        lv2_atom_forge_path(&forge, h->pending_path, (uint32_t)strlen(h->pending_path));
        lv2_atom_forge_pop(&forge, &obj);
        h->pending_path[0] = 0;
    }
    lv2_atom_forge_pop(&forge, &seq);
    LV2_Atom *notify = (LV2_Atom *)h->notify_buf;
    notify->type = 0;
    notify->size = sizeof h->notify_buf - sizeof(LV2_Atom);
}

void lv2_host_run(lv2_host *h, const float *const *in, float *const *out, int n)
{
    prepare_atoms(h); /* may map URIs: outside the guard */
    for (int c = 0; in && c < h->n_in; c++)
        lilv_instance_connect_port(h->instance, (uint32_t)h->audio_in[c], (void *)in[c]);
    for (int c = 0; out && c < h->n_out; c++)
        lilv_instance_connect_port(h->instance, (uint32_t)h->audio_out[c], out[c]);
    if (h->guard)
        h->guard->enter();
    if (h->worker)
        drain(h, &h->responses, 1);
    lilv_instance_run(h->instance, (uint32_t)n);
    if (h->guard)
        h->guard->leave();
    if (h->worker)
        drain(h, &h->requests, 0);
}

void lv2_host_process(lv2_host *h, const float *const *in, float *const *out, long n,
                      const int *sizes)
{
    int k = 0;
    for (long at = 0; at < n;) {
        long m = sizes[k] < n - at ? sizes[k] : n - at;
        const float *bin[2] = {in[0] + at, h->n_in > 1 ? in[1] + at : NULL};
        float *bout[2] = {out[0] + at, h->n_out > 1 ? out[1] + at : NULL};
        lv2_host_run(h, bin, bout, (int)m);
        at += m;
        if (!sizes[++k])
            k = 0;
    }
}

int lv2_host_inputs(const lv2_host *h) { return h->n_in; }

int lv2_host_control_inputs(lv2_host *h, const char **symbols, float *min, float *max, int cap)
{
    float mins[MAX_PORTS], maxes[MAX_PORTS];
    lilv_plugin_get_port_ranges_float(h->plugin, mins, maxes, NULL);
    LilvNode *control = lilv_new_uri(h->world, LV2_CORE__ControlPort);
    LilvNode *input = lilv_new_uri(h->world, LV2_CORE__InputPort);
    int n = 0;
    for (int i = 0; i < h->n_ports && n < cap; i++) {
        const LilvPort *port = lilv_plugin_get_port_by_index(h->plugin, (uint32_t)i);
        if (!lilv_port_is_a(h->plugin, port, control) || !lilv_port_is_a(h->plugin, port, input))
            continue;
        symbols[n] = lilv_node_as_string(lilv_port_get_symbol(h->plugin, port));
        min[n] = mins[i];
        max[n] = maxes[i];
        n++;
    }
    lilv_node_free(control);
    lilv_node_free(input);
    return n;
}
int lv2_host_outputs(const lv2_host *h) { return h->n_out; }
const char *lv2_host_log(const lv2_host *h) { return h->log_text; }

static const void *get_port_value(const char *symbol, void *user_data, uint32_t *size,
                                  uint32_t *type)
{
    lv2_host *h = user_data;
    LilvNode *sym = lilv_new_string(h->world, symbol);
    const LilvPort *port = lilv_plugin_get_port_by_symbol(h->plugin, sym);
    lilv_node_free(sym);
    int i = port ? (int)lilv_port_get_index(h->plugin, port) : -1;
    LilvNode *input = lilv_new_uri(h->world, LV2_CORE__InputPort);
    LilvNode *control = lilv_new_uri(h->world, LV2_CORE__ControlPort);
    int ok = i >= 0 && lilv_port_is_a(h->plugin, port, input) && lilv_port_is_a(h->plugin, port, control);
    lilv_node_free(input);
    lilv_node_free(control);
    if (!ok)
        return NULL;
    *size = sizeof(float);
    *type = map_uri(h, LV2_ATOM__Float);
    return &h->controls[i];
}

static void set_port_value(const char *symbol, void *user_data, const void *value,
                           uint32_t size, uint32_t type)
{
    lv2_host *h = user_data;
    if (size == sizeof(float) && type == map_uri(h, LV2_ATOM__Float))
        lv2_host_set(h, symbol, *(const float *)value);
}

int lv2_host_save(lv2_host *h, const char *dir)
{
    LilvState *state = lilv_state_new_from_instance(h->plugin, h->instance, &h->map, NULL, dir,
                                                    dir, dir, get_port_value, h, 0, h->features);
    if (!state)
        return -1;
    int rc = lilv_state_save(h->world, &h->map, &h->unmap, state, NULL, dir, "state.ttl");
    lilv_state_free(state);
    return rc;
}

int lv2_host_restore(lv2_host *h, const char *dir)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/state.ttl", dir);
    LilvState *state = lilv_state_new_from_file(h->world, &h->map, NULL, path);
    if (!state)
        return -1;
    lilv_state_restore(state, h->instance, set_port_value, h, 0, h->features);
    lilv_state_free(state);
    return 0;
}
