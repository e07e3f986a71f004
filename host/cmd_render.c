/* earflow render: a file through the engine, latency compensated, safely written. */
#include "commands.h"

#include "controls.h"
#include "earflow.h"
#include "exit_codes.h"
#include "model_lookup.h"
#include "output_file.h"
#include "progress.h"

#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <sndfile.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define MAX_FILE_CHANNELS 8

static volatile sig_atomic_t interrupted;

static void on_signal(int sig)
{
    (void)sig;
    interrupted = 1;
}

static void usage(FILE *to)
{
    fprintf(to,
        "usage: earflow render -i IN -o OUT [options]\n"
        "\n"
        "Renders an audio file through earflow. Output sample n lines up with input\n"
        "sample n (the engine's latency is compensated); the output has the input's\n"
        "sample rate and length. The file is written under a temporary name and moved\n"
        "into place when complete.\n"
        "\n"
        "  -i, --input FILE     input audio (anything libsndfile reads)\n"
        "  -o, --output FILE    output; format from the extension (wav, flac, ogg, aiff,\n"
        "                       caf, w64, rf64, au; no extension: wav)\n"
        "  -m, --model MODEL    a model file, a shipped model's name (binaural,\n"
        "                       separate) or identity (STFT -> ISTFT, a diagnostic)\n"
        "  -f, --force          replace OUT if it exists (never the input)\n"
        "      --format F       sample format: same (default: the input's where the\n"
        "                       container allows it), pcm16, pcm24, float\n"
        "      --block N        processing block size, 1..%d (default 1024)\n"
        "  -q, --quiet          no progress bar\n"
        "  -h, --help           this help\n"
        "\n"
        EF_CONTROLS_HELP
        "\n"
        "A binaural model takes mono: a multichannel input is mixed down first.\n"
        "A separation model processes each channel on its own.\n"
        "\n"
        "exit: 0 ok, 1 processing failed, 2 usage, 3 bad input, 4 bad output,\n"
        "      5 bad model, 130 interrupted\n",
        EF_MAX_BLOCK);
}

/* The input's sample format when it is one (PCM, float, u-law, A-law); for a codec
 * (MP3, Vorbis, Opus, ADPCM, GSM ...) 0: the output container's default. Why:
 * libsndfile accepts e.g. WAV + MPEG layer III in sf_format_check but cannot write it
 * without an encoder, and re-encoding a lossy codec is never what "same" means. */
static int sample_format_of(int input_format)
{
    const int sub = input_format & SF_FORMAT_SUBMASK;
    switch (sub) {
    case SF_FORMAT_PCM_S8: case SF_FORMAT_PCM_U8: case SF_FORMAT_PCM_16: case SF_FORMAT_PCM_24:
    case SF_FORMAT_PCM_32: case SF_FORMAT_FLOAT: case SF_FORMAT_DOUBLE: case SF_FORMAT_ULAW:
    case SF_FORMAT_ALAW:
        return sub;
    default:
        return 0;
    }
}

static int parse_format(const char *s, int input_format, int *subtype)
{
    if (strcmp(s, "same") == 0)
        *subtype = sample_format_of(input_format);
    else if (strcmp(s, "pcm16") == 0)
        *subtype = SF_FORMAT_PCM_16;
    else if (strcmp(s, "pcm24") == 0)
        *subtype = SF_FORMAT_PCM_24;
    else if (strcmp(s, "float") == 0)
        *subtype = SF_FORMAT_FLOAT;
    else
        return -1;
    return 0;
}

typedef struct render_job {
    const char *in_path, *out_path, *model_name, *format;
    bool force, quiet;
    int block;
    ef_controls controls;
} render_job;

typedef struct render_state {
    SNDFILE *in;
    SF_INFO info;
    ef_model *model;
    ef_engine *engines[MAX_FILE_CHANNELS];
    int n_engines, out_channels;
    float *in_inter, *out_inter;          /* interleaved file buffers */
    float *in_ch[MAX_FILE_CHANNELS];      /* planar engine buffers */
    float *mono;                          /* downmix for binaural models */
    float *out_ch[MAX_FILE_CHANNELS];
    ef_output_file *out;
} render_state;

static void state_free(render_state *s)
{
    for (int i = 0; i < s->n_engines; i++)
        ef_engine_free(s->engines[i]);
    ef_model_free(s->model);
    if (s->in)
        sf_close(s->in);
    free(s->in_inter);
    free(s->out_inter);
    free(s->mono);
    for (int c = 0; c < MAX_FILE_CHANNELS; c++) {
        free(s->in_ch[c]);
        free(s->out_ch[c]);
    }
    ef_output_file_abort(s->out);
}

