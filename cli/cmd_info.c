/* earflow info: what a model is and what it costs. */
#include "commands.h"

#include "earflow.h"
#include "exit_codes.h"
#include "model_lookup.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <string.h>

static void print_provenance(const char *config_json)
{
    cJSON *cfg = cJSON_Parse(config_json);
    const cJSON *prov = cJSON_GetObjectItem(cfg, "provenance"), *item;
    if (!cJSON_IsObject(prov)) {
        printf("provenance:      (none recorded)\n");
    } else {
        printf("provenance:\n");
        cJSON_ArrayForEach(item, prov)
        {
            char *v = cJSON_IsString(item) ? NULL : cJSON_PrintUnformatted(item);
            printf("  %-14s %s\n", item->string, v ? v : item->valuestring);
            cJSON_free(v);
        }
    }
    cJSON_Delete(cfg);
}

int ef_cmd_info(int argc, char **argv)
{
    if (argc != 2 || argv[1][0] == '-') {
        FILE *to = argc == 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)
                       ? stdout : stderr;
        fprintf(to, "usage: earflow info MODEL\n\n"
                    "Prints a model's kind, rates, latency, size, cost per frame, default\n"
                    "schedule, prior (binaural: what it adds to the input, e.g. a room\n"
                    "tail), rooms or labels and provenance. MODEL: a file, a shipped\n"
                    "model's name, or identity.\n"
                    "\n"
                    "  -h, --help             this help\n");
        return to == stdout ? EF_EXIT_OK : EF_EXIT_USAGE;
    }
    ef_model *m = ef_load_model_argument("info", argv[1]);
    if (!m)
        return EF_EXIT_MODEL;
    const int rate = ef_model_sample_rate(m), hop = ef_model_hop(m);
    ef_solver solver;
    int steps;
    float t0;
    ef_model_default_schedule(m, &solver, &steps, &t0);
    const long macs = ef_model_macs_per_evaluation(m);
    const int evals = ef_solver_evaluations(solver, steps);
    const double frames_per_s = (double)rate / hop;
    printf("model:           %s\n", argv[1]);
    printf("kind:            %s\n", ef_kind_name(ef_model_kind(m)));
    printf("sample rate:     %d Hz (other rates are resampled)\n", rate);
    printf("stft:            n_fft %d, hop %d (%.1f frames/s)\n", ef_model_n_fft(m), hop, frames_per_s);
    printf("channels:        %d in, %d out\n", ef_model_in_channels(m), ef_model_out_channels(m));
    printf("latency:         %d samples (%.2f ms) at %d Hz\n", ef_model_latency(m),
           1000.0 * ef_model_latency(m) / rate, rate);
    if (ef_model_kind(m) != EF_KIND_IDENTITY) {
        printf("parameters:      %ld\n", ef_model_params(m));
        printf("schedule:        %s, %d step%s from t0 = %.2f (%d network evaluations per frame)\n",
               ef_solver_name(solver), steps, steps == 1 ? "" : "s", t0, evals);
        printf("cost:            %.3f MMAC per evaluation, %.3f MMAC per frame, %.1f MMAC/s\n",
               macs / 1e6, macs * (double)evals / 1e6, macs * (double)evals * frames_per_s / 1e6);
        const char *prior = ef_model_prior(m);
        if (prior)
            printf("prior:           %s\n",
                   strcmp(prior, "mono") == 0 ? "mono (the input in both ears)"
                   : strcmp(prior, "spherical_head") == 0
                       ? "spherical head (direct sound only)"
                       : "spherical head + room tail (the late reverberation of each room)");
        /* with a room tail, each room's decay time: what --decay 0 gives there */
        for (int i = 0; i < ef_model_rooms(m); i++) {
            const double rt60 = ef_model_room_rt60(m, i);
            printf("%s%s", i ? ", " : "rooms:           ", ef_model_room_name(m, i));
            if (rt60 > 0)
                printf(" (RT60 %.2f s)", rt60);
        }
        for (int i = 0; i < ef_model_labels(m); i++)
            printf("%s%s%s", i ? ", " : "labels:          ", ef_model_label_name(m, i),
                   ef_model_label_trained(m, i) ? "" : " (not trained: refused)");
        printf("\n");
        print_provenance(ef_model_config_json(m));
    }
    ef_model_free(m);
    return EF_EXIT_OK;
}
