/* The plugin instance, shared by the files that implement its interfaces:
 * ef_lv2_plugin.c (life cycle, run), ef_lv2_worker.c (model loading),
 * ef_lv2_state.c (save/restore), ef_lv2_patch.c (patch messages). */
#ifndef EF_LV2_PLUGIN_H
#define EF_LV2_PLUGIN_H

#include "ef_lv2_ports.h"
#include "ef_lv2_settings.h"
#include "ef_lv2_slot.h"
#include "ef_lv2_switch.h"
#include "ef_lv2_uris.h"

#include <lv2/atom/atom.h>
#include <lv2/atom/forge.h>
#include <lv2/core/lv2.h>
#include <lv2/log/logger.h>
#include <lv2/state/state.h>
#include <lv2/worker/worker.h>

#include <stdatomic.h>

/* Without options, blocks are processed in chunks of at most this. */
#define EF_LV2_DEFAULT_MAX_BLOCK 8192
#define EF_LV2_RETIRE_QUEUE 32
#define EF_LV2_IN_FLIGHT 8

typedef struct ef_lv2_plugin {
    const ef_lv2_variant *variant;
    /* ports */
    float *ports[EF_LV2_ROLE_COUNT];     /* the fixed ports by role */
    float *controls[EF_CONTROL_COUNT];   /* the control ports by control */
    const LV2_Atom_Sequence *control;
    LV2_Atom_Sequence *notify;
    /* host features (any may be NULL) */
    LV2_URID_Map *map;
    LV2_Worker_Schedule *schedule;
    LV2_Log_Logger logger;
    ef_lv2_uris uris;
    LV2_Atom_Forge forge;
    double rate;
    int max_block;
    char bundle_path[EF_LV2_PATH_MAX];
    /* audio thread */
    ef_lv2_switch sw;
    ef_lv2_settings applied;  /* what the engines were last given */
    ef_lv2_settings previous; /* the controls before this run's */
    int fresh;                /* first run since activate: snap to the controls */
    int notify_path;          /* send the model path on notify at the next run */
    ef_lv2_slot *refused;     /* a slot whose engines refused the target label (to log) */
    ef_lv2_slot *retire[EF_LV2_RETIRE_QUEUE]; /* slots waiting to be freed by the worker */
    int n_retire;
    /* The chosen model file of the playing slot, "" when it is the default (then
     * state saves no path). Written on the audio thread when a swap completes. */
    char chosen_path[EF_LV2_PATH_MAX];
    /* worker and instantiation threads only */
    char newest_path[EF_LV2_PATH_MAX]; /* the model of the newest slot built ("" identity) */
    int newest_chosen;
    char default_path[EF_LV2_PATH_MAX]; /* found by ef_model_find_file, "" if none */
    /* Slots the worker has answered with, until work_response takes them (worker and
     * audio thread): a host may drop answers still queued when it deactivates and
     * cleans up, so cleanup frees what is left here. */
    _Atomic(ef_lv2_slot *) in_flight[EF_LV2_IN_FLIGHT];
    /* restore() -> audio thread: a slot for the restored model, adopted at the next
     * run() (restore may run beside run(): ef_lv2_state.c). */
    _Atomic(ef_lv2_slot *) restored;
} ef_lv2_plugin;

/* Worker messages (ef_lv2_worker.c). */
typedef enum ef_lv2_msg_type {
    EF_LV2_MSG_LOAD,    /* audio -> worker: build a slot from path (chosen by the user) */
    EF_LV2_MSG_REBUILD, /* audio -> worker: rebuild the newest model with new settings */
    EF_LV2_MSG_FREE,    /* audio -> worker: free a retired slot */
    EF_LV2_MSG_READY,   /* worker -> audio: a slot to crossfade to */
    EF_LV2_MSG_REFUSED, /* audio -> worker: log that slot refused settings.target */
} ef_lv2_msg_type;

typedef struct ef_lv2_msg {
    ef_lv2_msg_type type;
    ef_lv2_settings settings;
    ef_lv2_slot *slot;
    char path[]; /* LOAD only, NUL-terminated */
} ef_lv2_msg;

/* Instantiation class: the slot for a model path (NULL or "": the default model, or
 * identity when there is none), with every problem logged. Never NULL unless out of
 * memory or the rate is unsupported. Sets *chosen when the path itself was used. */
ef_lv2_slot *ef_lv2_plugin_make_slot(ef_lv2_plugin *p, const char *path, int *chosen);

/* Audio thread: queue a slot for freeing by the worker (sent at the end of run). */
void ef_lv2_plugin_retire(ef_lv2_plugin *p, ef_lv2_slot *slot);
/* Audio thread: starts a crossfade to a new slot with the current settings. */
void ef_lv2_plugin_begin_swap(ef_lv2_plugin *p, ef_lv2_slot *slot);

/* ef_lv2_patch.c. Audio thread. Reads the control port; returns the model path of
 * the last patch:Set (pointing into the atom buffer) or NULL; sets notify_path on
 * patch:Get. */
const char *ef_lv2_patch_read(ef_lv2_plugin *p);
/* Audio thread: prepares the notify port and writes a patch:Set if asked. */
void ef_lv2_patch_write(ef_lv2_plugin *p);

/* ef_lv2_worker.c */
LV2_Worker_Status ef_lv2_work(LV2_Handle instance, LV2_Worker_Respond_Function respond,
                              LV2_Worker_Respond_Handle handle, uint32_t size, const void *data);
LV2_Worker_Status ef_lv2_work_response(LV2_Handle instance, uint32_t size, const void *data);

/* ef_lv2_state.c */
LV2_State_Status ef_lv2_state_save(LV2_Handle instance, LV2_State_Store_Function store,
                                   LV2_State_Handle handle, uint32_t flags,
                                   const LV2_Feature *const *features);
LV2_State_Status ef_lv2_state_restore(LV2_Handle instance, LV2_State_Retrieve_Function retrieve,
                                      LV2_State_Handle handle, uint32_t flags,
                                      const LV2_Feature *const *features);

#endif
