/* A lock-free single-producer single-consumer ring of bytes (C11 atomics).
 * One thread writes, one other thread reads; neither ever blocks or allocates, so
 * the audio callback may sit on either side. Used for the recorder's audio and the
 * control commands (PortAudio has no jack_ringbuffer). */
#ifndef EF_SPSC_RING_H
#define EF_SPSC_RING_H

#include <stddef.h>

typedef struct ef_spsc_ring ef_spsc_ring;

/* Capacity is rounded up to a power of two. Not real-time safe. NULL on failure. */
ef_spsc_ring *ef_spsc_ring_new(size_t min_capacity_bytes);
void ef_spsc_ring_free(ef_spsc_ring *r);
size_t ef_spsc_ring_capacity(const ef_spsc_ring *r);

/* Real-time safe. Producer side: bytes that can be written now. */
size_t ef_spsc_ring_writable(const ef_spsc_ring *r);
/* Real-time safe. Writes all n bytes, or nothing (returns 0) when they do not fit:
 * a record is never split between a success and a loss. Returns n on success. */
size_t ef_spsc_ring_write(ef_spsc_ring *r, const void *data, size_t n);

/* Real-time safe. Consumer side: bytes that can be read now. */
size_t ef_spsc_ring_readable(const ef_spsc_ring *r);
/* Real-time safe. Reads up to n bytes; returns how many were read. */
size_t ef_spsc_ring_read(ef_spsc_ring *r, void *data, size_t n);

#endif
