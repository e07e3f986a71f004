/* earflow live: real-time duplex processing from an input to an output through JACK
 * or PortAudio, controlled while running from the keyboard, stdin or UDP/OSC, with
 * optional recording. This file is the control (main) thread: it sets everything
 * up, then polls the control inputs and the session until the end. The audio path
 * is live_session.c; the backends are live_jack.c and live_portaudio.c. */
#include "clock.h"
#include "commands.h"

#include "controls.h"
#include "earflow.h"
#include "exit_codes.h"
#include "live_backend.h"
#include "live_commands.h"
#include "live_keys.h"
#include "live_session.h"
#include "live_osc.h"
#include "live_udp.h"
#include "model_lookup.h"
#include "number.h"
#include "recorder.h"

#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

static volatile sig_atomic_t stop_signal;

static void on_signal(int sig) { stop_signal = sig; }

static void usage(FILE *to)
{
    char help[1024];
    ef_live_commands_help(help, sizeof help);
    fprintf(to,
        "usage: earflow live --model MODEL [options]\n"
        "\n"
        "Processes a live input (a microphone) to an output in real time.\n"
        "\n"
        "  -m, --model MODEL      a model file, binaural, separate or identity\n"
        "      --backend B        jack or portaudio (default: jack when a JACK server\n"
        "                         is running, else portaudio)\n"
        "      --duration S       stop after S seconds of audio (default: until Ctrl-C,\n"
        "                         SIGTERM or the quit command)\n"
        "      --record-input FILE   record the input (what the engine hears)\n"
        "      --record-output FILE  record the output (what it plays)\n"
        "  -f, --force            replace existing recording files\n"
        "      --commands -       read commands from stdin even on a terminal\n"
        "      --udp [ADDR:]PORT  accept commands and OSC on a UDP port (address\n"
        "                         default 127.0.0.1): /earflow/NAME, and head trackers'\n"
        "                         SPARTA /ypr /yaw /pitch /roll and IEM /SceneRotator/ypr\n"
        "                         /SceneRotator/quaternions\n"
        "      --osc-flip AXES    negate a tracker's yaw, pitch and/or roll (e.g. yaw,roll)\n"
        "  -q, --quiet            no banner, no status line\n"
        "  -h, --help             this help\n"
        "JACK:\n"
        "      --name NAME        client name (default earflow)\n"
        "      --connect-in PATTERN   connect our input from ports matching a JACK\n"
        "                         port regex, or 'physical' (repeatable)\n"
        "      --connect-out PATTERN  connect our outputs to matching ports, or\n"
        "                         'physical' (repeatable)\n"
        "PortAudio (earflow devices lists the devices):\n"
        "      --input DEV        input device: index, name or part of a name\n"
        "      --output DEV       output device\n"
        "      --buffer N         frames per buffer, 16..%d (default 256)\n"
        "      --rate HZ          sample rate (default the model's, else the device's)\n"
        "\n",
        EF_LIVE_MAX_BLOCK);
    ef_controls_help(to);
    fprintf(to,
        "\n"
        "keys (stdin a terminal): arrows move the source (binaural) or change the\n"
        "target and the mix (separation); PgUp/PgDn distance; + - solver steps;\n"
        "b enabled on/off (bypass); r mode keep/remove; 0 front; h help; q quit.\n"
        "\n"
        "%s"
        "\n"
        "exit: 0 ok (also after Ctrl-C/SIGTERM), 1 audio system failed, 2 usage,\n"
        "      4 recording file cannot be written, 5 bad model\n",
        help);
}

typedef struct live_options {
    const char *model_name, *backend, *record_in, *record_out, *udp;
    unsigned osc_flips; /* EF_OSC_FLIP_*: a head tracker's axes to negate */
    bool force, quiet, commands_from_stdin;
    double duration;
    ef_live_backend_options backend_opts;
    ef_controls controls;
} live_options;

enum {
    OPT_BACKEND = 2000, OPT_DURATION, OPT_RECORD_IN, OPT_RECORD_OUT, OPT_COMMANDS, OPT_UDP, OPT_OSC_FLIP,
    OPT_NAME, OPT_CONNECT_IN, OPT_CONNECT_OUT, OPT_INPUT, OPT_OUTPUT, OPT_BUFFER, OPT_RATE,
};

