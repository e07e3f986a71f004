/* Audio class: patch:Set / patch:Get of the model path on the atom ports. */
#include "ef_lv2_plugin.h"

#include <lv2/atom/util.h>

#include <string.h>

const char *ef_lv2_patch_read(ef_lv2_plugin *p)
{
    const char *path = NULL;
    const ef_lv2_uris *u = &p->uris;
    LV2_ATOM_SEQUENCE_FOREACH (p->control, ev) {
        if (ev->body.type != u->atom_Object)
            continue;
        const LV2_Atom_Object *obj = (const LV2_Atom_Object *)&ev->body;
        if (obj->body.otype == u->patch_Get) {
            p->notify_path = 1;
            continue;
        }
        if (obj->body.otype != u->patch_Set)
            continue;
        const LV2_Atom *property = NULL, *value = NULL;
        lv2_atom_object_get(obj, u->patch_property, &property, u->patch_value, &value, NULL);
        if (!property || property->type != u->atom_URID ||
            ((const LV2_Atom_URID *)property)->body != u->model)
            continue;
        if (!value || value->type != u->atom_Path || value->size < 2)
            continue;
        const char *s = (const char *)LV2_ATOM_BODY_CONST(value);
        if (s[value->size - 1] == 0) /* a C string within the atom */
            path = s;
    }
    return path;
}

void ef_lv2_patch_write(ef_lv2_plugin *p)
{
    const ef_lv2_uris *u = &p->uris;
    lv2_atom_forge_set_buffer(&p->forge, (uint8_t *)p->notify, p->notify->atom.size);
    LV2_Atom_Forge_Frame sequence;
    if (!lv2_atom_forge_sequence_head(&p->forge, &sequence, 0))
        return;
    const ef_lv2_slot *newest = p->sw.incoming ? p->sw.incoming : p->sw.current;
    if (p->notify_path && newest->path[0]) {
        LV2_Atom_Forge_Frame object;
        lv2_atom_forge_frame_time(&p->forge, 0);
        lv2_atom_forge_object(&p->forge, &object, 0, u->patch_Set);
        lv2_atom_forge_key(&p->forge, u->patch_property);
        lv2_atom_forge_urid(&p->forge, u->model);
        lv2_atom_forge_key(&p->forge, u->patch_value);
        lv2_atom_forge_path(&p->forge, newest->path, (uint32_t)strlen(newest->path));
        lv2_atom_forge_pop(&p->forge, &object);
    }
    p->notify_path = 0;
    lv2_atom_forge_pop(&p->forge, &sequence);
}