/* libsndfile reads what a truncated file holds and says so only in its log, e.g.
 * "data : 205635 (should be 920)": warn, the output is shorter than the header says. */
static void warn_if_truncated(SNDFILE *in, const char *path, long long frames)
{
    char log[8192];
    log[0] = 0;
    sf_command(in, SFC_GET_LOG_INFO, log, sizeof log);
    for (const char *line = log; *line;) {
        const size_t len = strcspn(line, "\n");
        const char *word = line + strspn(line, " ");
        long long announced, held;
        if ((!strncmp(word, "data", 4) || !strncmp(word, "SSND", 4)) &&
            sscanf(word + 4, " : %lld (should be %lld)", &announced, &held) == 2 && held < announced) {
            fprintf(stderr, "earflow render: warning: %s is truncated: its header announces %lld "
                    "bytes of audio, the file holds %lld; rendering the %lld frames there\n",
                    path, announced, held, frames);
            return;
        }
        line += len + (line[len] == '\n');
    }
}

static int open_input(render_state *s, const char *path)
{
    struct stat st;
    if (stat(path, &st) != 0) {
        fprintf(stderr, "earflow render: %s: %s\n", path, strerror(errno));
        return EF_EXIT_INPUT;
    }
    if (S_ISDIR(st.st_mode)) {
        fprintf(stderr, "earflow render: %s: is a directory\n", path);
        return EF_EXIT_INPUT;
    }
    memset(&s->info, 0, sizeof s->info);
    s->in = sf_open(path, SFM_READ, &s->info);
    if (!s->in) {
        fprintf(stderr, "earflow render: %s: cannot read audio: %s\n", path, sf_strerror(NULL));
        return EF_EXIT_INPUT;
    }
    if (s->info.frames <= 0) {
        fprintf(stderr, "earflow render: %s: no audio in the file\n", path);
        return EF_EXIT_INPUT;
    }
    warn_if_truncated(s->in, path, (long long)s->info.frames);
    if (s->info.channels > MAX_FILE_CHANNELS) {
        fprintf(stderr, "earflow render: %s: %d channels; at most %d are supported\n", path,
                s->info.channels, MAX_FILE_CHANNELS);
        return EF_EXIT_INPUT;
    }
    return EF_EXIT_OK;
}

static int load_model(render_state *s, render_job *job)
{
    s->model = ef_host_load_model("render", job->model_name);
    if (!s->model)
        return EF_EXIT_MODEL;
    if (ef_controls_resolve(&job->controls, "render", s->model))
        return EF_EXIT_USAGE;
    return EF_EXIT_OK;
}

static bool is_binaural(const render_state *s)
{
    return ef_model_kind(s->model) == EF_KIND_BINAURAL;
}

/* Binaural: one engine on the mono downmix, two outputs. Otherwise one engine per
 * file channel, one output each. */
static int create_engines(render_state *s, const render_job *job)
{
    ef_error err = {{0}};
    const int block = job->block;
    s->n_engines = is_binaural(s) ? 1 : s->info.channels;
    s->out_channels = is_binaural(s) ? 2 : s->info.channels;
    for (int i = 0; i < s->n_engines; i++) {
        s->engines[i] = ef_engine_new(s->model, s->info.samplerate, block, &err);
        if (!s->engines[i]) {
            fprintf(stderr, "earflow render: %s\n", err.message);
            return EF_EXIT_INPUT; /* the only engine failure a file can cause: its rate */
        }
        ef_controls_apply(&job->controls, s->engines[i]);
    }
    s->in_inter = malloc(sizeof(float) * (size_t)block * (size_t)s->info.channels);
    s->out_inter = malloc(sizeof(float) * (size_t)block * (size_t)s->out_channels);
    s->mono = calloc((size_t)block, sizeof(float));
    int ok = s->in_inter && s->out_inter && s->mono;
    for (int c = 0; c < s->info.channels; c++)
        ok &= (s->in_ch[c] = calloc((size_t)block, sizeof(float))) != NULL;
    for (int c = 0; c < s->out_channels; c++)
        ok &= (s->out_ch[c] = calloc((size_t)block, sizeof(float))) != NULL;
    if (!ok) {
        fprintf(stderr, "earflow render: out of memory\n");
        return EF_EXIT_FAILURE;
    }
    if (is_binaural(s) && s->info.channels > 1 && !job->quiet)
        fprintf(stderr, "earflow render: mixing %d channels down to mono for the binaural model\n",
                s->info.channels);
    return EF_EXIT_OK;
}

