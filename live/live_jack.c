/* The JACK backend of `earflow live`: a native client with named ports, connection
 * patterns, latency reported through the latency callback, and the buffer-size,
 * sample-rate, xrun and shutdown callbacks. Threading: on_process is the real-time
 * thread; the other callbacks run on JACK's notification thread and only store
 * atomics; everything else is the control (main) thread. */
#include "live_backend.h"

#include <errno.h>
#include <jack/jack.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct jack_backend {
    ef_live_session *session;
    jack_client_t *client;
    jack_port_t *in[EF_LIVE_MAX_CHANNELS], *out[EF_LIVE_MAX_CHANNELS];
    int n_in, n_out;
    ef_live_backend_options opts;
    atomic_int period;
    atomic_int shut_down;
    char shutdown_reason[256]; /* written before shut_down is set */
} jack_backend;

/* Real-time thread: the only callback that touches audio. */
static int on_process(jack_nframes_t n, void *arg)
{
    jack_backend *b = arg;
    ef_live_session_guard_enter(b->session); /* the whole callback, JACK calls included */
    const float *in[EF_LIVE_MAX_CHANNELS];
    float *out[EF_LIVE_MAX_CHANNELS];
    for (int c = 0; c < b->n_in; c++)
        in[c] = jack_port_get_buffer(b->in[c], n);
    for (int c = 0; c < b->n_out; c++)
        out[c] = jack_port_get_buffer(b->out[c], n);
    ef_live_session_process(b->session, in, out, (int)n);
    ef_live_session_guard_leave(b->session);
    return 0;
}

/* Larger periods than the engine's block are processed in pieces inside the
 * session, so nothing needs reallocating: just note the size. */
static int on_buffer_size(jack_nframes_t n, void *arg)
{
    jack_backend *b = arg;
    atomic_store(&b->period, (int)n);
    return 0;
}

/* The session passes silence until main has made an engine for the new rate. */
static int on_sample_rate(jack_nframes_t rate, void *arg)
{
    jack_backend *b = arg;
    ef_live_session_set_rate(b->session, (int)rate);
    return 0;
}

static int on_xrun(void *arg)
{
    jack_backend *b = arg;
    ef_live_session_count_xrun(b->session);
    return 0;
}

static void on_shutdown(jack_status_t code, const char *reason, void *arg)
{
    (void)code;
    jack_backend *b = arg;
    snprintf(b->shutdown_reason, sizeof b->shutdown_reason, "%s", reason ? reason : "");
    atomic_store(&b->shut_down, 1);
}

/* Our outputs are the engine's latency later than our inputs: capture latency flows
 * downstream (inputs + L onto outputs), playback latency upstream (outputs + L onto
 * inputs). */
static void on_latency(jack_latency_callback_mode_t mode, void *arg)
{
    jack_backend *b = arg;
    const jack_nframes_t latency = (jack_nframes_t)ef_live_session_latency(b->session);
    const bool capture = mode == JackCaptureLatency;
    jack_port_t **from = capture ? b->in : b->out, **to = capture ? b->out : b->in;
    const int n_from = capture ? b->n_in : b->n_out, n_to = capture ? b->n_out : b->n_in;
    jack_latency_range_t range = {UINT32_MAX, 0}, r;
    for (int i = 0; i < n_from; i++) {
        jack_port_get_latency_range(from[i], mode, &r);
        if (r.min < range.min)
            range.min = r.min;
        if (r.max > range.max)
            range.max = r.max;
    }
    if (range.min > range.max)
        range.min = range.max = 0;
    range.min += latency;
    range.max += latency;
    for (int i = 0; i < n_to; i++)
        jack_port_set_latency_range(to[i], mode, &range);
}

static void silent(const char *msg) { (void)msg; }

bool ef_live_jack_available(void)
{
    jack_set_error_function(silent);
    jack_set_info_function(silent);
    jack_status_t status;
    jack_client_t *c = jack_client_open("earflow-probe", JackNoStartServer, &status);
    if (c)
        jack_client_close(c);
    jack_set_error_function(NULL);
    jack_set_info_function(NULL);
    return c != NULL;
}

/* Connects our ports to those matching `pattern` (a JACK port regex, or "physical").
 * Inputs: the k-th match feeds our input k mod N (physical: only the first N).
 * Outputs: our output k mod N feeds the k-th match (a mono output reaches every
 * matched port, e.g. both headphone sides). Returns the connections made. */
