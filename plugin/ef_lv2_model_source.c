#include "ef_lv2_model_source.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#ifndef EF_MODELS_INSTALL_DIR
#error "EF_MODELS_INSTALL_DIR must be defined by the build"
#endif

int ef_lv2_model_source_find(const char *name, const char *bundle_path, char *path,
                             size_t path_len, char *searched, size_t searched_len)
{
    const char *env = getenv("EARFLOW_MODEL_DIR");
    const int override = env && env[0];
    const char *dirs[3] = {override ? env : NULL, override ? NULL : bundle_path,
                           override ? NULL : EF_MODELS_INSTALL_DIR};
    searched[0] = 0;
    for (int i = 0; i < 3; i++) {
        if (!dirs[i])
            continue;
        size_t len = strlen(dirs[i]);
        const char *sep = len > 0 && dirs[i][len - 1] == '/' ? "" : "/";
        int w = snprintf(path, path_len, "%s%s%s.safetensors", dirs[i], sep, name);
        if (w > 0 && (size_t)w < path_len && access(path, R_OK) == 0)
            return 0;
        size_t used = strlen(searched);
        snprintf(searched + used, searched_len - used, "%s%s", used ? ", " : "", dirs[i]);
    }
    path[0] = 0;
    return -1;
}