static int whole_number(const char *name, const char *arg, long lo, long hi, int *out)
{
    long v;
    if (ef_number_parse_whole(arg, lo, hi, &v)) {
        fprintf(stderr, "earflow live: --%s %s: expected a whole number in %ld..%ld\n", name, arg,
                lo, hi);
        return -1;
    }
    *out = (int)v;
    return 0;
}

/* Returns -1 to continue, else an exit code. */
static int parse(int argc, char **argv, live_options *o)
{
    static const struct option own[] = {
        {"model", required_argument, 0, 'm'},      {"force", no_argument, 0, 'f'},
        {"quiet", no_argument, 0, 'q'},            {"help", no_argument, 0, 'h'},
        {"backend", required_argument, 0, OPT_BACKEND},
        {"duration", required_argument, 0, OPT_DURATION},
        {"record-input", required_argument, 0, OPT_RECORD_IN},
        {"record-output", required_argument, 0, OPT_RECORD_OUT},
        {"commands", required_argument, 0, OPT_COMMANDS},
        {"udp", required_argument, 0, OPT_UDP},
        {"osc-flip", required_argument, 0, OPT_OSC_FLIP},
        {"name", required_argument, 0, OPT_NAME},
        {"connect-in", required_argument, 0, OPT_CONNECT_IN},
        {"connect-out", required_argument, 0, OPT_CONNECT_OUT},
        {"input", required_argument, 0, OPT_INPUT},
        {"output", required_argument, 0, OPT_OUTPUT},
        {"buffer", required_argument, 0, OPT_BUFFER},
        {"rate", required_argument, 0, OPT_RATE},
    };
    struct option opts[sizeof own / sizeof own[0] + EF_CONTROL_OPTIONS_MAX];
    ef_controls_options(own, sizeof own / sizeof own[0], opts);
    ef_live_backend_options *b = &o->backend_opts;
    optind = 1;
    opterr = 0;
    int opt;
    while ((opt = getopt_long(argc, argv, "m:fqh", opts, NULL)) != -1) {
        switch (opt) {
        case 'm': o->model_name = optarg; break;
        case 'f': o->force = true; break;
        case 'q': o->quiet = true; break;
        case 'h': usage(stdout); return EF_EXIT_OK;
        case OPT_BACKEND:
            if (strcmp(optarg, "jack") && strcmp(optarg, "portaudio")) {
                fprintf(stderr, "earflow live: --backend %s: use jack or portaudio\n", optarg);
                return EF_EXIT_USAGE;
            }
            o->backend = optarg;
            break;
        case OPT_DURATION:
            if (ef_number_parse(optarg, 1e-3, 1e7, &o->duration)) {
                fprintf(stderr, "earflow live: --duration %s: expected seconds in 0.001..1e7\n",
                        optarg);
                return EF_EXIT_USAGE;
            }
            break;
        case OPT_RECORD_IN: o->record_in = optarg; break;
        case OPT_RECORD_OUT: o->record_out = optarg; break;
        case OPT_COMMANDS:
            if (strcmp(optarg, "-")) {
                fprintf(stderr, "earflow live: --commands %s: only '-' (stdin) is supported\n",
                        optarg);
                return EF_EXIT_USAGE;
            }
            o->commands_from_stdin = true;
            break;
        case OPT_UDP: o->udp = optarg; break;
        case OPT_OSC_FLIP:
            if (ef_live_osc_flips_parse(optarg, &o->osc_flips)) {
                fprintf(stderr, "earflow live: --osc-flip %s: expected yaw, pitch and/or roll, "
                        "comma-separated\n", optarg);
                return EF_EXIT_USAGE;
            }
            break;
        case OPT_NAME: b->client_name = optarg; break;
        case OPT_CONNECT_IN:
        case OPT_CONNECT_OUT: {
            bool in = opt == OPT_CONNECT_IN;
            int *n = in ? &b->n_connect_in : &b->n_connect_out;
            if (*n == EF_LIVE_MAX_CONNECT) {
                fprintf(stderr, "earflow live: at most %d --connect-%s options\n",
                        EF_LIVE_MAX_CONNECT, in ? "in" : "out");
                return EF_EXIT_USAGE;
            }
            (in ? b->connect_in : b->connect_out)[(*n)++] = optarg;
            break;
        }
        case OPT_INPUT: b->input_device = optarg; break;
        case OPT_OUTPUT: b->output_device = optarg; break;
        case OPT_BUFFER:
            if (whole_number("buffer", optarg, 16, EF_LIVE_MAX_BLOCK, &b->buffer_frames))
                return EF_EXIT_USAGE;
            break;
        case OPT_RATE:
            if (whole_number("rate", optarg, 8000, 192000, &b->sample_rate))
                return EF_EXIT_USAGE;
            break;
        default:
            if (ef_controls_getopt(&o->controls, "live", opt, optarg, argv[optind - 1]))
                return EF_EXIT_USAGE;
        }
    }
    if (ef_controls_no_operands("live", argc, argv))
        return EF_EXIT_USAGE;
    if (!o->model_name) {
        fprintf(stderr, "earflow live: --model is required (binaural, separate, identity or a file)\n");
        return EF_EXIT_USAGE;
    }
    return -1;
}

