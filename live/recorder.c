#include "recorder.h"

#include "output_file.h"
#include "spsc_ring.h"

#include <errno.h>
#include <pthread.h>
#include <sndfile.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

struct ef_recorder {
    char *path;
    SNDFILE *file;
    int channels, max_block;
    ef_spsc_ring *ring;
    float *interleaved;  /* producer scratch: max_block frames */
    float *disk_buffer;  /* disk thread scratch */
    size_t disk_frames;
    pthread_t thread;
    bool thread_started;
    atomic_bool stop;
    atomic_llong dropped, written;
    atomic_int write_failed;
};

/* Writes whatever the ring holds; returns frames written (-1 on a file error). */
static long drain(ef_recorder *r)
{
    const size_t frame_bytes = sizeof(float) * (size_t)r->channels;
    long total = 0;
    for (;;) {
        size_t bytes = ef_spsc_ring_read(r->ring, r->disk_buffer, r->disk_frames * frame_bytes);
        if (bytes == 0)
            return total;
        sf_count_t frames = (sf_count_t)(bytes / frame_bytes);
        if (!atomic_load(&r->write_failed) && sf_writef_float(r->file, r->disk_buffer, frames) != frames)
            atomic_store(&r->write_failed, 1);
        atomic_fetch_add(&r->written, (long long)frames);
        total += (long)frames;
    }
}

/* The disk thread polls: a wake-up signal from the audio thread would be a system
 * call there. 10 ms is a small share of the ring's seconds. */
static void *disk_thread(void *arg)
{
    ef_recorder *r = arg;
    const struct timespec nap = {0, 10 * 1000 * 1000};
    while (!atomic_load(&r->stop)) {
        if (drain(r) == 0)
            nanosleep(&nap, NULL);
    }
    drain(r);
    return NULL;
}

static void destroy(ef_recorder *r)
{
    if (r->file)
        sf_close(r->file);
    ef_spsc_ring_free(r->ring);
    free(r->interleaved);
    free(r->disk_buffer);
    free(r->path);
    free(r);
}

ef_recorder *ef_recorder_new(const char *path, bool force, int channels, int sample_rate,
                                double buffer_seconds, int max_block, ef_error *err)
{
    int major = ef_output_format_for_path(path, err);
    if (!major)
        return NULL;
    struct stat st;
    if (stat(path, &st) == 0 && (!force || S_ISDIR(st.st_mode))) {
        ef_error_set(err, "%s: %s", path, S_ISDIR(st.st_mode) ? "is a directory"
                                                             : "exists; use --force to replace it");
        return NULL;
    }
    SF_INFO info;
    memset(&info, 0, sizeof info);
    info.samplerate = sample_rate;
    info.channels = channels;
    info.format = major | SF_FORMAT_FLOAT;
    if (!sf_format_check(&info))
        info.format = major | (major == SF_FORMAT_OGG ? SF_FORMAT_VORBIS : SF_FORMAT_PCM_24);
    if (!sf_format_check(&info)) {
        ef_error_set(err, "%s: this format cannot hold %d channels at %d Hz", path, channels,
                     sample_rate);
        return NULL;
    }
    ef_recorder *r = calloc(1, sizeof *r);
    if (!r) {
        ef_error_set(err, "out of memory");
        return NULL;
    }
    r->channels = channels;
    r->max_block = max_block;
    r->disk_frames = 4096;
    const size_t frame_bytes = sizeof(float) * (size_t)channels;
    size_t ring_frames = (size_t)(buffer_seconds * sample_rate);
    if (ring_frames < (size_t)max_block)
        ring_frames = (size_t)max_block;
    r->path = strdup(path);
    r->ring = ef_spsc_ring_new(ring_frames * frame_bytes);
    r->interleaved = calloc((size_t)max_block, frame_bytes);
    r->disk_buffer = calloc(r->disk_frames, frame_bytes);
    atomic_init(&r->stop, false);
    atomic_init(&r->dropped, 0);
    atomic_init(&r->written, 0);
    atomic_init(&r->write_failed, 0);
    if (!r->path || !r->ring || !r->interleaved || !r->disk_buffer) {
        ef_error_set(err, "out of memory");
        destroy(r);
        return NULL;
    }
    /* Written in place (not to a temporary name): if the program is killed hard, the
     * samples so far are still in the file; the header is rewritten on close. */
    r->file = sf_open(path, SFM_WRITE, &info);
    if (!r->file) {
        ef_error_set(err, "%s: cannot write: %s", path, sf_strerror(NULL));
        destroy(r);
        return NULL;
    }
    if (pthread_create(&r->thread, NULL, disk_thread, r) != 0) {
        ef_error_set(err, "%s: cannot start the disk thread: %s", path, strerror(errno));
        sf_close(r->file);
        r->file = NULL;
        remove(path);
        destroy(r);
        return NULL;
    }
    r->thread_started = true;
    return r;
}

void ef_recorder_push(ef_recorder *r, const float *const *ch, int n)
{
    const int chs = r->channels;
    for (int done = 0; done < n;) {
        int m = n - done < r->max_block ? n - done : r->max_block;
        for (int i = 0; i < m; i++)
            for (int c = 0; c < chs; c++)
                r->interleaved[(size_t)i * chs + c] = ch[c][done + i];
        size_t bytes = sizeof(float) * (size_t)chs * (size_t)m;
        if (ef_spsc_ring_write(r->ring, r->interleaved, bytes) != bytes)
            atomic_fetch_add_explicit(&r->dropped, m, memory_order_relaxed);
        done += m;
    }
}

long long ef_recorder_dropped(const ef_recorder *r) { return atomic_load(&r->dropped); }
long long ef_recorder_written(const ef_recorder *r) { return atomic_load(&r->written); }
const char *ef_recorder_path(const ef_recorder *r) { return r->path; }

int ef_recorder_finish(ef_recorder *r, ef_error *err)
{
    if (r->thread_started) {
        atomic_store(&r->stop, true);
        pthread_join(r->thread, NULL);
        r->thread_started = false;
    }
    if (!r->file)
        return 0;
    int rc = 0;
    if (atomic_load(&r->write_failed)) {
        ef_error_set(err, "%s: write error: %s", r->path, sf_strerror(r->file));
        rc = -1;
    }
    if (sf_close(r->file) != 0 && rc == 0) {
        ef_error_set(err, "%s: error while closing the file", r->path);
        rc = -1;
    }
    r->file = NULL;
    return rc;
}

void ef_recorder_free(ef_recorder *r)
{
    if (!r)
        return;
    ef_recorder_finish(r, NULL);
    destroy(r);
}
