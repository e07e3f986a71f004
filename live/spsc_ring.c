#include "spsc_ring.h"

#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

/* head: total bytes written (producer-owned), tail: total bytes read (consumer-owned).
 * Each side reads the other's counter with acquire and publishes its own with
 * release, so the bytes are visible before the counter that announces them. The
 * counters only grow (size_t wrap-around is harmless with a power-of-two size). */
struct ef_spsc_ring {
    _Alignas(64) atomic_size_t head;
    _Alignas(64) atomic_size_t tail;
    size_t mask;
    unsigned char *data;
};

ef_spsc_ring *ef_spsc_ring_new(size_t min_capacity_bytes)
{
    size_t cap = 64;
    while (cap < min_capacity_bytes) {
        if (cap > ((size_t)-1) / 4)
            return NULL;
        cap *= 2;
    }
    ef_spsc_ring *r = calloc(1, sizeof *r);
    if (!r)
        return NULL;
    r->data = malloc(cap);
    if (!r->data) {
        free(r);
        return NULL;
    }
    /* Touch every page now so the audio thread never takes a page fault here. */
    memset(r->data, 0, cap);
    r->mask = cap - 1;
    atomic_init(&r->head, 0);
    atomic_init(&r->tail, 0);
    return r;
}

void ef_spsc_ring_free(ef_spsc_ring *r)
{
    if (!r)
        return;
    free(r->data);
    free(r);
}

size_t ef_spsc_ring_capacity(const ef_spsc_ring *r) { return r->mask + 1; }

size_t ef_spsc_ring_writable(const ef_spsc_ring *r)
{
    size_t head = atomic_load_explicit(&r->head, memory_order_relaxed);
    size_t tail = atomic_load_explicit(&r->tail, memory_order_acquire);
    return r->mask + 1 - (head - tail);
}

size_t ef_spsc_ring_readable(const ef_spsc_ring *r)
{
    size_t tail = atomic_load_explicit(&r->tail, memory_order_relaxed);
    size_t head = atomic_load_explicit(&r->head, memory_order_acquire);
    return head - tail;
}

size_t ef_spsc_ring_write(ef_spsc_ring *r, const void *data, size_t n)
{
    if (n == 0 || ef_spsc_ring_writable(r) < n)
        return 0;
    size_t head = atomic_load_explicit(&r->head, memory_order_relaxed);
    size_t at = head & r->mask, first = r->mask + 1 - at;
    if (first > n)
        first = n;
    memcpy(r->data + at, data, first);
    memcpy(r->data, (const unsigned char *)data + first, n - first);
    atomic_store_explicit(&r->head, head + n, memory_order_release);
    return n;
}

size_t ef_spsc_ring_read(ef_spsc_ring *r, void *data, size_t n)
{
    size_t avail = ef_spsc_ring_readable(r);
    if (n > avail)
        n = avail;
    if (n == 0)
        return 0;
    size_t tail = atomic_load_explicit(&r->tail, memory_order_relaxed);
    size_t at = tail & r->mask, first = r->mask + 1 - at;
    if (first > n)
        first = n;
    memcpy(data, r->data + at, first);
    memcpy((unsigned char *)data + first, r->data, n - first);
    atomic_store_explicit(&r->tail, tail + n, memory_order_release);
    return n;
}