static int connect_pattern(jack_backend *b, const char *pattern, bool inputs, ef_error *err)
{
    const bool physical = strcmp(pattern, "physical") == 0;
    unsigned long flags = (inputs ? JackPortIsOutput : JackPortIsInput) |
                          (physical ? JackPortIsPhysical : 0);
    const char **ports = jack_get_ports(b->client, physical ? NULL : pattern,
                                        JACK_DEFAULT_AUDIO_TYPE, flags);
    const char *self = jack_get_client_name(b->client);
    const size_t self_len = strlen(self);
    int made = 0, k = 0;
    for (int i = 0; ports && ports[i]; i++) {
        if (strncmp(ports[i], self, self_len) == 0 && ports[i][self_len] == ':')
            continue; /* never our own ports */
        int ours_n = inputs ? b->n_in : b->n_out;
        if (inputs && physical && k >= ours_n)
            break;
        jack_port_t *ours = inputs ? b->in[k % ours_n] : b->out[k % ours_n];
        const char *src = inputs ? ports[i] : jack_port_name(ours);
        const char *dst = inputs ? jack_port_name(ours) : ports[i];
        int rc = jack_connect(b->client, src, dst);
        if (rc != 0 && rc != EEXIST) {
            ef_error_set(err, "cannot connect %s to %s", src, dst);
            jack_free(ports);
            return -1;
        }
        made++;
        k++;
    }
    if (ports)
        jack_free(ports);
    if (made == 0)
        ef_error_set(err, "--connect-%s %s: no JACK %s port matches", inputs ? "in" : "out",
                     pattern, inputs ? "output" : "input");
    return made;
}

static int jack_start(void *impl, ef_error *err)
{
    jack_backend *b = impl;
    if (jack_activate(b->client) != 0) {
        ef_error_set(err, "cannot activate the JACK client");
        return -1;
    }
    for (int i = 0; i < b->opts.n_connect_in; i++)
        if (connect_pattern(b, b->opts.connect_in[i], true, err) <= 0)
            return -1;
    for (int i = 0; i < b->opts.n_connect_out; i++)
        if (connect_pattern(b, b->opts.connect_out[i], false, err) <= 0)
            return -1;
    return 0;
}

static void jack_latency_changed(void *impl)
{
    jack_backend *b = impl;
    jack_recompute_total_latencies(b->client);
}

static bool jack_failed(void *impl, char *why, size_t len)
{
    jack_backend *b = impl;
    if (!atomic_load(&b->shut_down))
        return false;
    snprintf(why, len, "the JACK server shut down%s%s", b->shutdown_reason[0] ? ": " : "",
             b->shutdown_reason);
    return true;
}

static void jack_describe(void *impl, char *buf, size_t len)
{
    jack_backend *b = impl;
    snprintf(buf, len, "JACK client %s, %u Hz, %d-frame periods", jack_get_client_name(b->client),
             (unsigned)jack_get_sample_rate(b->client), atomic_load(&b->period));
}

static void jack_close_backend(void *impl)
{
    jack_backend *b = impl;
    if (b->client) {
        if (!atomic_load(&b->shut_down))
            jack_deactivate(b->client);
        jack_client_close(b->client);
    }
    free(b);
}

static const ef_live_backend_ops jack_ops = {
    .name = "jack",
    .start = jack_start,
    .latency_changed = jack_latency_changed,
    .failed = jack_failed,
    .describe = jack_describe,
    .close = jack_close_backend,
};

ef_live_backend *ef_live_jack_open(ef_live_session *s, const ef_live_backend_options *o,
                                   ef_error *err)
{
    jack_backend *b = calloc(1, sizeof *b);
    if (!b) {
        ef_error_set(err, "out of memory");
        return NULL;
    }
    b->session = s;
    b->opts = *o;
    b->n_in = ef_live_session_in_channels(s);
    b->n_out = ef_live_session_out_channels(s);
    atomic_init(&b->shut_down, 0);
    jack_status_t status;
    /* libjack prints several lines when no server runs; our one line says it all. */
    jack_set_error_function(silent);
    jack_set_info_function(silent);
    b->client = jack_client_open(o->client_name, JackNoStartServer, &status);
    jack_set_error_function(NULL);
    jack_set_info_function(NULL);
    if (!b->client) {
        ef_error_set(err, "cannot connect to a JACK server (status 0x%x); is one running? "
                     "(see README, 'Live')", (unsigned)status);
        free(b);
        return NULL;
    }
    atomic_init(&b->period, (int)jack_get_buffer_size(b->client));
    ef_live_session_set_rate(s, (int)jack_get_sample_rate(b->client));
    bool ok = jack_set_process_callback(b->client, on_process, b) == 0 &&
              jack_set_buffer_size_callback(b->client, on_buffer_size, b) == 0 &&
              jack_set_sample_rate_callback(b->client, on_sample_rate, b) == 0 &&
              jack_set_xrun_callback(b->client, on_xrun, b) == 0 &&
              jack_set_latency_callback(b->client, on_latency, b) == 0;
    jack_on_info_shutdown(b->client, on_shutdown, b);
    for (int c = 0; ok && c < b->n_in; c++)
        ok = (b->in[c] = jack_port_register(b->client, o->in_port_names[c], JACK_DEFAULT_AUDIO_TYPE,
                                            JackPortIsInput, 0)) != NULL;
    for (int c = 0; ok && c < b->n_out; c++)
        ok = (b->out[c] = jack_port_register(b->client, o->out_port_names[c],
                                             JACK_DEFAULT_AUDIO_TYPE, JackPortIsOutput, 0)) != NULL;
    if (!ok) {
        ef_error_set(err, "cannot set up the JACK client (callbacks or ports)");
        jack_client_close(b->client);
        free(b);
        return NULL;
    }
    return ef_live_backend_wrap(&jack_ops, b, err);
}