/* Runs the engines over n planar samples; with a trajectory, in hops of the model
 * so the position follows it closely. */
static void process_block(render_state *s, const render_job *job, int n, long start)
{
    if (is_binaural(s)) {
        const int chs = s->info.channels;
        for (int i = 0; i < n; i++) {
            float acc = 0;
            for (int c = 0; c < chs; c++)
                acc += s->in_ch[c][i];
            s->mono[i] = acc / (float)chs;
        }
        const int step = job->controls.trajectory ? ef_model_hop(s->model) : n;
        for (int p = 0; p < n; p += step) {
            int m = n - p < step ? n - p : step;
            ef_controls_follow(&job->controls, s->engines[0], (double)(start + p) / s->info.samplerate);
            const float *in[1] = {s->mono + p};
            float *out[2] = {s->out_ch[0] + p, s->out_ch[1] + p};
            ef_engine_process(s->engines[0], in, out, m);
        }
        return;
    }
    for (int e = 0; e < s->n_engines; e++)
        ef_engine_process(s->engines[e], (const float *const *)&s->in_ch[e], &s->out_ch[e], n);
}

/* Streams the file; feeds zeros after its end until the delayed tail is out. */
static int run(render_state *s, const render_job *job)
{
    const long total = (long)s->info.frames;
    const int latency = ef_engine_latency(s->engines[0]);
    const int in_chs = s->info.channels, out_chs = s->out_channels;
    long read_total = 0, written = 0, to_skip = latency, fed = 0;
    ef_progress progress;
    ef_progress_start(&progress, total, s->info.samplerate, job->quiet);
    SNDFILE *out = ef_output_file_sndfile(s->out);
    while (written < total) {
        if (interrupted) {
            ef_progress_finish(&progress);
            fprintf(stderr, "earflow render: interrupted; %s not written\n", job->out_path);
            return EF_EXIT_INTERRUPTED;
        }
        int n = job->block;
        int got = 0;
        if (read_total < total) {
            long want = total - read_total < n ? total - read_total : n;
            got = (int)sf_readf_float(s->in, s->in_inter, want);
            if (got <= 0) {
                ef_progress_finish(&progress);
                fprintf(stderr, "earflow render: %s: read error after %ld frames: %s\n",
                        job->in_path, read_total, sf_strerror(s->in));
                return EF_EXIT_INPUT;
            }
            read_total += got;
        }
        for (int c = 0; c < in_chs; c++) {
            for (int i = 0; i < got; i++)
                s->in_ch[c][i] = s->in_inter[(size_t)i * in_chs + c];
            memset(s->in_ch[c] + got, 0, sizeof(float) * (size_t)(n - got));
        }
        process_block(s, job, n, fed);
        fed += n;
        int skip = to_skip < n ? (int)to_skip : n;
        to_skip -= skip;
        long keep = n - skip;
        if (keep > total - written)
            keep = total - written;
        for (long i = 0; i < keep; i++)
            for (int c = 0; c < out_chs; c++)
                s->out_inter[i * out_chs + c] = s->out_ch[c][skip + i];
        if (keep > 0 && sf_writef_float(out, s->out_inter, keep) != keep) {
            ef_progress_finish(&progress);
            fprintf(stderr, "earflow render: %s: write error: %s\n", job->out_path,
                    sf_strerror(out));
            return EF_EXIT_OUTPUT;
        }
        written += keep;
        ef_progress_update(&progress, written);
    }
    ef_progress_finish(&progress);
    long underruns = 0, bad_samples = 0, bad_frames = 0;
    for (int e = 0; e < s->n_engines; e++) {
        underruns += ef_engine_underruns(s->engines[e]);
        bad_samples += ef_engine_bad_samples(s->engines[e]);
        bad_frames += ef_engine_bad_frames(s->engines[e]);
    }
    /* Shown even with -q: the output is not what a clean input would give. */
    if (underruns > 0)
        fprintf(stderr, "earflow render: warning: resampler underran %ld times\n", underruns);
    if (bad_samples > 0)
        fprintf(stderr, "earflow render: warning: %ld bad input samples (NaN, Inf or beyond "
                "+-%g) were replaced by silence\n", bad_samples, (double)EF_INPUT_LIMIT);
    if (bad_frames > 0)
        fprintf(stderr, "earflow render: warning: %ld network frames came out non-finite and "
                "were replaced by silence\n", bad_frames);
    return EF_EXIT_OK;
}

