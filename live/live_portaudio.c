/* The PortAudio backend of `earflow live` (ALSA, OSS, or JACK through PortAudio's
 * JACK host API): one duplex stream with a fixed number of frames per buffer.
 * Threading: on_audio is the real-time thread; the rest is the control thread. */
#include "clock.h"
#include "live_backend.h"
#include "number.h"

#include <ctype.h>
#include <fcntl.h>
#include <pa_jack.h>
#include <portaudio.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

/* No callback for this long while running: the device is gone (PortAudio's JACK host
 * API never finishes the stream when the server dies; it just stops calling). */
#define STALL_SECONDS 5.0

typedef struct pa_backend {
    ef_live_session *session;
    PaStream *stream;
    int n_in, n_out, buffer, rate;
    PaDeviceIndex in_dev, out_dev;
    atomic_int stopping, finished;
    atomic_long callbacks;
    long seen;      /* control thread: callbacks at seen_at */
    double seen_at;
    bool dead;      /* control thread: the stream is lost; do not touch it again */
} pa_backend;

/* Real-time thread. Non-interleaved buffers: one pointer per channel. */
static int on_audio(const void *input, void *output, unsigned long frames,
                    const PaStreamCallbackTimeInfo *time, PaStreamCallbackFlags flags, void *arg)
{
    (void)time;
    pa_backend *b = arg;
    ef_live_session_guard_enter(b->session);
    if (flags & (paInputUnderflow | paInputOverflow | paOutputUnderflow | paOutputOverflow))
        ef_live_session_count_xrun(b->session);
    ef_live_session_process(b->session, (const float *const *)input, (float *const *)output,
                            (int)frames);
    atomic_fetch_add_explicit(&b->callbacks, 1, memory_order_relaxed);
    ef_live_session_guard_leave(b->session);
    return paContinue;
}

/* A stream that finishes while we did not stop it has lost its device. */
static void on_finished(void *arg)
{
    pa_backend *b = arg;
    atomic_store(&b->finished, 1);
}

/* Pa_Initialize probes every host API; ALSA and JACK print their probing noise
 * to stderr (missing cards, no server). The result code says what matters. */
static PaError initialize_quietly(void)
{
    fflush(stderr);
    int saved = dup(STDERR_FILENO), null = open("/dev/null", O_WRONLY);
    if (saved >= 0 && null >= 0)
        dup2(null, STDERR_FILENO);
    PaError e = Pa_Initialize();
    if (saved >= 0 && null >= 0)
        dup2(saved, STDERR_FILENO);
    if (null >= 0)
        close(null);
    if (saved >= 0)
        close(saved);
    return e;
}

static bool all_digits(const char *s)
{
    if (!*s)
        return false;
    for (; *s; s++)
        if (!isdigit((unsigned char)*s))
            return false;
    return true;
}

static int channels_of(const PaDeviceInfo *d, bool input)
{
    return input ? d->maxInputChannels : d->maxOutputChannels;
}

static bool contains_ignoring_case(const char *hay, const char *needle)
{
    const size_t n = strlen(needle);
    for (; *hay; hay++)
        if (strncasecmp(hay, needle, n) == 0)
            return true;
    return false;
}

