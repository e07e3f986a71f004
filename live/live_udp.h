/* The UDP control port of `earflow live`, for head trackers and scripts: each
 * datagram holds command lines (live_commands.h) or one OSC message (live_osc.h:
 * /earflow/head ,fff, or a SPARTA or IEM head tracker's). Read on the control thread. */
#ifndef EF_LIVE_UDP_H
#define EF_LIVE_UDP_H

#include "earflow.h"

#include <stddef.h>

/* spec: PORT (bound to 127.0.0.1) or ADDRESS:PORT (e.g. 0.0.0.0:9000 for the
 * network). Returns a non-blocking socket, or -1 with err. */
int ef_live_udp_open(const char *spec, ef_error *err);
/* Reads one datagram as text (OSC converted to its command line, a head tracker's
 * angles flipped per osc_flips, live_osc.h). Returns the text length, 0 when nothing
 * is waiting, -1 for a packet that is neither. */
int ef_live_udp_receive(int fd, unsigned osc_flips, char *text, size_t len);

#endif
