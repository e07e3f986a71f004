/* The room tail of binaural models (conditioning.room_tail, docs/model-spec.md
 * section 4): a late reverberant tail per ear, made per STFT bin by two decaying,
 * randomly rotated states fed by the input and mixed into the ears with the
 * diffuse field's interaural coherence. It is added to the spherical-head prior, so
 * that a mask head has a tail to shape when the source has stopped. The decay and
 * send of each room come from the model file; the smoothed room features blend them.
 * Real-time safe after ef_room_tail_new: no allocation, no locks. */
#ifndef EF_ROOM_TAIL_H
#define EF_ROOM_TAIL_H

#include "earflow.h"
#include "ef_safetensors.h"

#include <stddef.h>

/* The per-room tables, borrowed from the model file. */
typedef struct ef_room_tail_tables {
    const float *decay; /* [rooms][F]: amplitude kept per frame, 0 .. EF_ROOM_TAIL_MAX_DECAY */
    const float *send;  /* [rooms][F]: input amplitude fed per frame, 0 .. EF_ROOM_TAIL_MAX_SEND */
    const float *mix;   /* [2][F]: c1, c2 (left = c1 A + c2 B, right = c1 A - c2 B) */
    int n_rooms, F;
    int hop, sample_rate; /* a frame's length, for decay times */
} ef_room_tail_tables;

#define EF_ROOM_TAIL_MAX_DECAY 0.9999f
#define EF_ROOM_TAIL_MAX_SEND 100.0f
/* The decay control (EF_CONTROL_DECAY): a room's RT60 is read from its decay at the
 * bin nearest this frequency, the middle of the 500 Hz to 1 kHz mid band; a set
 * decay time below EF_ROOM_TAIL_MIN_RT60 (other than 0) acts as it. */
#define EF_ROOM_TAIL_MID_HZ 707.1067811865476
#define EF_ROOM_TAIL_MIN_RT60 0.05

/* Binds room_tail.decay, .send and .mix by name and shape (marking them in `used`)
 * and checks their ranges. Returns 0 or -1 with err. */
int ef_room_tail_bind(ef_room_tail_tables *t, const ef_st_file *file, int n_rooms, int F,
                      int hop, int sample_rate, int *used, ef_error *err);
/* The mid-band RT60 in seconds that room's decay table gives (0: no mid-band tail). */
double ef_room_tail_table_rt60(const ef_room_tail_tables *t, int room);

typedef struct ef_room_tail ef_room_tail;

ef_room_tail *ef_room_tail_new(const ef_room_tail_tables *tables);
void ef_room_tail_free(ef_room_tail *t);
size_t ef_room_tail_bytes(const ef_room_tail *t);
/* Real-time safe. The decay time the tail is to have from the next frame on: every
 * room's decay table rescaled, d' = d ^ (its RT60 / seconds), so that its mid-band RT60
 * is `seconds` and its shape over frequency is kept; the send is kept, so the tail's
 * energy grows with the decay time as a room's does at a fixed volume. 0 (or less):
 * the tables as they are. The work (a power per room and bin) is done once, in the
 * next frame, however often this is called. */
void ef_room_tail_set_rt60(ef_room_tail *t, double seconds);
/* Zeroes the states and restarts the phase generator (the decay time is kept). */
void ef_room_tail_reset(ef_room_tail *t);
/* One frame: writes the tail heard now, per ear (left, right) as interleaved complex
 * [F] (linear, uncompressed), then feeds `in` (the input STFT frame, interleaved
 * complex, at least F bins) into the states. room_weights: the smoothed room
 * features [n_rooms]. */
void ef_room_tail_frame(ef_room_tail *t, const float *in, const float *room_weights,
                        float *left, float *right);

#endif
