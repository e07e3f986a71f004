/* Private model layout shared by the loader and the engine. */
#ifndef EF_MODEL_INTERNAL_H
#define EF_MODEL_INTERNAL_H

#include "earflow.h"
#include "ef_room_tail.h"
#include "ef_safetensors.h"
#include "ef_unet.h"

#define EF_MAX_NAMES 32
#define EF_NAME_LEN 32

struct ef_model {
    ef_kind kind;
    int sample_rate, n_fft, hop;
    int in_channels, out_channels;
    /* network models only */
    float alpha, beta, sigma, t0;
    ef_solver solver;
    int steps;
    double smoothing_ms;
    float dist_min, dist_max;
    int n_rooms, n_labels;
    int head_prior;      /* binaural: conditioning.prior "spherical_head" */
    int room_tail;       /* binaural: conditioning.room_tail (a late tail added to the prior) */
    ef_room_tail_tables tail_tables;
    int mask_head;       /* arch.head "mask": the network output is a complex mask on the input */
    int remove_subtract; /* separate: conditioning.remove "subtract" (remove = mixture - keep) */
    char rooms[EF_MAX_NAMES][EF_NAME_LEN], labels[EF_MAX_NAMES][EF_NAME_LEN];
    unsigned trained_labels; /* bit i: label i was trained (conditioning.trained_labels) */
    char *config_json;
    ef_st_file *file;
    ef_unet net;
    long params;
};

#endif