int ef_cmd_render(int argc, char **argv)
{
    render_job job = {.model_name = "identity", .format = "same", .block = 1024};
    ef_controls_init(&job.controls);
    static const struct option own[] = {
        {"input", required_argument, 0, 'i'},  {"output", required_argument, 0, 'o'},
        {"model", required_argument, 0, 'm'},  {"force", no_argument, 0, 'f'},
        {"format", required_argument, 0, 'F'}, {"block", required_argument, 0, 'b'},
        {"quiet", no_argument, 0, 'q'},        {"help", no_argument, 0, 'h'},
    };
    struct option opts[sizeof own / sizeof own[0] + 16];
    size_t n_own = sizeof own / sizeof own[0], k = 0;
    memcpy(opts, own, sizeof own);
    for (; ef_control_options[k].name; k++)
        opts[n_own + k] = ef_control_options[k];
    memset(&opts[n_own + k], 0, sizeof opts[0]);
    optind = 1;
    opterr = 0;
    int opt;
    while ((opt = getopt_long(argc, argv, "i:o:m:fqh", opts, NULL)) != -1) {
        switch (opt) {
        case 'i': job.in_path = optarg; break;
        case 'o': job.out_path = optarg; break;
        case 'm': job.model_name = optarg; break;
        case 'f': job.force = true; break;
        case 'F': job.format = optarg; break;
        case 'q': job.quiet = true; break;
        case 'b': {
            char *end;
            long v = strtol(optarg, &end, 10);
            if (*end || v < 1 || v > EF_MAX_BLOCK) {
                fprintf(stderr, "earflow render: --block %s: not a number in 1..%d\n", optarg,
                        EF_MAX_BLOCK);
                return EF_EXIT_USAGE;
            }
            job.block = (int)v;
            break;
        }
        case 'h': usage(stdout); return EF_EXIT_OK;
        default: {
            int r = opt >= 1000 ? ef_controls_option(&job.controls, "render", opt, optarg) : 1;
            if (r == 0)
                break;
            if (r > 0)
                fprintf(stderr, "earflow render: bad option '%s' (see earflow render --help)\n",
                        argv[optind - 1]);
            return EF_EXIT_USAGE;
        }
        }
    }
    if (optind < argc) {
        fprintf(stderr, "earflow render: unexpected argument '%s'\n", argv[optind]);
        return EF_EXIT_USAGE;
    }
    if (!job.in_path || !job.out_path) {
        fprintf(stderr, "earflow render: both -i IN and -o OUT are required (see --help)\n");
        return EF_EXIT_USAGE;
    }

    render_state s;
    memset(&s, 0, sizeof s);
    int rc = open_input(&s, job.in_path);
    int subtype = 0;
    if (rc == EF_EXIT_OK && parse_format(job.format, s.info.format, &subtype) != 0) {
        fprintf(stderr, "earflow render: --format %s: use same, pcm16, pcm24 or float\n",
                job.format);
        rc = EF_EXIT_USAGE;
    }
    if (rc == EF_EXIT_OK)
        rc = load_model(&s, &job);
    if (rc == EF_EXIT_OK)
        rc = create_engines(&s, &job);
    if (rc == EF_EXIT_OK) {
        ef_error err = {{0}};
        s.out = ef_output_file_open(job.out_path, job.in_path, job.force, s.info.samplerate,
                                    s.out_channels, subtype, &err);
        if (!s.out) {
            fprintf(stderr, "earflow render: %s\n", err.message);
            rc = EF_EXIT_OUTPUT;
        }
    }
    if (rc == EF_EXIT_OK) {
        struct sigaction sa;
        memset(&sa, 0, sizeof sa);
        sa.sa_handler = on_signal;
        sigaction(SIGINT, &sa, NULL);
        sigaction(SIGTERM, &sa, NULL);
        rc = run(&s, &job);
    }
    if (rc == EF_EXIT_OK) {
        ef_error err = {{0}};
        ef_output_file *out = s.out;
        s.out = NULL;
        if (ef_output_file_commit(out, &err) != 0) {
            fprintf(stderr, "earflow render: %s\n", err.message);
            rc = EF_EXIT_OUTPUT;
        }
    }
    state_free(&s);
    ef_controls_free(&job.controls);
    return rc;
}
