#include "output_file.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

struct ef_output_file {
    char *path, *temp_path;
    bool force;
    SNDFILE *snd;
};

static const struct {
    const char *ext;
    int format;
} formats[] = {
    {"wav", SF_FORMAT_WAV},   {"wave", SF_FORMAT_WAV}, {"flac", SF_FORMAT_FLAC},
    {"ogg", SF_FORMAT_OGG},   {"oga", SF_FORMAT_OGG},  {"aiff", SF_FORMAT_AIFF},
    {"aif", SF_FORMAT_AIFF},  {"caf", SF_FORMAT_CAF},  {"w64", SF_FORMAT_W64},
    {"rf64", SF_FORMAT_RF64}, {"au", SF_FORMAT_AU},
};

int ef_output_format_for_path(const char *path, ef_error *err)
{
    const char *slash = strrchr(path, '/');
    const char *base = slash ? slash + 1 : path;
    const char *dot = strrchr(base, '.');
    if (!dot || dot == base)
        return SF_FORMAT_WAV;
    for (size_t i = 0; i < sizeof formats / sizeof formats[0]; i++)
        if (strcasecmp(dot + 1, formats[i].ext) == 0)
            return formats[i].format;
    ef_error_set(err, "%s: unknown output extension '%s' (wav, flac, ogg, aiff, caf, w64, rf64, au)",
                 path, dot + 1);
    return 0;
}

static int default_subtype(int major)
{
    switch (major) {
    case SF_FORMAT_FLAC: return SF_FORMAT_PCM_24;
    case SF_FORMAT_OGG: return SF_FORMAT_VORBIS;
    default: return SF_FORMAT_FLOAT;
    }
}

ef_output_file *ef_output_file_open(const char *path, const char *input_path, bool force,
                                    int sample_rate, int channels, int subtype,
                                    ef_error *err)
{
    int major = ef_output_format_for_path(path, err);
    if (!major)
        return NULL;
    struct stat in_st, out_st;
    bool out_exists = stat(path, &out_st) == 0;
    if (out_exists && input_path && stat(input_path, &in_st) == 0 &&
        in_st.st_dev == out_st.st_dev && in_st.st_ino == out_st.st_ino) {
        ef_error_set(err, "%s: output is the input file; refusing to overwrite it", path);
        return NULL;
    }
    if (out_exists && S_ISDIR(out_st.st_mode)) {
        ef_error_set(err, "%s: is a directory", path);
        return NULL;
    }
    /* Why: the finished file is renamed into place, which would replace a device
     * node such as /dev/null (run as root) or a pipe by a regular file. */
    if (out_exists && !S_ISREG(out_st.st_mode)) {
        ef_error_set(err, "%s: not a regular file (a device, pipe or socket); refusing to "
                     "replace it", path);
        return NULL;
    }
    if (out_exists && !force) {
        ef_error_set(err, "%s: exists; use --force to replace it", path);
        return NULL;
    }
    SF_INFO info;
    memset(&info, 0, sizeof info);
    info.samplerate = sample_rate;
    info.channels = channels;
    info.format = major | (subtype ? subtype : default_subtype(major));
    if (!sf_format_check(&info)) {
        info.format = major | default_subtype(major);
        if (!sf_format_check(&info)) {
            ef_error_set(err, "%s: this format cannot hold %d channels at %d Hz", path,
                         channels, sample_rate);
            return NULL;
        }
    }
    ef_output_file *f = calloc(1, sizeof *f);
    if (!f) {
        ef_error_set(err, "out of memory");
        return NULL;
    }
    f->force = force;
    f->path = strdup(path);
    size_t len = strlen(path) + 32;
    f->temp_path = malloc(len);
    if (!f->path || !f->temp_path) {
        ef_error_set(err, "out of memory");
        free(f->path);
        free(f->temp_path);
        free(f);
        return NULL;
    }
    /* Same folder as the target so the final rename cannot cross file systems. */
    const char *slash = strrchr(path, '/');
    int dirlen = slash ? (int)(slash - path + 1) : 0;
    snprintf(f->temp_path, len, "%.*s.%s.partXXXXXX", dirlen, path, slash ? slash + 1 : path);
    int fd = mkstemp(f->temp_path);
    if (fd < 0) {
        ef_error_set(err, "%s: cannot write here: %s", path, strerror(errno));
        free(f->path);
        free(f->temp_path);
        free(f);
        return NULL;
    }
    /* mkstemp makes the file private (0600); give it the mode a new file gets. */
    mode_t mask = umask(0);
    umask(mask);
    fchmod(fd, 0666 & ~mask);
    f->snd = sf_open_fd(fd, SFM_WRITE, &info, SF_TRUE);
    if (!f->snd) {
        ef_error_set(err, "%s: cannot write: %s", path, sf_strerror(NULL));
        close(fd);
        unlink(f->temp_path);
        free(f->path);
        free(f->temp_path);
        free(f);
        return NULL;
    }
    /* Clip instead of wrapping around when float samples exceed full scale. */
    sf_command(f->snd, SFC_SET_CLIPPING, NULL, SF_TRUE);
    return f;
}

SNDFILE *ef_output_file_sndfile(ef_output_file *f) { return f->snd; }

static void free_file(ef_output_file *f)
{
    free(f->path);
    free(f->temp_path);
    free(f);
}

int ef_output_file_commit(ef_output_file *f, ef_error *err)
{
    int rc = 0;
    sf_write_sync(f->snd);
    if (sf_close(f->snd) != 0) {
        ef_error_set(err, "%s: error while closing the file", f->path);
        unlink(f->temp_path);
        free_file(f);
        return -1;
    }
    int saved_errno = 0;
    if (f->force) {
        if (rename(f->temp_path, f->path) != 0) {
            saved_errno = errno;
            rc = -1;
            unlink(f->temp_path);
        }
    } else {
        /* link() fails if the target appeared meanwhile: never replace a file
         * someone else wrote during the render. */
        if (link(f->temp_path, f->path) != 0) {
            saved_errno = errno;
            rc = -1;
        }
        unlink(f->temp_path);
    }
    if (rc)
        ef_error_set(err, "%s: cannot move the finished file into place: %s", f->path,
                     strerror(saved_errno));
    free_file(f);
    return rc;
}

void ef_output_file_abort(ef_output_file *f)
{
    if (!f)
        return;
    sf_close(f->snd);
    unlink(f->temp_path);
    free_file(f);
}