/* Everything the control thread owns while running. */
typedef struct live_run {
    live_options *opts;
    ef_model *model;
    ef_live_session *session;
    ef_live_backend *backend;
    ef_recorder *record_in, *record_out;
    ef_live_state state;
    int udp_fd;
    bool keys, lines, status_line;
    char line_buf[1024];
    size_t line_len;
    double key_step;
    bool quit, memory_locked;
} live_run;

static ef_live_backend *open_backend(live_run *r, ef_error *err)
{
    const char *want = r->opts->backend;
    const ef_live_backend_options *bo = &r->opts->backend_opts;
#ifdef EF_HAVE_JACK
    if (!want)
        want = ef_live_jack_available() ? "jack" : "portaudio";
    if (strcmp(want, "jack") == 0)
        return ef_live_jack_open(r->session, bo, err);
#endif
#ifdef EF_HAVE_PORTAUDIO
    if (!want || strcmp(want, "portaudio") == 0)
        return ef_live_portaudio_open(r->session, bo, err);
#endif
    ef_error_set(err, "--backend %s: not built into this earflow (its development package was "
                 "missing at build time)", want ? want : "?");
    return NULL;
}

/* Control thread: a command line from any source. */
static void handle_line(live_run *r, const char *line, const char *source)
{
    ef_live_command cmd;
    char reply[1024];
    const ef_live_state before = r->state;
    switch (ef_live_interpret(&r->state, r->model, line, &cmd, reply, sizeof reply)) {
    case EF_LIVE_SEND:
        if (!ef_live_session_send(r->session, &cmd)) {
            /* The engine never gets it: status, and what a toggle flips next, must not
             * claim it did. */
            r->state = before;
            fprintf(stderr, "\nearflow live: command queue full; '%s' not applied\n", line);
        }
        break;
    case EF_LIVE_REPLY: printf("%s\n", reply); fflush(stdout); break;
    case EF_LIVE_ERROR: fprintf(stderr, "%searflow live: %s: %s\n", r->status_line ? "\n" : "",
                                source, reply); break;
    case EF_LIVE_QUIT: r->quit = true; break;
    case EF_LIVE_NOTHING: break;
    }
}

static void handle_text(live_run *r, const char *text, const char *source)
{
    char line[512];
    while (*text) {
        size_t n = strcspn(text, "\r\n");
        snprintf(line, sizeof line, "%.*s", (int)(n < sizeof line ? n : sizeof line - 1), text);
        handle_line(r, line, source);
        text += n;
        text += strspn(text, "\r\n");
    }
}

