/* jack_feed: a JACK test client that plays a mono file out of one port and, from the
 * same period on, records one or more ports to a file: the known signal in, the
 * processed signal out, for the `earflow live` tests.
 *
 *   jack_feed --play IN.wav --to PORT [--to PORT] --record OUT.wav --from PORT
 *             [--from PORT ...] [--tail SECONDS] [--name NAME]
 *   jack_feed --play IN.wav --to PORT --loop SECONDS      (no recording)
 *
 * Waits (10 s at most) for the named ports to exist, connects them, then plays the
 * file once and records its length plus the tail; with --loop, plays it over and over
 * for that long (the soak test's input). Exit 0 when done, 1 on failure.
 * The whole recording is allocated up front, so the process callback only copies. */
#include <jack/jack.h>
#include <sndfile.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define MAX_PORTS 4

static jack_port_t *out_port, *in_ports[MAX_PORTS];
static int n_in;
static float *play, *rec;
static long play_len, rec_len, total_len;
static int looping;
static atomic_long pos;
static atomic_int state; /* 0 wait, 1 running, 2 done */
static atomic_uint start_time;

static int on_process(jack_nframes_t n, void *arg)
{
    jack_client_t *client = arg;
    float *out = jack_port_get_buffer(out_port, n);
    const float *in[MAX_PORTS];
    for (int c = 0; c < n_in; c++)
        in[c] = jack_port_get_buffer(in_ports[c], n);
    memset(out, 0, sizeof(float) * n);
    if (atomic_load(&state) != 1)
        return 0;
    long p = atomic_load(&pos);
    if (p == 0)
        atomic_store(&start_time, jack_last_frame_time(client));
    for (jack_nframes_t i = 0; i < n; i++, p++) {
        if (looping)
            out[i] = play[p % play_len];
        else if (p < play_len)
            out[i] = play[p];
        if (p < rec_len)
            for (int c = 0; c < n_in; c++)
                rec[(size_t)p * n_in + c] = in[c][i];
    }
    atomic_store(&pos, p);
    if (p >= total_len)
        atomic_store(&state, 2);
    return 0;
}

static void nap(double seconds)
{
    struct timespec t = {(time_t)seconds, (long)((seconds - (double)(time_t)seconds) * 1e9)};
    nanosleep(&t, NULL);
}

/* A port is listed as soon as it is registered, but accepts connections only once
 * its client is active: retry for up to 10 s. */
static bool connect_retrying(jack_client_t *c, const char *src, const char *dst)
{
    for (int i = 0; i < 200; i++) {
        if (jack_port_by_name(c, src) && jack_port_by_name(c, dst) && jack_connect(c, src, dst) == 0)
            return true;
        nap(0.05);
    }
    fprintf(stderr, "jack_feed: cannot connect %s to %s\n", src, dst);
    return false;
}

int main(int argc, char **argv)
{
    const char *play_path = NULL, *rec_path = NULL, *name = "jack_feed";
    const char *to[MAX_PORTS], *from[MAX_PORTS];
    int n_to = 0;
    double tail = 0.5, loop_seconds = 0;
    for (int i = 1; i + 1 < argc; i += 2) {
        if (!strcmp(argv[i], "--play")) play_path = argv[i + 1];
        else if (!strcmp(argv[i], "--record")) rec_path = argv[i + 1];
        else if (!strcmp(argv[i], "--name")) name = argv[i + 1];
        else if (!strcmp(argv[i], "--tail")) tail = atof(argv[i + 1]);
        else if (!strcmp(argv[i], "--loop")) loop_seconds = atof(argv[i + 1]);
        else if (!strcmp(argv[i], "--to") && n_to < MAX_PORTS) to[n_to++] = argv[i + 1];
        else if (!strcmp(argv[i], "--from") && n_in < MAX_PORTS) from[n_in++] = argv[i + 1];
        else {
            fprintf(stderr, "jack_feed: bad argument %s\n", argv[i]);
            return 2;
        }
    }
    looping = loop_seconds > 0;
    if (!play_path || !n_to || (!looping && (!rec_path || !n_in)) || (rec_path && !n_in)) {
        fprintf(stderr, "usage: jack_feed --play IN --to PORT (--record OUT --from PORT [--tail S] "
                "| --loop S)\n");
        return 2;
    }
    SF_INFO info = {0};
    SNDFILE *f = sf_open(play_path, SFM_READ, &info);
    if (!f || info.channels != 1 || info.frames < 1) {
        fprintf(stderr, "jack_feed: %s: need a mono file\n", play_path);
        return 1;
    }
    play_len = (long)info.frames;
    play = calloc((size_t)play_len, sizeof *play);
    sf_readf_float(f, play, play_len);
    sf_close(f);

    jack_status_t status;
    jack_client_t *c = jack_client_open(name, JackNoStartServer, &status);
    if (!c) {
        fprintf(stderr, "jack_feed: no JACK server (status 0x%x)\n", (unsigned)status);
        return 1;
    }
    const int rate = (int)jack_get_sample_rate(c);
    rec_len = rec_path ? play_len + (long)(tail * rate) : 0;
    total_len = looping ? (long)(loop_seconds * rate) : rec_len;
    rec = calloc((size_t)(rec_len > 0 ? rec_len : 1) * (size_t)(n_in > 0 ? n_in : 1), sizeof *rec);
    out_port = jack_port_register(c, "out", JACK_DEFAULT_AUDIO_TYPE, JackPortIsOutput, 0);
    for (int i = 0; i < n_in; i++) {
        char port[16];
        snprintf(port, sizeof port, "in_%d", i + 1);
        in_ports[i] = jack_port_register(c, port, JACK_DEFAULT_AUDIO_TYPE, JackPortIsInput, 0);
    }
    jack_set_process_callback(c, on_process, c);
    if (jack_activate(c)) {
        fprintf(stderr, "jack_feed: cannot activate\n");
        return 1;
    }
    for (int i = 0; i < n_to; i++)
        if (!connect_retrying(c, jack_port_name(out_port), to[i]))
            return 1;
    for (int i = 0; i < n_in; i++)
        if (!connect_retrying(c, from[i], jack_port_name(in_ports[i])))
            return 1;
    nap(0.2); /* let the graph settle after the connections */
    atomic_store(&state, 1);
    double waited = 0, limit = 10.0 + 3.0 * (double)total_len / rate;
    while (atomic_load(&state) != 2 && waited < limit) {
        nap(0.02);
        waited += 0.02;
    }
    jack_deactivate(c);
    jack_client_close(c);
    if (atomic_load(&state) != 2) {
        fprintf(stderr, "jack_feed: played only %ld of %ld frames\n", atomic_load(&pos), total_len);
        return 1;
    }
    if (!rec_path) {
        printf("jack_feed: played %ld frames (%.1f s) from frame time %u\n", total_len,
               (double)total_len / rate, atomic_load(&start_time));
        free(play);
        free(rec);
        return 0;
    }
    SF_INFO oi = {.samplerate = rate, .channels = n_in, .format = SF_FORMAT_WAV | SF_FORMAT_FLOAT};
    SNDFILE *o = sf_open(rec_path, SFM_WRITE, &oi);
    if (!o || sf_writef_float(o, rec, rec_len) != rec_len) {
        fprintf(stderr, "jack_feed: cannot write %s\n", rec_path);
        return 1;
    }
    sf_close(o);
    printf("jack_feed: played %ld frames and recorded %ld from frame time %u\n", play_len,
           rec_len, atomic_load(&start_time));
    free(play);
    free(rec);
    return 0;
}
