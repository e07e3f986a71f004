/* earflow: the command-line program. Dispatches to one subcommand per file. */
#include "commands.h"
#include "exit_codes.h"

#include <stdio.h>
#include <string.h>

static void usage(FILE *to)
{
    fprintf(to,
        "usage: earflow COMMAND [options]   (earflow COMMAND --help for each)\n"
        "\n"
        "  render    render an audio file through a model\n"
        "  info      describe a model: kind, rates, latency, cost, labels, provenance\n"
        "  bench     measure a model's real-time factor per solver setting\n"
#ifdef EF_HAVE_LIVE
        "  live      process a live input (microphone) in real time (JACK, PortAudio)\n"
        "  devices   list the audio devices live can use\n"
#endif
        "\n"
        "  earflow --version   prints the version\n");
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return EF_EXIT_USAGE;
    }
    const char *cmd = argv[1];
    if (strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0 || strcmp(cmd, "help") == 0) {
        usage(stdout);
        return EF_EXIT_OK;
    }
    if (strcmp(cmd, "--version") == 0) {
        printf("earflow %s\n", EF_VERSION);
        return EF_EXIT_OK;
    }
    if (strcmp(cmd, "render") == 0)
        return ef_cmd_render(argc - 1, argv + 1);
    if (strcmp(cmd, "info") == 0)
        return ef_cmd_info(argc - 1, argv + 1);
    if (strcmp(cmd, "bench") == 0)
        return ef_cmd_bench(argc - 1, argv + 1);
#ifdef EF_HAVE_LIVE
    if (strcmp(cmd, "live") == 0)
        return ef_cmd_live(argc - 1, argv + 1);
    if (strcmp(cmd, "devices") == 0)
        return ef_cmd_devices(argc - 1, argv + 1);
#endif
    fprintf(stderr, "earflow: unknown command '%s' (see earflow --help)\n", cmd);
    return EF_EXIT_USAGE;
}
