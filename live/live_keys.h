/* Terminal keys for `earflow live`: raw mode on a TTY (restored on exit, also after
 * SIGINT/SIGTERM, whose handlers only set a flag) and decoding of key bytes, arrow
 * escape sequences included. */
#ifndef EF_LIVE_KEYS_H
#define EF_LIVE_KEYS_H

#include <stddef.h>

typedef enum ef_key {
    EF_KEY_NONE,
    EF_KEY_LEFT, EF_KEY_RIGHT, EF_KEY_UP, EF_KEY_DOWN,
    EF_KEY_PAGE_UP, EF_KEY_PAGE_DOWN,
    EF_KEY_CHAR, /* a plain character: see ef_key_event.ch */
} ef_key;

typedef struct ef_key_event {
    ef_key key;
    char ch;
} ef_key_event;

/* Puts the terminal on fd into raw mode (no echo, no line buffering; Ctrl-C still
 * signals). Returns -1 if fd is not a terminal. Restores it at exit too. */
int ef_keys_raw_mode(int fd);
/* Restores the terminal (idempotent). */
void ef_keys_restore(void);

/* Feeds bytes read from the terminal; returns the number of events written to
 * `events` (at most max). Escape sequences split across reads are kept. */
int ef_keys_decode(const char *bytes, size_t n, ef_key_event *events, int max);

#endif
