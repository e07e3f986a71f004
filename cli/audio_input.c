#include "audio_input.h"

#include <sndfile.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MIN_RATE 8000
#define MAX_RATE 192000

/* libsndfile's virtual I/O over a read-only buffer. */
typedef struct memory_file {
    const unsigned char *bytes;
    sf_count_t size, pos;
} memory_file;

struct ef_audio_input {
    SNDFILE *file;
    SF_INFO info;
    memory_file memory;
    char name[EF_ERROR_MAX / 2];
    long read_total; /* file frames read so far */
    int max_block;
    float *interleaved; /* max_block * channels */
};

static sf_count_t mem_length(void *user) { return ((memory_file *)user)->size; }

static sf_count_t mem_seek(sf_count_t offset, int whence, void *user)
{
    memory_file *m = user;
    if (whence != SEEK_SET && whence != SEEK_CUR && whence != SEEK_END)
        return -1;
    sf_count_t base = whence == SEEK_SET ? 0 : whence == SEEK_CUR ? m->pos : m->size;
    /* Seeking past the end is allowed (reads there return nothing), before 0 is not. */
    if (offset < -base || (offset > 0 && base > INT64_MAX - offset))
        return -1;
    m->pos = base + offset;
    return m->pos;
}

static sf_count_t mem_read(void *ptr, sf_count_t count, void *user)
{
    memory_file *m = user;
    if (count <= 0 || m->pos >= m->size)
        return 0;
    sf_count_t n = m->size - m->pos < count ? m->size - m->pos : count;
    memcpy(ptr, m->bytes + m->pos, (size_t)n);
    m->pos += n;
    return n;
}

static sf_count_t mem_write(const void *ptr, sf_count_t count, void *user)
{
    (void)ptr, (void)count, (void)user;
    return 0; /* read-only */
}

static sf_count_t mem_tell(void *user) { return ((memory_file *)user)->pos; }

void ef_audio_input_close(ef_audio_input *in)
{
    if (!in)
        return;
    if (in->file)
        sf_close(in->file);
    free(in->interleaved);
    free(in);
}

/* The checks every input passes, whatever it came from. */
static ef_audio_input *finish_open(ef_audio_input *in, ef_error *err)
{
    if (!in->file) {
        ef_error_set(err, "%s: cannot read audio: %s", in->name, sf_strerror(NULL));
        goto fail;
    }
    if (in->info.frames <= 0) {
        ef_error_set(err, "%s: no audio in the file", in->name);
        goto fail;
    }
    if (in->info.channels < 1 || in->info.channels > EF_AUDIO_MAX_CHANNELS) {
        ef_error_set(err, "%s: %d channels; at most %d are supported", in->name,
                     in->info.channels, EF_AUDIO_MAX_CHANNELS);
        goto fail;
    }
    if (in->info.samplerate < MIN_RATE || in->info.samplerate > MAX_RATE) {
        ef_error_set(err, "%s: unsupported sample rate %d Hz (%d..%d Hz are supported)", in->name,
                     in->info.samplerate, MIN_RATE, MAX_RATE);
        goto fail;
    }
    in->interleaved = malloc(sizeof(float) * (size_t)in->max_block * (size_t)in->info.channels);
    if (!in->interleaved) {
        ef_error_set(err, "out of memory");
        goto fail;
    }
    return in;
fail:
    ef_audio_input_close(in);
    return NULL;
}

static ef_audio_input *new_input(const char *name, int max_block, ef_error *err)
{
    if (max_block < 1) {
        ef_error_set(err, "block size %d out of range", max_block);
        return NULL;
    }
    ef_audio_input *in = calloc(1, sizeof *in);
    if (!in) {
        ef_error_set(err, "out of memory");
        return NULL;
    }
    snprintf(in->name, sizeof in->name, "%s", name ? name : "(memory)");
    in->max_block = max_block;
    return in;
}

ef_audio_input *ef_audio_input_open(const char *path, int max_block, ef_error *err)
{
    ef_audio_input *in = new_input(path, max_block, err);
    if (!in)
        return NULL;
    in->file = sf_open(path, SFM_READ, &in->info);
    return finish_open(in, err);
}

ef_audio_input *ef_audio_input_open_memory(const void *bytes, size_t size, const char *name,
                                           int max_block, ef_error *err)
{
    ef_audio_input *in = new_input(name, max_block, err);
    if (!in)
        return NULL;
    in->memory = (memory_file){bytes, (sf_count_t)size, 0};
    SF_VIRTUAL_IO io = {mem_length, mem_seek, mem_read, mem_write, mem_tell};
    in->file = sf_open_virtual(&io, SFM_READ, &in->info, &in->memory);
    return finish_open(in, err);
}

int ef_audio_input_channels(const ef_audio_input *in) { return in->info.channels; }
int ef_audio_input_sample_rate(const ef_audio_input *in) { return in->info.samplerate; }
long ef_audio_input_frames(const ef_audio_input *in) { return (long)in->info.frames; }
int ef_audio_input_format(const ef_audio_input *in) { return in->info.format; }

long ef_audio_input_read(ef_audio_input *in, float *const *planar, int n, ef_error *err)
{
    const int chs = in->info.channels;
    if (n < 1 || n > in->max_block) {
        ef_error_set(err, "read of %d frames (1..%d)", n, in->max_block);
        return -1;
    }
    long got = 0;
    const long left = (long)in->info.frames - in->read_total;
    if (left > 0) {
        got = (long)sf_readf_float(in->file, in->interleaved, left < n ? left : n);
        if (got <= 0) {
            ef_error_set(err, "%s: read error after %ld frames: %s", in->name, in->read_total,
                         sf_strerror(in->file));
            return -1;
        }
        in->read_total += got;
    }
    for (int c = 0; c < chs; c++) {
        for (long i = 0; i < got; i++)
            planar[c][i] = in->interleaved[(size_t)i * (size_t)chs + (size_t)c];
        memset(planar[c] + got, 0, sizeof(float) * (size_t)(n - got));
    }
    return got;
}

int ef_audio_input_truncated(const ef_audio_input *in, long long *announced, long long *held)
{
    char log[8192];
    log[0] = 0;
    sf_command(in->file, SFC_GET_LOG_INFO, log, sizeof log);
    for (const char *line = log; *line;) {
        const size_t len = strcspn(line, "\n");
        const char *word = line + strspn(line, " ");
        if ((!strncmp(word, "data", 4) || !strncmp(word, "SSND", 4)) &&
            sscanf(word + 4, " : %lld (should be %lld)", announced, held) == 2 && *held < *announced)
            return 1;
        line += len + (line[len] == '\n');
    }
    return 0;
}