/* Keys become command lines, so they follow exactly the command language. */
static void handle_key(live_run *r, ef_key_event ev)
{
    const ef_live_state *st = &r->state;
    const bool binaural = st->kind == EF_KIND_BINAURAL;
    const int steps = (int)st->value[EF_CONTROL_STEPS];
    char line[128] = "";
    switch (ev.key) {
    case EF_KEY_LEFT:
    case EF_KEY_RIGHT:
        if (binaural) {
            double az = st->value[EF_CONTROL_AZIMUTH] + (ev.key == EF_KEY_LEFT ? r->key_step : -r->key_step);
            snprintf(line, sizeof line, "azimuth %g", remainder(az, 360.0));
        } else if (st->kind == EF_KIND_SEPARATE && ef_model_labels(r->model) > 0) {
            int n = ef_model_labels(r->model), label = (int)st->value[EF_CONTROL_TARGET];
            do /* the next trained label; the current one is trained */
                label = (label + (ev.key == EF_KEY_RIGHT ? 1 : n - 1)) % n;
            while (!ef_model_label_trained(r->model, label));
            snprintf(line, sizeof line, "target %s", ef_model_label_name(r->model, label));
        }
        break;
    case EF_KEY_UP:
    case EF_KEY_DOWN: {
        double sign = ev.key == EF_KEY_UP ? 1 : -1;
        if (binaural)
            snprintf(line, sizeof line, "elevation %g", fmax(-90, fmin(90, st->value[EF_CONTROL_ELEVATION] + sign * 10)));
        else
            snprintf(line, sizeof line, "mix %g", fmax(0, fmin(1, st->value[EF_CONTROL_MIX] + sign * 0.1)));
        break;
    }
    case EF_KEY_PAGE_UP:
    case EF_KEY_PAGE_DOWN:
        if (binaural)
            snprintf(line, sizeof line, "distance %g",
                     fmax(0.1, st->value[EF_CONTROL_DISTANCE] * (ev.key == EF_KEY_PAGE_UP ? 1.25 : 0.8)));
        break;
    case EF_KEY_CHAR:
        switch (ev.ch) {
        case '+': case '=': snprintf(line, sizeof line, "steps %d", steps < EF_MAX_STEPS ? steps + 1 : EF_MAX_STEPS); break;
        case '-': case '_': snprintf(line, sizeof line, "steps %d", steps > 1 ? steps - 1 : 1); break;
        case 'b': snprintf(line, sizeof line, "enabled toggle"); break;
        case 'r': if (!binaural) snprintf(line, sizeof line, "mode toggle"); break;
        case '0': if (binaural) snprintf(line, sizeof line, "position 0 0"); break;
        case 'q': r->quit = true; break;
        case 'h': case '?': {
            char help[1024];
            ef_live_commands_help(help, sizeof help);
            fprintf(stderr, "\r\033[K%s", help);
            break;
        }
        default: break;
        }
        break;
    case EF_KEY_NONE: break;
    }
    if (line[0])
        handle_line(r, line, "key");
}

static void read_stdin(live_run *r)
{
    char buf[512];
    ssize_t n = read(STDIN_FILENO, buf, sizeof buf);
    if (n <= 0) {
        if (n == 0 || (errno != EAGAIN && errno != EINTR))
            r->keys = r->lines = false; /* end of input: keep running, stop reading */
        return;
    }
    if (r->keys) {
        ef_key_event ev[64];
        int count = ef_keys_decode(buf, (size_t)n, ev, 64);
        for (int i = 0; i < count; i++)
            handle_key(r, ev[i]);
        return;
    }
    for (ssize_t i = 0; i < n; i++) {
        if (buf[i] == '\n' || r->line_len == sizeof r->line_buf - 1) {
            r->line_buf[r->line_len] = 0;
            handle_line(r, r->line_buf, "stdin");
            r->line_len = 0;
        } else {
            r->line_buf[r->line_len++] = buf[i];
        }
    }
}

static void print_status(live_run *r)
{
    ef_live_stats st;
    ef_live_session_stats(r->session, &st);
    char controls[256];
    ef_live_state_describe(&r->state, r->model, false, controls, sizeof controls);
    fprintf(stderr, "\r\033[K%s | load %3.0f%% (max %3.0f%%) | xruns %ld | running steps %d "
            "(governor changes %ld) | bad samples %ld | latency %.1f ms", controls,
            100 * st.load, 100 * st.max_load, st.xruns, st.steps, st.governor_changes,
            st.bad_samples, st.rate > 0 ? 1000.0 * st.latency / st.rate : 0.0);
    fflush(stderr);
}

/* A sample-rate change: a new engine made here, off the audio thread. */
static int renew_engine(live_run *r)
{
    ef_live_stats st;
    ef_live_session_stats(r->session, &st);
    ef_error err = {{0}};
    ef_engine *e = ef_engine_new(r->model, st.rate, EF_LIVE_MAX_BLOCK, &err);
    if (!e) {
        fprintf(stderr, "\nearflow live: sample rate %d Hz: %s\n", st.rate, err.message);
        return -1;
    }
    ef_live_state_apply(&r->state, e);
    if (!ef_live_session_offer_engine(r->session, e, st.rate)) {
        ef_engine_free(e); /* the previous offer is untaken: try again next tick */
        return 0;
    }
    ef_live_backend_latency_changed(r->backend);
    fprintf(stderr, "%searflow live: sample rate now %d Hz; engine recreated (latency %d samples)%s\n",
            r->status_line ? "\n" : "", st.rate, ef_engine_latency(e),
            r->record_in || r->record_out ? "; recordings keep the old rate in their header" : "");
    return 0;
}

