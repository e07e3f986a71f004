/* earflow render: a file through the engine, latency compensated, safely written. */
#include "commands.h"

#include "audio_input.h"
#include "controls.h"
#include "earflow.h"
#include "exit_codes.h"
#include "model_lookup.h"
#include "number.h"
#include "output_file.h"
#include "progress.h"
#include "render_engines.h"

#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <sndfile.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

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
        "\n",
        EF_MAX_BLOCK);
    ef_controls_help(to);
    fprintf(to,
        "\n"
        "A binaural model takes mono: a multichannel input is mixed down first.\n"
        "A separation model processes each channel on its own.\n"
        "\n"
        "exit: 0 ok, 1 processing failed, 2 usage, 3 bad input, 4 bad output,\n"
        "      5 bad model, 130 interrupted\n");
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
    ef_audio_input *in;
    int channels, sample_rate;
    long frames;
    ef_model *model;
    ef_render_engines *engines;
    int out_channels;
    float *in_ch[EF_AUDIO_MAX_CHANNELS];   /* planar engine buffers */
    float *out_ch[EF_RENDER_MAX_CHANNELS];
    float *out_inter;                      /* interleaved output block */
    ef_output_file *out;
} render_state;

static void state_free(render_state *s)
{
    ef_render_engines_free(s->engines);
    ef_model_free(s->model);
    ef_audio_input_close(s->in);
    free(s->out_inter);
    for (int c = 0; c < EF_AUDIO_MAX_CHANNELS; c++)
        free(s->in_ch[c]);
    for (int c = 0; c < EF_RENDER_MAX_CHANNELS; c++)
        free(s->out_ch[c]);
    ef_output_file_abort(s->out);
}

static int open_input(render_state *s, const char *path, int block)
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
    ef_error err = {{0}};
    s->in = ef_audio_input_open(path, block, &err);
    if (!s->in) {
        fprintf(stderr, "earflow render: %s\n", err.message);
        return EF_EXIT_INPUT;
    }
    s->channels = ef_audio_input_channels(s->in);
    s->sample_rate = ef_audio_input_sample_rate(s->in);
    s->frames = ef_audio_input_frames(s->in);
    long long announced, held;
    if (ef_audio_input_truncated(s->in, &announced, &held))
        fprintf(stderr, "earflow render: warning: %s is truncated: its header announces %lld "
                "bytes of audio, the file holds %lld; rendering the %ld frames there\n",
                path, announced, held, s->frames);
    return EF_EXIT_OK;
}

static int load_model(render_state *s, render_job *job)
{
    s->model = ef_load_model_argument("render", job->model_name);
    if (!s->model)
        return EF_EXIT_MODEL;
    if (ef_controls_resolve(&job->controls, "render", s->model))
        return EF_EXIT_USAGE;
    return EF_EXIT_OK;
}

static int create_engines(render_state *s, const render_job *job)
{
    ef_error err = {{0}};
    const int block = job->block;
    s->engines = ef_render_engines_new(s->model, s->channels, s->sample_rate, block,
                                       &job->controls, &err);
    if (!s->engines) {
        fprintf(stderr, "earflow render: %s\n", err.message);
        return EF_EXIT_INPUT; /* the only engine failure a file can cause: its rate */
    }
    s->out_channels = ef_render_engines_out_channels(s->engines);
    s->out_inter = malloc(sizeof(float) * (size_t)block * (size_t)s->out_channels);
    int ok = s->out_inter != NULL;
    for (int c = 0; c < s->channels; c++)
        ok &= (s->in_ch[c] = calloc((size_t)block, sizeof(float))) != NULL;
    for (int c = 0; c < s->out_channels; c++)
        ok &= (s->out_ch[c] = calloc((size_t)block, sizeof(float))) != NULL;
    if (!ok) {
        fprintf(stderr, "earflow render: out of memory\n");
        return EF_EXIT_FAILURE;
    }
    if (ef_model_kind(s->model) == EF_KIND_BINAURAL && s->channels > 1 && !job->quiet)
        fprintf(stderr, "earflow render: mixing %d channels down to mono for the binaural model\n",
                s->channels);
    return EF_EXIT_OK;
}

/* Streams the file; feeds zeros after its end until the delayed tail is out. */
static int run(render_state *s, const render_job *job)
{
    const long total = s->frames;
    const int latency = ef_render_engines_latency(s->engines);
    const int out_chs = s->out_channels;
    long written = 0, to_skip = latency, fed = 0;
    ef_progress progress;
    ef_progress_start(&progress, total, s->sample_rate, job->quiet);
    SNDFILE *out = ef_output_file_sndfile(s->out);
    while (written < total) {
        if (interrupted) {
            ef_progress_finish(&progress);
            fprintf(stderr, "earflow render: interrupted; %s not written\n", job->out_path);
            return EF_EXIT_INTERRUPTED;
        }
        const int n = job->block;
        ef_error err = {{0}};
        if (ef_audio_input_read(s->in, s->in_ch, n, &err) < 0) {
            ef_progress_finish(&progress);
            fprintf(stderr, "earflow render: %s\n", err.message);
            return EF_EXIT_INPUT;
        }
        ef_render_engines_process(s->engines, (const float *const *)s->in_ch, s->out_ch, n, fed);
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
    const long underruns = ef_render_engines_underruns(s->engines);
    const long bad_samples = ef_render_engines_bad_samples(s->engines);
    const long bad_frames = ef_render_engines_bad_frames(s->engines);
    /* Shown even with -q: the output is not what a clean input would give. */
    if (underruns > 0)
        fprintf(stderr, "earflow render: warning: resampler underran %ld times\n", underruns);
    if (bad_samples > 0)
        fprintf(stderr, "earflow render: warning: %ld bad input samples (NaN, Inf or beyond "
                "+-%g) were replaced by silence\n", bad_samples, (double)EF_INPUT_LIMIT);
    if (bad_frames > 0)
        fprintf(stderr, "earflow render: warning: %ld network frames came out non-finite or "
                "out of range and were replaced by silence\n", bad_frames);
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
    struct option opts[sizeof own / sizeof own[0] + EF_CONTROL_OPTIONS_MAX];
    ef_controls_options(own, sizeof own / sizeof own[0], opts);
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
            long v;
            if (ef_number_parse_whole(optarg, 1, EF_MAX_BLOCK, &v)) {
                fprintf(stderr, "earflow render: --block %s: not a number in 1..%d\n", optarg,
                        EF_MAX_BLOCK);
                return EF_EXIT_USAGE;
            }
            job.block = (int)v;
            break;
        }
        case 'h': usage(stdout); return EF_EXIT_OK;
        default:
            if (ef_controls_getopt(&job.controls, "render", opt, optarg, argv[optind - 1]))
                return EF_EXIT_USAGE;
        }
    }
    if (ef_controls_no_operands("render", argc, argv))
        return EF_EXIT_USAGE;
    if (!job.in_path || !job.out_path) {
        fprintf(stderr, "earflow render: both -i IN and -o OUT are required (see --help)\n");
        return EF_EXIT_USAGE;
    }

    render_state s;
    memset(&s, 0, sizeof s);
    int rc = open_input(&s, job.in_path, job.block);
    int subtype = 0;
    if (rc == EF_EXIT_OK && parse_format(job.format, ef_audio_input_format(s.in), &subtype) != 0) {
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
        s.out = ef_output_file_open(job.out_path, job.in_path, job.force, s.sample_rate,
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
