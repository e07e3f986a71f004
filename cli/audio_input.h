/* Input audio for earflow render: anything libsndfile reads, from a file or from
 * the same bytes in memory (the fuzzer's entry), checked for what the engine takes
 * (1..EF_AUDIO_MAX_CHANNELS channels, a length, a rate of 8..192 kHz) and read as
 * planar float blocks. Not real-time safe. */
#ifndef EF_AUDIO_INPUT_H
#define EF_AUDIO_INPUT_H

#include "earflow.h"

#include <stddef.h>

#define EF_AUDIO_MAX_CHANNELS 8

typedef struct ef_audio_input ef_audio_input;

/* max_block: the largest n given to ef_audio_input_read. Errors name `path`. */
ef_audio_input *ef_audio_input_open(const char *path, int max_block, ef_error *err);
/* The same from memory; `bytes` must outlive the handle. Errors name `name`. */
ef_audio_input *ef_audio_input_open_memory(const void *bytes, size_t size, const char *name,
                                           int max_block, ef_error *err);
void ef_audio_input_close(ef_audio_input *in);

int ef_audio_input_channels(const ef_audio_input *in);
int ef_audio_input_sample_rate(const ef_audio_input *in);
long ef_audio_input_frames(const ef_audio_input *in);
/* libsndfile's SF_FORMAT_* of the file (major | subtype). */
int ef_audio_input_format(const ef_audio_input *in);

/* 1 when the file is shorter than its header says (libsndfile reads what is there and
 * says so only in its log: "data : 205635 (should be 920)"), with the byte counts. */
int ef_audio_input_truncated(const ef_audio_input *in, long long *announced, long long *held);

/* Reads the next n (1..max_block) frames into planar[0..channels-1], each n floats;
 * after the end of the file (frames()) the rest is zeros. Returns the number of file
 * frames read (0 once past the end), or -1 with err when the file ends early or
 * cannot be read. */
long ef_audio_input_read(ef_audio_input *in, float *const *planar, int n, ef_error *err);

#endif