/* The control loop: until a signal, quit, the duration, or a failure. */
static int control_loop(live_run *r, int rate)
{
    const live_options *o = r->opts;
    const double started = ef_clock_seconds();
    double last_status = 0, last_trajectory = 0;
    int last_period = 0;
    int rc = EF_EXIT_OK;
    while (!stop_signal && !r->quit) {
        struct pollfd fds[2];
        int nfds = 0;
        if (r->keys || r->lines)
            fds[nfds++] = (struct pollfd){STDIN_FILENO, POLLIN, 0};
        if (r->udp_fd >= 0)
            fds[nfds++] = (struct pollfd){r->udp_fd, POLLIN, 0};
        int ready = poll(fds, (nfds_t)nfds, 20);
        if (ready > 0) {
            for (int i = 0; i < nfds; i++) {
                if (!(fds[i].revents & (POLLIN | POLLHUP)))
                    continue;
                if (fds[i].fd == STDIN_FILENO) {
                    read_stdin(r);
                } else {
                    char text[1600];
                    int n = ef_live_udp_receive(r->udp_fd, r->opts->osc_flips, text, sizeof text);
                    if (n > 0)
                        handle_text(r, text, "udp");
                    else if (n < 0)
                        fprintf(stderr, "%searflow live: udp: ignored a datagram that is neither "
                                "text nor an OSC message earflow reads\n", r->status_line ? "\n" : "");
                }
            }
        }
        ef_engine_free(ef_live_session_take_retired(r->session));
        if (ef_live_session_needs_engine(r->session) && renew_engine(r) != 0) {
            rc = EF_EXIT_FAILURE;
            break;
        }
        char why[300];
        if (ef_live_backend_failed(r->backend, why, sizeof why)) {
            fprintf(stderr, "%searflow live: %s\n", r->status_line ? "\n" : "", why);
            rc = EF_EXIT_FAILURE;
            break;
        }
        ef_live_stats st;
        ef_live_session_stats(r->session, &st);
        if (st.rate > 0)
            rate = st.rate;
        if (st.period != last_period && last_period != 0 && !o->quiet)
            fprintf(stderr, "%searflow live: period now %d frames\n", r->status_line ? "\n" : "",
                    st.period);
        last_period = st.period;
        const double seconds = (double)st.frames / rate, now = ef_clock_seconds();
        if (r->opts->controls.trajectory && now - last_trajectory >= 0.01) {
            double az, el, dist;
            ef_trajectory_at(r->opts->controls.trajectory, seconds, &az, &el, &dist);
            char line[128];
            snprintf(line, sizeof line, "position %.6f %.6f %.6f", az, el, dist);
            handle_line(r, line, "trajectory");
            last_trajectory = now;
        }
        if (o->duration > 0 && seconds >= o->duration)
            break;
        /* Audio that never comes: the audio system is not calling us. */
        if (o->duration > 0 && now - started > 2 * o->duration + 10) {
            fprintf(stderr, "%searflow live: only %.1f s of audio in %.1f s; the audio system "
                    "stalled\n", r->status_line ? "\n" : "", seconds, now - started);
            rc = EF_EXIT_FAILURE;
            break;
        }
        if (r->status_line && now - last_status >= 0.2) {
            print_status(r);
            last_status = now;
        }
    }
    if (r->status_line)
        fprintf(stderr, "\n");
    return rc;
}

static int start_recorder(live_run *r, const char *path, int channels, int rate,
                          ef_recorder **out)
{
    if (!path)
        return EF_EXIT_OK;
    ef_error err = {{0}};
    /* 4 s of ring: the disk may stall that long before a sample is lost. */
    *out = ef_recorder_new(path, r->opts->force, channels, rate, 4.0, EF_LIVE_MAX_BLOCK, &err);
    if (!*out) {
        fprintf(stderr, "earflow live: %s\n", err.message);
        return EF_EXIT_OUTPUT;
    }
    return EF_EXIT_OK;
}

