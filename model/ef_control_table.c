/* The control table (include/earflow.h): one row per control a user sets. Every
 * front end reads it: the program's options and help (common/controls.c), the live
 * command language and OSC (live/live_commands.c), the LV2 ports (plugin/) and their
 * TTL (ttl/gen_ttl.c). The engine side is ef_engine_set_control (ef_engine.c). */
#include "earflow.h"

#include <string.h>

#define ALL ((1u << EF_KIND_IDENTITY) | (1u << EF_KIND_BINAURAL) | (1u << EF_KIND_SEPARATE))
#define NET ((1u << EF_KIND_BINAURAL) | (1u << EF_KIND_SEPARATE))
#define BIN (1u << EF_KIND_BINAURAL)
#define SEP (1u << EF_KIND_SEPARATE)

/* Order = the LV2 port order after each plugin's fixed ports (ttl/gen_ttl.c and
 * plugin/ef_lv2_ports.c both follow it): append new rows at the end. */
static const ef_control_info table[EF_CONTROL_COUNT] = {
    [EF_CONTROL_ENABLED] = {"enabled", "Enabled", ALL, EF_CONTROL_TOGGLE, 0, 1, 1, "",
        "Off crossfades to the dry input, delayed by the latency; the network keeps "
        "running so that turning it back on is seamless.", {"off", "on"}, 0},
    [EF_CONTROL_AZIMUTH] = {"azimuth", "Azimuth", BIN, EF_CONTROL_REAL, -180, 180, 0, "deg",
        "Source direction: 0 front, +90 left, -90 right, 180 behind.", {0}, EF_CONTROL_WRAPS},
    [EF_CONTROL_ELEVATION] = {"elevation", "Elevation", BIN, EF_CONTROL_REAL, -90, 90, 0, "deg",
        "Source elevation: +90 above, -90 below.", {0}, 0},
    [EF_CONTROL_DISTANCE] = {"distance", "Distance", BIN, EF_CONTROL_REAL, 0.2, 10, 1, "m",
        "Source distance; the model clamps it to the range it was trained on.", {0},
        EF_CONTROL_LOGARITHMIC},
    [EF_CONTROL_ROOM] = {"room", "Room", BIN, EF_CONTROL_ROOMS, 0, -1, 0, "",
        "One of the model's rooms; earflow info MODEL lists them.", {0}, 0},
    [EF_CONTROL_YAW] = {"yaw", "Head yaw", BIN, EF_CONTROL_REAL, -180, 180, 0, "deg",
        "Head turn to the left, for head trackers.", {0}, EF_CONTROL_WRAPS},
    [EF_CONTROL_PITCH] = {"pitch", "Head pitch", BIN, EF_CONTROL_REAL, -90, 90, 0, "deg",
        "Head tilt upwards, for head trackers.", {0}, 0},
    [EF_CONTROL_ROLL] = {"roll", "Head roll", BIN, EF_CONTROL_REAL, -180, 180, 0, "deg",
        "Head roll, for head trackers.", {0}, EF_CONTROL_WRAPS},
    [EF_CONTROL_TARGET] = {"target", "Target", SEP, EF_CONTROL_LABELS, 0, -1, 0, "",
        "What to keep or remove: one of the labels the model was trained for.", {0}, 0},
    [EF_CONTROL_MODE] = {"mode", "Mode", SEP, EF_CONTROL_CHOICE, 0, 1, 0, "",
        "Keep the target, or remove it and keep the rest.", {"keep", "remove"}, 0},
    [EF_CONTROL_LIMIT] = {"limit", "Attenuation limit", SEP, EF_CONTROL_REAL, 0,
        EF_ATTENUATION_UNLIMITED_DB, EF_ATTENUATION_UNLIMITED_DB, "dB",
        "How far the unwanted part is pushed down at most; 0 = unchanged, 100 = no limit.",
        {0}, 0},
    [EF_CONTROL_STEPS] = {"steps", "Steps", NET, EF_CONTROL_INTEGER, 0, EF_MAX_STEPS, 0, "",
        "Solver steps; more cost more CPU; 0 = the model's default schedule.",
        {"model default"},
        EF_CONTROL_EXPENSIVE},
    [EF_CONTROL_MIX] = {"mix", "Mix", ALL, EF_CONTROL_REAL, 0, 1, 1, "",
        "Share of the processed signal; the dry part is the (mono) input, latency-aligned.",
        {0}, 0},
    [EF_CONTROL_GAIN] = {"gain", "Output gain", ALL, EF_CONTROL_REAL, EF_GAIN_MIN_DB,
        EF_GAIN_MAX_DB, 0, "dB", "Output gain; -90 dB is silence.", {0}, 0},
    [EF_CONTROL_GOVERNOR] = {"governor", "CPU governor", NET, EF_CONTROL_INTEGER, 0, 95, 0, "%",
        "Live use: when processing takes more than this share of the audio period, the "
        "steps are halved (down to 1) and raised again when there is room; 0 = off.",
        {"off"}, EF_CONTROL_LIVE_ONLY},
    [EF_CONTROL_DECAY] = {"decay", "Decay time", BIN, EF_CONTROL_REAL, 0, 4, 0, "s",
        "Reverberation time (RT60, mid band) of the room; 0 = the room's own. Only for models "
        "with a room tail (earflow info: prior ... + room tail).", {"room's own"}, 0},
};

const ef_control_info *ef_control_get(int control)
{
    return control >= 0 && control < EF_CONTROL_COUNT ? &table[control] : NULL;
}

int ef_control_find(const char *name)
{
    for (int i = 0; name && i < EF_CONTROL_COUNT; i++)
        if (strcmp(table[i].name, name) == 0)
            return i;
    return -1;
}

int ef_control_applies(int control, ef_kind kind)
{
    const ef_control_info *c = ef_control_get(control);
    return c && (c->kinds & (1u << kind)) != 0;
}
