#include "live_keys.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

static struct termios saved;
static int saved_fd = -1;

void ef_keys_restore(void)
{
    if (saved_fd >= 0) {
        tcsetattr(saved_fd, TCSAFLUSH, &saved);
        saved_fd = -1;
    }
}

int ef_keys_raw_mode(int fd)
{
    if (!isatty(fd) || tcgetattr(fd, &saved) != 0)
        return -1;
    struct termios raw = saved;
    /* ISIG stays on: Ctrl-C raises SIGINT, whose flag ends the main loop cleanly. */
    raw.c_lflag &= (tcflag_t) ~(ICANON | ECHO);
    raw.c_cc[VMIN] = 0;
    raw.c_cc[VTIME] = 0;
    if (tcsetattr(fd, TCSAFLUSH, &raw) != 0)
        return -1;
    saved_fd = fd;
    static bool registered;
    if (!registered)
        atexit(ef_keys_restore);
    registered = true;
    return 0;
}

/* Pending bytes of an unfinished escape sequence. */
static char pending[8];
static size_t n_pending;

static ef_key sequence_key(const char *seq, size_t n, bool *complete)
{
    /* ESC [ A..D (arrows), ESC [ 5 ~ / 6 ~ (page up/down), ESC O A..D (some terminals) */
    *complete = true;
    if (n < 3)
        return (*complete = false), EF_KEY_NONE;
    if (seq[1] == '[' || seq[1] == 'O') {
        switch (seq[2]) {
        case 'A': return EF_KEY_UP;
        case 'B': return EF_KEY_DOWN;
        case 'C': return EF_KEY_RIGHT;
        case 'D': return EF_KEY_LEFT;
        case '5':
        case '6':
            if (n < 4)
                return (*complete = false), EF_KEY_NONE;
            return seq[3] == '~' ? (seq[2] == '5' ? EF_KEY_PAGE_UP : EF_KEY_PAGE_DOWN) : EF_KEY_NONE;
        default: return EF_KEY_NONE;
        }
    }
    return EF_KEY_NONE;
}

int ef_keys_decode(const char *bytes, size_t n, ef_key_event *events, int max)
{
    int count = 0;
    for (size_t i = 0; i < n && count < max; i++) {
        char c = bytes[i];
        if (n_pending > 0 || c == 27) {
            if (n_pending < sizeof pending)
                pending[n_pending++] = c;
            if (n_pending == 1)
                continue;
            if (n_pending == 2 && pending[1] != '[' && pending[1] != 'O') {
                n_pending = 0; /* a lone ESC then a key: take the key */
                events[count++] = (ef_key_event){EF_KEY_CHAR, pending[1]};
                continue;
            }
            bool complete;
            ef_key k = sequence_key(pending, n_pending, &complete);
            if (!complete && n_pending < sizeof pending)
                continue;
            n_pending = 0;
            if (k != EF_KEY_NONE)
                events[count++] = (ef_key_event){k, 0};
            continue;
        }
        events[count++] = (ef_key_event){EF_KEY_CHAR, c};
    }
    return count;
}
