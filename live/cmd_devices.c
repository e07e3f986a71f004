/* earflow devices: the audio devices `earflow live` can use, and whether a JACK
 * server is running. */
#include "commands.h"

#include "exit_codes.h"
#include "live_backend.h"

#include <stdio.h>
#include <string.h>

int ef_cmd_devices(int argc, char **argv)
{
    if (argc > 1 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
        printf("usage: earflow devices\n\nLists the PortAudio devices (index, host API, "
               "channels, default rate, name) for\n`earflow live --backend portaudio --input "
               "DEV --output DEV`, and says whether a JACK\nserver is running.\n\n"
               "  -h, --help             this help\n");
        return EF_EXIT_OK;
    }
    if (argc > 1) {
        fprintf(stderr, "earflow devices: unexpected argument '%s'\n", argv[1]);
        return EF_EXIT_USAGE;
    }
#ifdef EF_HAVE_JACK
    printf("JACK server: %s\n", ef_live_jack_available() ? "running" : "not running");
#else
    printf("JACK: not built in\n");
#endif
#ifdef EF_HAVE_PORTAUDIO
    ef_error err = {{0}};
    if (ef_live_portaudio_list(stdout, &err) != 0) {
        fprintf(stderr, "earflow devices: %s\n", err.message);
        return EF_EXIT_FAILURE;
    }
#else
    printf("PortAudio: not built in\n");
#endif
    return EF_EXIT_OK;
}
