#include "live_udp.h"

#include "live_osc.h"
#include "number.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

int ef_live_udp_open(const char *spec, ef_error *err)
{
    char address[64] = "127.0.0.1";
    const char *colon = strrchr(spec, ':'), *port_text = colon ? colon + 1 : spec;
    if (colon)
        snprintf(address, sizeof address, "%.*s", (int)(colon - spec), spec);
    long port = 0;
    int bad_port = ef_number_parse_whole(port_text, 1, 65535, &port);
    struct sockaddr_in sa;
    memset(&sa, 0, sizeof sa);
    sa.sin_family = AF_INET;
    sa.sin_port = htons((uint16_t)port);
    if (bad_port || inet_pton(AF_INET, address, &sa.sin_addr) != 1) {
        ef_error_set(err, "--udp %s: expected PORT or ADDRESS:PORT (IPv4)", spec);
        return -1;
    }
    int fd = socket(AF_INET, SOCK_DGRAM, 0);
    if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof sa) != 0 ||
        fcntl(fd, F_SETFL, O_NONBLOCK) != 0) {
        ef_error_set(err, "--udp %s: %s", spec, strerror(errno));
        if (fd >= 0)
            close(fd);
        return -1;
    }
    return fd;
}

int ef_live_udp_receive(int fd, unsigned osc_flips, char *text, size_t len)
{
    unsigned char packet[1500];
    ssize_t n = recv(fd, packet, sizeof packet, 0);
    if (n <= 0)
        return 0;
    /* OSC: an address starting with '/', NUL-padded. Text has no NUL. */
    if (packet[0] == '/' && memchr(packet, 0, (size_t)n)) {
        if (ef_live_osc_to_line(packet, (size_t)n, osc_flips, text, len) != 0)
            return -1;
        return (int)strlen(text);
    }
    if (memchr(packet, 0, (size_t)n) || (size_t)n >= len)
        return -1;
    memcpy(text, packet, (size_t)n);
    text[n] = 0;
    return (int)n;
}
