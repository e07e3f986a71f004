/* The URIDs the plugin uses, mapped once in instantiate. */
#ifndef EF_LV2_URIS_H
#define EF_LV2_URIS_H

#include <lv2/urid/urid.h>

typedef struct ef_lv2_uris {
    LV2_URID atom_Path, atom_Int, atom_Float, atom_Object, atom_URID, atom_eventTransfer;
    LV2_URID patch_Set, patch_Get, patch_property, patch_value;
    LV2_URID bufsz_maxBlockLength;
    LV2_URID model; /* EF_LV2_URI_MODEL */
} ef_lv2_uris;

void ef_lv2_uris_map(ef_lv2_uris *u, LV2_URID_Map *map);

#endif
