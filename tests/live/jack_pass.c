/* jack_pass: the trivial JACK client the real-time tests measure earflow against. It
 * has earflow live's ports (in; out_left, out_right), copies its input to both outputs,
 * and counts xruns with JACK's xrun callback, as earflow live does. With --busy SHARE it
 * also spins for that share of each period, on the clock, like a client that computes
 * that long: when the machine stalls (a VM's parked vCPU), a client that is inside its
 * callback at the time is the one JACK counts as late, so a reference that does no work
 * would be late less often than any real client. What it counts is the machine's share;
 * what earflow counts beyond it, at the same callback time, is earflow's. With --hop H
 * the same mean time comes in earflow's pattern instead of evenly: the time of H frames
 * in each callback in which the count of frames crosses a multiple of H (where the
 * engine computes an STFT frame), nothing in the others; a long callback needs a
 * shorter stall to miss its deadline.
 *
 *   jack_pass [--name NAME] [--duration SECONDS] [--busy SHARE] [--hop FRAMES]
 *
 * Connects in to system:capture_1 and the outputs to system:playback_1 and _2, runs
 * for the duration (10 s by default), then prints one line on stdout:
 *   jack_pass: FRAMES frames (SECONDS s) at RATE Hz, xruns N
 * Exit 0 when done, 1 on failure, 2 on bad arguments. */
#include <jack/jack.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct pass {
    jack_port_t *in, *out[2];
    double busy, rate; /* share of the period to spin; frames per second */
    long long hop;     /* spin once per this many frames; 0: every callback */
    atomic_llong frames;
    atomic_long xruns;
};

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

static int on_process(jack_nframes_t n, void *arg)
{
    struct pass *p = arg;
    const long long before = atomic_fetch_add(&p->frames, n);
    const double frames = p->hop > 0 ? (double)(p->hop * ((before + n) / p->hop - before / p->hop))
                                     : (double)n;
    const double until = now() + p->busy * frames / p->rate;
    const float *in = jack_port_get_buffer(p->in, n);
    for (int c = 0; c < 2; c++)
        memcpy(jack_port_get_buffer(p->out[c], n), in, sizeof(float) * n);
    while (p->busy > 0 && now() < until)
        ;
    return 0;
}

static int on_xrun(void *arg)
{
    struct pass *p = arg;
    atomic_fetch_add(&p->xruns, 1);
    return 0;
}

static void nap(double seconds)
{
    struct timespec t = {(time_t)seconds, (long)((seconds - (double)(time_t)seconds) * 1e9)};
    nanosleep(&t, NULL);
}

int main(int argc, char **argv)
{
    const char *name = "jack_pass";
    double duration = 10.0, busy = 0.0, hop = 0.0;
    for (int i = 1; i < argc; i += 2) {
        char *end = NULL;
        if (i + 1 < argc && !strcmp(argv[i], "--name")) {
            name = argv[i + 1];
            continue;
        }
        if (i + 1 < argc && !strcmp(argv[i], "--duration"))
            duration = strtod(argv[i + 1], &end);
        else if (i + 1 < argc && !strcmp(argv[i], "--busy"))
            busy = strtod(argv[i + 1], &end);
        else if (i + 1 < argc && !strcmp(argv[i], "--hop"))
            hop = strtod(argv[i + 1], &end);
        if (!end || *end != '\0' || !(duration > 0 && duration < 86400) ||
            !(busy >= 0 && busy < 1) || !(hop >= 0 && hop <= 65536 && hop == (long long)hop)) {
            fprintf(stderr, "usage: jack_pass [--name NAME] [--duration SECONDS] [--busy SHARE 0..1) "
                    "[--hop FRAMES 0..65536]\n");
            return 2;
        }
    }
    static struct pass p;
    p.busy = busy;
    p.hop = (long long)hop;
    jack_status_t status;
    jack_client_t *c = jack_client_open(name, JackNoStartServer, &status);
    if (!c) {
        fprintf(stderr, "jack_pass: no JACK server (status 0x%x)\n", (unsigned)status);
        return 1;
    }
    p.rate = jack_get_sample_rate(c); /* before activation: the callback reads it */
    p.in = jack_port_register(c, "in", JACK_DEFAULT_AUDIO_TYPE, JackPortIsInput, 0);
    p.out[0] = jack_port_register(c, "out_left", JACK_DEFAULT_AUDIO_TYPE, JackPortIsOutput, 0);
    p.out[1] = jack_port_register(c, "out_right", JACK_DEFAULT_AUDIO_TYPE, JackPortIsOutput, 0);
    if (!p.in || !p.out[0] || !p.out[1] || jack_set_process_callback(c, on_process, &p) ||
        jack_set_xrun_callback(c, on_xrun, &p) || jack_activate(c)) {
        fprintf(stderr, "jack_pass: cannot set up the client\n");
        jack_client_close(c);
        return 1;
    }
    const bool connected = jack_connect(c, "system:capture_1", jack_port_name(p.in)) == 0 &&
                           jack_connect(c, jack_port_name(p.out[0]), "system:playback_1") == 0 &&
                           jack_connect(c, jack_port_name(p.out[1]), "system:playback_2") == 0;
    if (!connected) {
        fprintf(stderr, "jack_pass: cannot connect to the system ports\n");
        jack_client_close(c);
        return 1;
    }
    const int rate = (int)jack_get_sample_rate(c);
    const long long want = (long long)(duration * rate);
    double waited = 0, limit = 10.0 + 2.0 * duration;
    while (atomic_load(&p.frames) < want && waited < limit) {
        nap(0.02);
        waited += 0.02;
    }
    jack_deactivate(c);
    jack_client_close(c);
    const long long frames = atomic_load(&p.frames);
    if (frames < want) {
        fprintf(stderr, "jack_pass: the server ran only %lld of %lld frames\n", frames, want);
        return 1;
    }
    printf("jack_pass: %lld frames (%.2f s) at %d Hz, xruns %ld\n", frames, (double)frames / rate,
           rate, atomic_load(&p.xruns));
    return 0;
}
