/* earflow: the public C API of libearflow, the only header a program needs (the plugin,
 * the earflow program, the tests and any embedding program use it).
 *
 * A model (ef_model) is loaded once and is read-only afterwards; any number of
 * engines (ef_engine) may run on it, one per stream. The model must outlive its
 * engines. Threading classes:
 *   - load/free/new/free: not real-time safe (they allocate and may read files);
 *   - ef_engine_process, ef_engine_set_*, ef_engine_latency, ef_engine_reset:
 *     real-time safe: no allocation, no lock, no system call, no logging.
 * Functions that can fail return NULL or non-zero and fill `err` when given. */
#ifndef EARFLOW_H
#define EARFLOW_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Only what this header declares is exported from libearflow (built with hidden
 * visibility by default). */
#if defined(__GNUC__)
#define EF_API __attribute__((visibility("default")))
#else
#define EF_API
#endif

/* A human-readable error, filled by any earflow call that can fail. The caller owns
 * it: no global state. */
#define EF_ERROR_MAX 256
typedef struct ef_error {
    char message[EF_ERROR_MAX];
} ef_error;

/* Fills err (if not NULL) with a printf-style message; for programs that report their
 * own errors through the same struct. Not real-time safe. */
EF_API void ef_error_set(ef_error *err, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;

#define EF_MAX_BLOCK 65536
/* The largest number of solver steps an engine can run (its buffer bank size). */
#define EF_MAX_STEPS 8

typedef struct ef_model ef_model;
typedef struct ef_engine ef_engine;

typedef enum ef_kind {
    EF_KIND_IDENTITY, /* STFT -> ISTFT, a diagnostic of the signal path */
    EF_KIND_BINAURAL, /* mono in, stereo (left, right) out */
    EF_KIND_SEPARATE, /* mono mixture in, mono estimate out */
} ef_kind;

typedef enum ef_solver {
    EF_SOLVER_EULER,    /* one network evaluation per step */
    EF_SOLVER_MIDPOINT, /* two per step, second order */
} ef_solver;

/* The built-in identity model: 48 kHz, n_fft 512, hop 128, no network. */
EF_API ef_model *ef_model_identity(ef_error *err);
/* Loads and validates a model file (docs/model-spec.md). Never trusts the file:
 * any inconsistency gives NULL and a message naming what is wrong. */
EF_API ef_model *ef_model_load(const char *path, ef_error *err);
/* The same checks on a model file's bytes in memory (copied: the caller keeps them). */
EF_API ef_model *ef_model_load_memory(const void *bytes, size_t size, ef_error *err);
EF_API void ef_model_free(ef_model *model);

EF_API ef_kind ef_model_kind(const ef_model *model);
EF_API const char *ef_kind_name(ef_kind kind);
EF_API int ef_model_sample_rate(const ef_model *model);
EF_API int ef_model_n_fft(const ef_model *model);
EF_API int ef_model_hop(const ef_model *model);
EF_API int ef_model_in_channels(const ef_model *model);
EF_API int ef_model_out_channels(const ef_model *model);
/* Latency at the model's rate in samples (n_fft). */
EF_API int ef_model_latency(const ef_model *model);
EF_API long ef_model_params(const ef_model *model);
EF_API long ef_model_macs_per_evaluation(const ef_model *model);
/* The model's config JSON (kind, rates, arch, provenance), NULL for identity. */
EF_API const char *ef_model_config_json(const ef_model *model);
EF_API int ef_model_rooms(const ef_model *model);
EF_API const char *ef_model_room_name(const ef_model *model, int index);
EF_API int ef_model_labels(const ef_model *model);
EF_API const char *ef_model_label_name(const ef_model *model, int index);
/* The file of a shipped model by name ("binaural", "separate"): the first readable
 * NAME.safetensors in $EARFLOW_MODEL_DIR when that is set (there only, so that a user or
 * a test decides exactly which models a session sees), else in local_dir (the front
 * end's own folder: the plugin's bundle, the program's source tree; NULL for none),
 * else in the installed models folder (<datadir>/earflow/models). 0 with the path, or
 * -1 with err naming the folders searched. Not real-time safe. */
EF_API int ef_model_find_file(const char *name, const char *local_dir, char *path,
                              size_t path_len, ef_error *err);
/* The index of the room or label of that name (exact match), -1 when none. */
EF_API int ef_model_find_room(const ef_model *model, const char *name);
EF_API int ef_model_find_label(const ef_model *model, const char *name);
/* 1 when the model was trained for that label (conditioning.trained_labels; a file
 * without that list was trained for all), 0 when not or out of range. */
EF_API int ef_model_label_trained(const ef_model *model, int index);
/* The label an engine starts at: the first one the model was trained for (0 when the
 * model has no labels). */
EF_API int ef_model_default_label(const ef_model *model);
EF_API void ef_model_default_schedule(const ef_model *model, ef_solver *solver, int *steps, float *t0);
EF_API int ef_solver_evaluations(ef_solver solver, int steps);
EF_API const char *ef_solver_name(ef_solver solver);
/* The instruction set of the network's kernels on this CPU: "portable", "avx2" or
 * "avx512" (the environment variable EARFLOW_KERNEL, read at load, forces one). */
EF_API const char *ef_model_kernel_name(const ef_model *model);
/* What a binaural model's flow starts from and adds to (spec section 4): "mono",
 * "spherical_head" or "spherical_head+room_tail"; NULL for the other kinds. */
EF_API const char *ef_model_prior(const ef_model *model);
/* The mid-band RT60 in seconds of a room's tail (conditioning.room_tail): what the
 * decay control's 0 gives in that room. 0 for a room without a tail, an index out of
 * range, and models without room tails. */
EF_API double ef_model_room_rt60(const ef_model *model, int index);

/* sample_rate: the host's, 8000..192000 Hz (whole numbers); other rates than the
 * model's are resampled inside. max_block: the largest n given to process,
 * 1..EF_MAX_BLOCK. */
EF_API ef_engine *ef_engine_new(const ef_model *model, double sample_rate, int max_block,
                                ef_error *err);
EF_API void ef_engine_free(ef_engine *engine);

/* Real-time safe. in: ef_model_in_channels() pointers, out: ef_model_out_channels()
 * pointers, n samples each, 0 <= n <= max_block (larger n is clamped to max_block:
 * a caller error). in and out may alias. Output sample i corresponds to input sample
 * i - ef_engine_latency(). */
EF_API void ef_engine_process(ef_engine *engine, const float *const *in, float *const *out, int n);
/* Real-time safe. Constant for the engine's life, in host samples. */
EF_API int ef_engine_latency(const ef_engine *engine);
/* Real-time safe (no allocation, lock or system call; tests/lv2 checks it under the
 * rt_guard interposer): clears all history. When resampling it also re-primes the
 * converters, bounded work of the order of one block. */
EF_API void ef_engine_reset(ef_engine *engine);
/* Blocks in which the resampler FIFO underran (0 unless something is badly wrong). */
EF_API long ef_engine_underruns(const ef_engine *engine);
/* Bad input samples: NaN, +-Inf, or beyond +-EF_INPUT_LIMIT (+120 dBFS: not audio but
 * garbage such as uninitialised memory; the limit also keeps every sum inside the
 * engine far from overflow). Each is replaced by 0 before anything uses it (the dry
 * path, the resampler, the STFT), so none ever reaches the output. */
#define EF_INPUT_LIMIT 1e6f
/* Real-time safe. Bad input samples replaced since creation (all input channels). */
EF_API long ef_engine_bad_samples(const ef_engine *engine);
/* Real-time safe. Network output frames (per output channel) that came out
 * non-finite or out of range (a bin above +60 dB over the largest a full-scale
 * input gives) and were replaced by silence, since creation. */
EF_API long ef_engine_bad_frames(const ef_engine *engine);
/* The sum of the two above. */
EF_API long ef_engine_sanitized(const ef_engine *engine);
EF_API size_t ef_engine_memory_bytes(const ef_engine *engine);

/* Controls. All real-time safe; they take effect at the next STFT frame and are
 * smoothed per frame. Out-of-range values are clamped, NaN is ignored.
 * Binaural: azimuth degrees (0 front, +90 left), elevation degrees (+90 above),
 * distance metres (clamped to the model's range); head yaw/pitch/roll degrees are
 * folded into the source direction. Separation: label index, remove (keep = 0).
 * ef_engine_set_label returns -1 and keeps the current label when the (clamped)
 * label is one the model was not trained for (ef_model_label_trained), else 0. */
EF_API void ef_engine_set_position(ef_engine *e, double azimuth, double elevation, double distance);
EF_API void ef_engine_set_head(ef_engine *e, double yaw, double pitch, double roll);
EF_API void ef_engine_set_room(ef_engine *e, int room);
EF_API int ef_engine_set_label(ef_engine *e, int label);
EF_API void ef_engine_set_remove(ef_engine *e, int remove);
/* Solver schedule: steps 1..EF_MAX_STEPS, t0 in [0, 0.99]. Taken at the next STFT
 * frame; each new evaluation continues the network history of the old evaluation
 * nearest in t, so a change does not restart the network. */
EF_API void ef_engine_set_schedule(ef_engine *e, ef_solver solver, int steps, float t0);
EF_API void ef_engine_get_schedule(const ef_engine *e, ef_solver *solver, int *steps, float *t0);
/* Real-time safe. The steps the last frame ran: the schedule's, or fewer while the CPU
 * governor (EF_CONTROL_GOVERNOR) holds them down; and how often the governor changed
 * them since creation. */
EF_API int ef_engine_running_steps(const ef_engine *e);
EF_API long ef_engine_governor_changes(const ef_engine *e);
/* Output blend, at the host rate, after the network; every change glides over a few
 * milliseconds, so none clicks. The dry signal is the input delayed by exactly the
 * latency (for binaural, the mono input on both ears).
 * mix: 0..1 share of the processed signal (1 = fully processed, the default).
 * attenuation limit (separation models): how far the unwanted part (what keep or
 * remove takes away) is pushed down at most, in dB: 0 = unchanged, >= 100 (the
 * default, EF_ATTENUATION_UNLIMITED_DB) = no limit.
 * bypass: non-zero crossfades to the aligned dry input; processing continues so
 * that leaving bypass is seamless.
 * output gain: dB, -90..+24; <= -90 is silence. */
#define EF_ATTENUATION_UNLIMITED_DB 100.0f
#define EF_GAIN_MIN_DB -90.0f
#define EF_GAIN_MAX_DB 24.0f
EF_API void ef_engine_set_mix(ef_engine *e, float mix);
EF_API void ef_engine_set_attenuation_limit(ef_engine *e, float db);
EF_API void ef_engine_set_bypass(ef_engine *e, int bypass);
EF_API void ef_engine_set_output_gain(ef_engine *e, float db);

/* Noise seed, used from the next ef_engine_reset (and at creation: seed 0). */
EF_API void ef_engine_set_seed(ef_engine *e, unsigned long long seed);

/* ---- The control table: every control a user sets, one row each ----
 * Every front end is made from it: the program's --NAME options and help, the live
 * command "NAME VALUE" and OSC /earflow/NAME, the LV2 port with symbol NAME (its
 * range, default, unit and comment), and ef_engine_set_control below. A new control
 * is one row here plus its case in ef_engine_set_control (docs/architecture.md). */
typedef enum ef_control {
    EF_CONTROL_ENABLED,   /* the host's bypass switch: 0 = bypassed */
    EF_CONTROL_AZIMUTH,
    EF_CONTROL_ELEVATION,
    EF_CONTROL_DISTANCE,
    EF_CONTROL_ROOM,
    EF_CONTROL_YAW,
    EF_CONTROL_PITCH,
    EF_CONTROL_ROLL,
    EF_CONTROL_TARGET,
    EF_CONTROL_MODE,      /* 0 keep the target, 1 remove it */
    EF_CONTROL_LIMIT,
    EF_CONTROL_STEPS,     /* 0 = the model's default schedule */
    EF_CONTROL_MIX,
    EF_CONTROL_GAIN,
    EF_CONTROL_GOVERNOR,  /* % of the period; 0 = off */
    EF_CONTROL_DECAY,     /* s, the room tail's mid-band RT60; 0 = each room's own */
    EF_CONTROL_COUNT
} ef_control;

typedef enum ef_control_type {
    EF_CONTROL_REAL,    /* a number in min..max */
    EF_CONTROL_INTEGER, /* a whole number in min..max */
    EF_CONTROL_TOGGLE,  /* 0 or 1, named choices[0] and choices[1] (off, on) */
    EF_CONTROL_CHOICE,  /* an index into choices */
    EF_CONTROL_ROOMS,   /* an index into the model's rooms (max: the model's count - 1) */
    EF_CONTROL_LABELS,  /* an index into the model's labels (max: the model's count - 1) */
} ef_control_type;

/* How a value outside min..max acts. Programs (earflow render, live) refuse it with
 * a message, except for EF_CONTROL_WRAPS; the engine and the LV2 plugin, which
 * cannot refuse in the audio thread, clamp it. NaN is always ignored. */
#define EF_CONTROL_WRAPS 1u       /* an angle: any value wraps into min..max */
#define EF_CONTROL_LOGARITHMIC 2u /* best shown on a log scale */
#define EF_CONTROL_EXPENSIVE 4u   /* a change costs CPU */
#define EF_CONTROL_LIVE_ONLY 8u   /* for real-time use: earflow render refuses it */
#define EF_CONTROL_MAX_CHOICES 4

typedef struct ef_control_info {
    const char *name;        /* the one name: --NAME, "NAME v", /earflow/NAME, LV2 symbol */
    const char *title;       /* for a user interface: "Head yaw" */
    unsigned kinds;          /* bit (1u << ef_kind) for each model kind it applies to */
    ef_control_type type;
    double min, max, def;    /* ROOMS, LABELS: max is -1 (the model's count - 1) */
    const char *unit;        /* "deg", "m", "dB" or "" */
    const char *description; /* one line, for --help, the TTL and the README */
    const char *choices[EF_CONTROL_MAX_CHOICES]; /* names of min, min+1 ...: the values of
                                                  * TOGGLE and CHOICE, marks on INTEGER */
    unsigned flags;          /* EF_CONTROL_WRAPS ... */
} ef_control_info;

/* The row of a control; NULL outside 0..EF_CONTROL_COUNT-1. */
EF_API const ef_control_info *ef_control_get(int control);
/* The control with this name, or -1. */
EF_API int ef_control_find(const char *name);
/* 1 when the control applies to models of this kind. */
EF_API int ef_control_applies(int control, ef_kind kind);
/* Sets one control (the value as in its row: an index for ROOMS, LABELS and CHOICE,
 * 0/1 for TOGGLE). Real-time safe: the one applier every front end uses. A control
 * that does not apply to the engine's model is ignored. Returns -1 when the engine
 * refused the value (a label the model was not trained for), else 0. */
EF_API int ef_engine_set_control(ef_engine *e, ef_control control, double value);
/* The value the engine holds (STEPS: the steps of its schedule, never 0). */
EF_API double ef_engine_get_control(const ef_engine *e, ef_control control);

#ifdef __cplusplus
}
#endif

#endif
