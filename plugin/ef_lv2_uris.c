#include "ef_lv2_uris.h"

#include "ef_lv2_ports.h"

#include <lv2/atom/atom.h>
#include <lv2/buf-size/buf-size.h>
#include <lv2/patch/patch.h>

void ef_lv2_uris_map(ef_lv2_uris *u, LV2_URID_Map *map)
{
    u->atom_Path = map->map(map->handle, LV2_ATOM__Path);
    u->atom_Int = map->map(map->handle, LV2_ATOM__Int);
    u->atom_Float = map->map(map->handle, LV2_ATOM__Float);
    u->atom_Object = map->map(map->handle, LV2_ATOM__Object);
    u->atom_URID = map->map(map->handle, LV2_ATOM__URID);
    u->atom_eventTransfer = map->map(map->handle, LV2_ATOM__eventTransfer);
    u->patch_Set = map->map(map->handle, LV2_PATCH__Set);
    u->patch_Get = map->map(map->handle, LV2_PATCH__Get);
    u->patch_property = map->map(map->handle, LV2_PATCH__property);
    u->patch_value = map->map(map->handle, LV2_PATCH__value);
    u->bufsz_maxBlockLength = map->map(map->handle, LV2_BUF_SIZE__maxBlockLength);
    u->model = map->map(map->handle, EF_LV2_URI_MODEL);
}