/* Closes a recording; adds its lost frames to *dropped. */
static int finish_recorder(ef_recorder *rec, const char *what, bool quiet, long long *dropped_total)
{
    if (!rec)
        return EF_EXIT_OK;
    char path[1024];
    snprintf(path, sizeof path, "%s", ef_recorder_path(rec));
    ef_error err = {{0}};
    int rc = ef_recorder_finish(rec, &err) == 0 ? EF_EXIT_OK : EF_EXIT_OUTPUT;
    long long dropped = ef_recorder_dropped(rec), written = ef_recorder_written(rec);
    ef_recorder_free(rec);
    *dropped_total += dropped;
    if (rc != EF_EXIT_OK)
        fprintf(stderr, "earflow live: %s\n", err.message);
    if (dropped > 0)
        fprintf(stderr, "earflow live: warning: the %s recording lost %lld frames (the disk "
                "did not keep up); %s has %lld frames\n", what, dropped, path, written);
    else if (!quiet)
        fprintf(stderr, "earflow live: recorded %lld frames of the %s to %s\n", written, what, path);
    return rc;
}

/* Runs a fresh engine over a little silence so that its buffers are paged in
 * before the audio thread uses them (a first-touch page fault in a callback costs
 * an xrun). The caller resets it afterwards. */
static void warm_up(ef_engine *e, int out_channels)
{
    static float in[EF_LIVE_MAX_BLOCK], out0[EF_LIVE_MAX_BLOCK], out1[EF_LIVE_MAX_BLOCK];
    const float *ins[1] = {in};
    float *outs[2] = {out0, out1};
    (void)out_channels;
    for (int i = 0; i < 4; i++)
        ef_engine_process(e, ins, outs, EF_LIVE_MAX_BLOCK);
}

static int run_live(live_run *r)
{
    live_options *o = r->opts;
    ef_error err = {{0}};
    r->model = ef_load_model_argument("live", o->model_name);
    if (!r->model)
        return EF_EXIT_MODEL;
    if (ef_controls_resolve(&o->controls, "live", r->model))
        return EF_EXIT_USAGE;
    const int in_channels = 1, out_channels = ef_model_out_channels(r->model);
    if (ef_model_in_channels(r->model) != 1) {
        fprintf(stderr, "earflow live: the model takes %d input channels; live takes one\n",
                ef_model_in_channels(r->model));
        return EF_EXIT_MODEL;
    }
    ef_live_backend_options *bo = &o->backend_opts;
    bo->in_port_names[0] = "in";
    bo->out_port_names[0] = out_channels == 2 ? "out_left" : "out";
    bo->out_port_names[1] = "out_right";
    if (!bo->sample_rate)
        bo->sample_rate = ef_model_sample_rate(r->model);
    /* Keep every page in memory: a page fault on the audio thread is an xrun.
     * Without the privilege it fails, and we run anyway. */
    r->memory_locked = mlockall(MCL_CURRENT | MCL_FUTURE) == 0;
    r->session = ef_live_session_new(in_channels, out_channels, &err);
    if (!r->session) {
        fprintf(stderr, "earflow live: %s\n", err.message);
        return EF_EXIT_FAILURE;
    }
    /* Bound before the ports appear, so that whoever waits for the ports can send. */
    if (o->udp && (r->udp_fd = ef_live_udp_open(o->udp, &err)) < 0) {
        fprintf(stderr, "earflow live: %s\n", err.message);
        return EF_EXIT_USAGE;
    }
    r->backend = open_backend(r, &err);
    if (!r->backend) {
        fprintf(stderr, "earflow live: %s\n", err.message);
        return EF_EXIT_FAILURE;
    }
    ef_live_stats st;
    ef_live_session_stats(r->session, &st);
    const int rate = st.rate;
    ef_engine *e = ef_engine_new(r->model, rate, EF_LIVE_MAX_BLOCK, &err);
    if (!e) {
        fprintf(stderr, "earflow live: %s\n", err.message);
        return EF_EXIT_FAILURE;
    }
    warm_up(e, ef_model_out_channels(r->model));
    /* The same set-up as render (it ends with a reset, which also undoes the warm-up),
     * so live output equals render of the same input. */
    ef_controls_apply(&o->controls, e);
    ef_live_state_init(&r->state, &o->controls, r->model, e);
    ef_live_session_offer_engine(r->session, e, rate);
    int rc = start_recorder(r, o->record_in, in_channels, rate, &r->record_in);
    if (rc == EF_EXIT_OK)
        rc = start_recorder(r, o->record_out, out_channels, rate, &r->record_out);
    if (rc != EF_EXIT_OK)
        return rc;
    ef_live_session_set_recorders(r->session, r->record_in, r->record_out);
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGHUP, &sa, NULL);
    if (ef_live_backend_start(r->backend, &err) != 0) {
        fprintf(stderr, "earflow live: %s\n", err.message);
        return EF_EXIT_FAILURE;
    }
    ef_live_backend_latency_changed(r->backend);
    const bool stdin_tty = isatty(STDIN_FILENO);
    r->keys = stdin_tty && !o->commands_from_stdin && ef_keys_raw_mode(STDIN_FILENO) == 0;
    r->lines = !r->keys;
    r->status_line = r->keys && isatty(STDERR_FILENO) && !o->quiet;
    r->key_step = 15;
    if (!o->quiet) {
        char where[512];
        ef_live_backend_describe(r->backend, where, sizeof where);
        int latency = ef_live_session_latency(r->session);
        fprintf(stderr, "earflow live: %s model on %s; latency %d samples (%.2f ms)%s%s\n",
                ef_kind_name(ef_model_kind(r->model)), where, latency, 1000.0 * latency / rate,
                r->memory_locked ? "" : "; memory not locked (no privilege)",
                r->keys ? "; keys: arrows, +/-, b, h, q" : "");
    }
    return control_loop(r, rate);
}

