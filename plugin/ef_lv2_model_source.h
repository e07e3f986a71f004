/* Where a plugin finds its model when no path was chosen (state or patch:Set):
 *   - when $EARFLOW_MODEL_DIR is set (read once, in instantiate): there only, so
 *     that a user or a test decides exactly which models a session sees;
 *   - otherwise the bundle's own folder, then the models install folder
 *     (<datadir>/earflow/models, as `earflow --model`).
 * Not real-time safe (reads the environment and the file system). */
#ifndef EF_LV2_MODEL_SOURCE_H
#define EF_LV2_MODEL_SOURCE_H

#include <stddef.h>

/* Fills `path` with the first readable candidate and returns 0; returns -1 and
 * fills `searched` (a human list of the places tried) when there is none. */
int ef_lv2_model_source_find(const char *name, const char *bundle_path, char *path,
                             size_t path_len, char *searched, size_t searched_len);

#endif