/* A device by index, exact name, or a case-insensitive part of one name. */
static PaDeviceIndex find_device(const char *want, bool input, int channels, ef_error *err)
{
    const char *what = input ? "input" : "output";
    const int n = Pa_GetDeviceCount();
    if (!want) {
        PaDeviceIndex d = input ? Pa_GetDefaultInputDevice() : Pa_GetDefaultOutputDevice();
        if (d == paNoDevice)
            ef_error_set(err, "no default %s device (earflow devices lists them)", what);
        return d;
    }
    long index;
    if (all_digits(want)) {
        if (ef_number_parse_whole(want, 0, n - 1, &index) ||
            channels_of(Pa_GetDeviceInfo((PaDeviceIndex)index), input) < channels) {
            ef_error_set(err, "--%s %s: no %s device with that index (earflow devices)", what,
                         want, what);
            return paNoDevice;
        }
        return (PaDeviceIndex)index;
    }
    PaDeviceIndex found = paNoDevice;
    int partial = 0;
    for (int pass = 0; pass < 2 && found == paNoDevice; pass++) {
        for (PaDeviceIndex i = 0; i < n; i++) {
            const PaDeviceInfo *d = Pa_GetDeviceInfo(i);
            if (channels_of(d, input) < channels)
                continue;
            bool match = pass == 0 ? strcmp(d->name, want) == 0 : contains_ignoring_case(d->name, want);
            if (!match)
                continue;
            if (pass == 0) {
                found = i;
                break;
            }
            partial++;
            found = i;
        }
    }
    if (found == paNoDevice)
        ef_error_set(err, "--%s %s: no %s device by that name (earflow devices lists them)",
                     what, want, what);
    else if (partial > 1) {
        ef_error_set(err, "--%s %s: %d devices match; give the index or the full name", what,
                     want, partial);
        found = paNoDevice;
    }
    return found;
}

static int pa_start(void *impl, ef_error *err)
{
    pa_backend *b = impl;
    PaError e = Pa_StartStream(b->stream);
    if (e != paNoError) {
        ef_error_set(err, "cannot start the PortAudio stream: %s", Pa_GetErrorText(e));
        return -1;
    }
    b->seen_at = ef_clock_seconds();
    return 0;
}

static bool pa_failed(void *impl, char *why, size_t len)
{
    pa_backend *b = impl;
    if (atomic_load(&b->stopping))
        return false;
    if (atomic_load(&b->finished)) {
        snprintf(why, len, "the PortAudio stream stopped (device lost?)");
        return true;
    }
    if (b->seen_at == 0.0)
        return false; /* not started */
    const long calls = atomic_load(&b->callbacks);
    const double now = ef_clock_seconds();
    if (calls != b->seen) {
        b->seen = calls;
        b->seen_at = now;
        return false;
    }
    if (now - b->seen_at < STALL_SECONDS)
        return false;
    b->dead = true;
    snprintf(why, len, "no audio callback from PortAudio for %.0f s (device lost, or its "
             "JACK server gone?)", STALL_SECONDS);
    return true;
}

static void pa_describe(void *impl, char *buf, size_t len)
{
    pa_backend *b = impl;
    const PaDeviceInfo *in = Pa_GetDeviceInfo(b->in_dev), *out = Pa_GetDeviceInfo(b->out_dev);
    const PaStreamInfo *info = Pa_GetStreamInfo(b->stream);
    snprintf(buf, len, "PortAudio %s: in '%s', out '%s', %d Hz, %d-frame buffers, "
             "device latency in %.1f ms out %.1f ms",
             Pa_GetHostApiInfo(in->hostApi)->name, in->name, out->name, b->rate, b->buffer,
             info ? 1000 * info->inputLatency : 0.0, info ? 1000 * info->outputLatency : 0.0);
}

static void pa_close_backend(void *impl)
{
    pa_backend *b = impl;
    if (b->dead) {
        /* Stopping or closing a lost stream asserts inside PortAudio's JACK host API
         * (the ports cannot be unregistered): leave it to the process exit. */
        free(b);
        return;
    }
    if (b->stream) {
        atomic_store(&b->stopping, 1);
        Pa_StopStream(b->stream);
        Pa_CloseStream(b->stream);
    }
    Pa_Terminate();
    free(b);
}

static const ef_live_backend_ops pa_ops = {
    .name = "portaudio",
    .start = pa_start,
    .latency_changed = NULL,
    .failed = pa_failed,
    .describe = pa_describe,
    .close = pa_close_backend,
};