int ef_cmd_live(int argc, char **argv)
{
    live_options o;
    memset(&o, 0, sizeof o);
    o.backend_opts.client_name = "earflow";
    o.backend_opts.buffer_frames = 256;
    ef_controls_init(&o.controls);
    int rc = parse(argc, argv, &o);
    if (rc >= 0)
        return rc;
    live_run r;
    memset(&r, 0, sizeof r);
    r.opts = &o;
    r.udp_fd = -1;
    rc = run_live(&r);
    ef_keys_restore();
    /* Stop the callbacks first: then nothing touches the session or the recorders. */
    ef_live_backend_close(r.backend);
    long long dropped = 0;
    int rec_rc = finish_recorder(r.record_in, "input", o.quiet, &dropped);
    int rec_rc2 = finish_recorder(r.record_out, "output", o.quiet, &dropped);
    if (rc == EF_EXIT_OK)
        rc = rec_rc != EF_EXIT_OK ? rec_rc : rec_rc2;
    if (r.session && r.backend) {
        ef_live_stats st;
        ef_live_session_stats(r.session, &st);
        fprintf(stderr, "earflow live: %lld frames (%.2f s) at %d Hz, xruns %ld, mean callback load "
               "%.1f%%, p50 callback load %.1f%%, p99 callback load %.1f%%, max callback load "
               "%.1f%%, silent frames %lld, dropped recording frames %lld, bad input samples %ld, "
               "bad frames %ld, latency %d samples, running steps %d, governor changes %ld\n",
               st.frames, st.rate > 0 ? (double)st.frames / st.rate : 0.0, st.rate, st.xruns,
               100 * st.mean_load, 100 * st.p50_load, 100 * st.p99_load, 100 * st.max_load,
               st.silent_frames, dropped, st.bad_samples, st.bad_frames, st.latency, st.steps,
               st.governor_changes);
    }
    if (r.session && ef_live_session_guarded(r.session)) {
        long long callbacks;
        const char *last;
        long v = ef_live_session_guard_report(r.session, &callbacks, &last);
        fprintf(stderr, "earflow live: rt_guard: %ld forbidden calls in %lld audio callbacks%s%s\n",
                v, callbacks, v ? "; last: " : "", v ? last : "");
        if (v > 0 && rc == EF_EXIT_OK)
            rc = EF_EXIT_FAILURE;
    }
    if (r.udp_fd >= 0)
        close(r.udp_fd);
    ef_live_session_free(r.session);
    ef_model_free(r.model);
    ef_controls_free(&o.controls);
    return rc;
}
