/* Instantiation class: the model path in the host's state, portable via map-path.
 * Only a chosen path is stored; without one the default model is used on restore. */
#include "ef_lv2_plugin.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const void *feature(const LV2_Feature *const *features, const char *uri)
{
    for (int i = 0; features && features[i]; i++)
        if (features[i]->URI && !strcmp(features[i]->URI, uri))
            return features[i]->data;
    return NULL;
}

/* The host's path mapping for state (either may be absent). */
typedef struct path_features {
    const LV2_State_Map_Path *mapper;
    const LV2_State_Free_Path *freer;
} path_features;

static path_features path_features_of(const LV2_Feature *const *features)
{
    path_features pf = {feature(features, LV2_STATE__mapPath), feature(features, LV2_STATE__freePath)};
    return pf;
}

static void free_path(const LV2_State_Free_Path *freer, char *path)
{
    if (freer)
        freer->free_path(freer->handle, path);
    else
        free(path);
}

LV2_State_Status ef_lv2_state_save(LV2_Handle instance, LV2_State_Store_Function store,
                                   LV2_State_Handle handle, uint32_t flags,
                                   const LV2_Feature *const *features)
{
    (void)flags;
    ef_lv2_plugin *p = instance;
    if (!p->map)
        return LV2_STATE_ERR_NO_FEATURE;
    if (!p->chosen_path[0])
        return LV2_STATE_SUCCESS; /* the default model: nothing to store */
    const path_features pf = path_features_of(features);
    char *stored = pf.mapper ? pf.mapper->abstract_path(pf.mapper->handle, p->chosen_path)
                             : p->chosen_path;
    if (!stored)
        return LV2_STATE_ERR_UNKNOWN;
    LV2_State_Status status = store(handle, p->uris.model, stored, strlen(stored) + 1,
                                    p->uris.atom_Path, LV2_STATE_IS_POD | LV2_STATE_IS_PORTABLE);
    if (pf.mapper)
        free_path(pf.freer, stored);
    return status;
}

LV2_State_Status ef_lv2_state_restore(LV2_Handle instance, LV2_State_Retrieve_Function retrieve,
                                      LV2_State_Handle handle, uint32_t flags,
                                      const LV2_Feature *const *features)
{
    (void)flags;
    ef_lv2_plugin *p = instance;
    const path_features pf = path_features_of(features);
    if (!p->map)
        return LV2_STATE_ERR_NO_FEATURE;
    size_t size = 0;
    uint32_t type = 0, vflags = 0;
    const char *value = retrieve(handle, p->uris.model, &size, &type, &vflags);
    char path[EF_LV2_PATH_MAX] = "";
    if (value && type == p->uris.atom_Path && size > 1 && memchr(value, 0, size)) {
        char *absolute = pf.mapper ? pf.mapper->absolute_path(pf.mapper->handle, value) : NULL;
        snprintf(path, sizeof path, "%s", absolute ? absolute : value);
        if (absolute)
            free_path(pf.freer, absolute);
        if (access(path, R_OK) != 0) {
            lv2_log_warning(&p->logger, "earflow: the saved model %s is gone; using the "
                            "default model\n", path);
            path[0] = 0;
        }
    }
    /* restore is in the instantiation class, but Ardour calls it for every preset it
     * loads while run() goes on in its process thread (a preset holds only port
     * values): the slot playing was freed under run() (a crash in 2 of 3 Ardour test
     * runs beside stress-ng). So restore never touches what run() uses: the model
     * already playing needs nothing; another is built here and handed over through
     * `restored`, which run() adopts (adopt_restored in ef_lv2_plugin.c). */
    if (strcmp(path, p->chosen_path) == 0) {
        ef_lv2_slot_free(atomic_exchange(&p->restored, NULL)); /* a restore undone */
        return LV2_STATE_SUCCESS;
    }
    int chosen;
    ef_lv2_slot *slot = ef_lv2_plugin_make_slot(p, path, &chosen);
    if (!slot)
        return LV2_STATE_ERR_UNKNOWN;
    /* An earlier restored slot that run() has not taken yet never played: free it. */
    ef_lv2_slot_free(atomic_exchange(&p->restored, slot));
    return LV2_STATE_SUCCESS;
}