ef_live_backend *ef_live_portaudio_open(ef_live_session *s, const ef_live_backend_options *o,
                                        ef_error *err)
{
    pa_backend *b = calloc(1, sizeof *b);
    if (!b) {
        ef_error_set(err, "out of memory");
        return NULL;
    }
    b->session = s;
    b->n_in = ef_live_session_in_channels(s);
    b->n_out = ef_live_session_out_channels(s);
    b->buffer = o->buffer_frames;
    atomic_init(&b->stopping, 0);
    atomic_init(&b->finished, 0);
    atomic_init(&b->callbacks, 0);
    PaJack_SetClientName(o->client_name);
    PaError e = initialize_quietly();
    if (e != paNoError) {
        ef_error_set(err, "cannot start PortAudio: %s", Pa_GetErrorText(e));
        free(b);
        return NULL;
    }
    b->in_dev = find_device(o->input_device, true, b->n_in, err);
    if (b->in_dev != paNoDevice)
        b->out_dev = find_device(o->output_device, false, b->n_out, err);
    if (b->in_dev == paNoDevice || b->out_dev == paNoDevice) {
        Pa_Terminate();
        free(b);
        return NULL;
    }
    PaStreamParameters in = {
        .device = b->in_dev, .channelCount = b->n_in,
        .sampleFormat = paFloat32 | paNonInterleaved,
        .suggestedLatency = Pa_GetDeviceInfo(b->in_dev)->defaultLowInputLatency,
    };
    PaStreamParameters out = {
        .device = b->out_dev, .channelCount = b->n_out,
        .sampleFormat = paFloat32 | paNonInterleaved,
        .suggestedLatency = Pa_GetDeviceInfo(b->out_dev)->defaultLowOutputLatency,
    };
    /* The asked rate, else the device's own (the engine resamples). */
    b->rate = o->sample_rate;
    if (Pa_IsFormatSupported(&in, &out, b->rate) != paFormatIsSupported)
        b->rate = (int)Pa_GetDeviceInfo(b->out_dev)->defaultSampleRate;
    e = Pa_OpenStream(&b->stream, &in, &out, b->rate, (unsigned long)b->buffer, paNoFlag,
                      on_audio, b);
    if (e == paNoError)
        e = Pa_SetStreamFinishedCallback(b->stream, on_finished);
    if (e != paNoError) {
        ef_error_set(err, "cannot open '%s' -> '%s' at %d Hz, %d frames: %s",
                     Pa_GetDeviceInfo(b->in_dev)->name, Pa_GetDeviceInfo(b->out_dev)->name,
                     b->rate, b->buffer, Pa_GetErrorText(e));
        if (b->stream)
            Pa_CloseStream(b->stream);
        Pa_Terminate();
        free(b);
        return NULL;
    }
    ef_live_session_set_rate(s, b->rate);
    return ef_live_backend_wrap(&pa_ops, b, err);
}

int ef_live_portaudio_list(FILE *to, ef_error *err)
{
    PaJack_SetClientName("earflow-devices");
    PaError e = initialize_quietly();
    if (e != paNoError) {
        ef_error_set(err, "cannot start PortAudio: %s", Pa_GetErrorText(e));
        return -1;
    }
    const PaDeviceIndex def_in = Pa_GetDefaultInputDevice(), def_out = Pa_GetDefaultOutputDevice();
    fprintf(to, "%5s  %-8s %3s %3s %7s  %s\n", "index", "host API", "in", "out", "rate", "name");
    for (PaDeviceIndex i = 0; i < Pa_GetDeviceCount(); i++) {
        const PaDeviceInfo *d = Pa_GetDeviceInfo(i);
        fprintf(to, "%5d  %-8s %3d %3d %7.0f  %s%s%s\n", i, Pa_GetHostApiInfo(d->hostApi)->name,
                d->maxInputChannels, d->maxOutputChannels, d->defaultSampleRate, d->name,
                i == def_in ? "  (default input)" : "", i == def_out ? "  (default output)" : "");
    }
    Pa_Terminate();
    return 0;
}
