/* OSC messages to command lines (live_commands.h): earflow's own /earflow/NAME ARGS
 * ("/earflow/head ,fff" -> "head 10 0 0"), and what head trackers already send to
 * the tools they were made for:
 *   SPARTA:           /ypr fff, /yaw f, /pitch f, /roll f (degrees);
 *   IEM SceneRotator: /SceneRotator/ypr fff, /SceneRotator/yaw f (pitch, roll),
 *                     /SceneRotator/quaternions ffff (w x y z; x front, y left, z up).
 * A tracker's angles may be flipped (negated) per axis, as those tools offer. Bundles
 * are not read. Used on the control thread. */
#ifndef EF_LIVE_OSC_H
#define EF_LIVE_OSC_H

#include <stddef.h>

#define EF_OSC_FLIP_YAW 1u
#define EF_OSC_FLIP_PITCH 2u
#define EF_OSC_FLIP_ROLL 4u

/* The command line of one OSC message; -1 when the packet is not one we read. */
int ef_live_osc_to_line(const void *packet, size_t len, unsigned flips, char *line,
                        size_t line_len);
/* "yaw,pitch,roll" (any of them, comma-separated) -> EF_OSC_FLIP_*; -1 on another word. */
int ef_live_osc_flips_parse(const char *text, unsigned *flips);

#endif
