/* The firmware core on a PC: plays a counter unit on a pseudo-terminal for tests and benches, checks the shared test
 * vectors, and decodes streams for the fuzz tests. Keys come in on stdin ("key N"), what the unit shows goes out on
 * stdout ("show A001", "feedback ok"). Build: cc -std=c99 -O2 -I.. mlink_unit.c ../mlink.c -o mlink-unit */
#define _XOPEN_SOURCE 600
#define _DEFAULT_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "mlink.h"

static uint32_t millis(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint32_t)(ts.tv_sec * 1000u + ts.tv_nsec / 1000000u);
}

static int hexval(int c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

/* "-" is empty; returns the length, or -1 for bad hex or more than `max` bytes */
static int unhex(const char *s, uint8_t *out, int max) {
    int n = 0, hi, lo;
    if (strcmp(s, "-") == 0) return 0;
    while (s[0] && s[1]) {
        hi = hexval(s[0]);
        lo = hexval(s[1]);
        if (hi < 0 || lo < 0 || n >= max) return -1;
        out[n++] = (uint8_t)(hi << 4 | lo);
        s += 2;
    }
    return s[0] ? -1 : n;
}

static void put_hex(char *out, const uint8_t *data, int len) {
    int i;
    if (len == 0) strcpy(out, "-");
    for (i = 0; i < len; i++) sprintf(out + 2 * i, "%02x", data[i]);
}

/* -- decode: one stream per line, the blocks it gives ---------------------------------------------------------- */
typedef struct {
    char *out;
    size_t used, size;
} text;

static void add_block(void *ctx, const ml_block *b) {
    text *t = (text *)ctx;
    char hex[2 * ML_MAX_PAYLOAD + 2];
    put_hex(hex, b->payload, b->len);
    if (t->used + strlen(hex) + 8 < t->size) t->used += (size_t)sprintf(t->out + t->used, " %u:%u:%s", b->kind, b->seq, hex);
}

static void decode_stream(const uint8_t *data, int len, char *out, size_t size) {
    ml_decoder d;
    text t;
    int i;
    t.out = out;
    t.size = size;
    t.used = 0;
    out[0] = 0;
    ml_decoder_init(&d);
    for (i = 0; i < len; i++) ml_decoder_feed(&d, data[i], add_block, &t);
    if (t.used == 0) strcpy(out, " -");
}

static int decode_mode(void) {
    static char line[70000], out[70000];
    static uint8_t data[35000];
    int len;
    while (fgets(line, sizeof line, stdin)) {
        line[strcspn(line, "\r\n")] = 0;
        len = unhex(line, data, sizeof data);
        if (len < 0) {
            printf("error\n");
        } else {
            decode_stream(data, len, out, sizeof out);
            printf("%s\n", out + 1);
        }
        fflush(stdout);
    }
    return 0;
}

/* -- vectors: the shared test vectors, checked against this codec ------------------------------------------------ */
static int vectors_mode(const char *path) {
    static char line[4096], out[4096], hex[4096];
    char a[1500], b[1500], c[1500], d[1500];
    uint8_t in[700], enc[ML_MAX_BLOCK];
    unsigned kind, seq;
    int len, n = 0, bad = 0, size, lineno = 0;
    FILE *f = fopen(path, "r");
    if (!f) {
        perror(path);
        return 2;
    }
    while (fgets(line, sizeof line, f)) {
        lineno++;
        line[strcspn(line, "\r\n")] = 0;
        if (line[0] == '#' || line[0] == 0) continue;
        n++;
        if (sscanf(line, "crc %1499s %1499s", a, b) == 2) {
            len = unhex(a, in, sizeof in);
            sprintf(out, "%04x", ml_crc16(in, (uint8_t)len));
            if (strcmp(out, b) != 0) { printf("line %d: crc %s, expected %s\n", lineno, out, b); bad++; }
        } else if (sscanf(line, "block %u %u %1499s %1499s", &kind, &seq, a, b) == 4) {
            len = unhex(a, in, sizeof in);
            size = ml_encode((uint8_t)kind, (uint8_t)seq, in, (uint8_t)len, enc);
            put_hex(hex, enc, size);
            if (strcmp(hex, b) != 0) { printf("line %d: encoded %s, expected %s\n", lineno, hex, b); bad++; }
        } else if (sscanf(line, "stream %1499s -> %1499[^\n]", a, d) == 2) {
            len = unhex(a, in, sizeof in);
            decode_stream(in, len, out, sizeof out);
            if (strcmp(out + 1, d) != 0) { printf("line %d: decoded %s, expected %s\n", lineno, out + 1, d); bad++; }
        } else {
            printf("line %d: not a vector: %s\n", lineno, line);
            bad++;
        }
        (void)c;
    }
    fclose(f);
    printf("%d vectors, %d wrong\n", n, bad);
    return bad ? 1 : 0;
}

/* -- run: a unit on a pseudo-terminal ---------------------------------------------------------------------------- */
static int master_fd = -1;

static void hw_write(void *ctx, const uint8_t *data, uint8_t len) {
    ssize_t done;
    (void)ctx;
    while (len) {
        done = write(master_fd, data, len);
        if (done < 0) {
            if (errno == EINTR) continue;
            return; /* nobody has the port open: the bytes are lost, as on a cable nobody listens to */
        }
        data += done;
        len = (uint8_t)(len - done);
    }
}

static void hw_show(void *ctx, const char *shown, uint8_t len) {
    (void)ctx;
    printf("show %.*s\n", len, shown);
    fflush(stdout);
}

static void hw_feedback(void *ctx, uint8_t code) {
    static const char *names[] = {"idle", "ok", "refused", "error"};
    (void)ctx;
    printf("feedback %s\n", code < 4 ? names[code] : "?");
    fflush(stdout);
}

static int kind_code(const char *name) {
    if (strcmp(name, "rating_keypad") == 0) return ML_RATING_KEYPAD;
    if (strcmp(name, "counter_keypad") == 0) return ML_COUNTER_KEYPAD;
    if (strcmp(name, "led_display") == 0) return ML_LED_DISPLAY;
    return 0;
}

static int open_line(const char *link_path) {
    char staged[4096];
    struct termios raw;
    int slave;
    master_fd = posix_openpt(O_RDWR | O_NOCTTY);
    if (master_fd < 0 || grantpt(master_fd) || unlockpt(master_fd)) return -1;
    slave = open(ptsname(master_fd), O_RDWR | O_NOCTTY); /* held open: the line survives the bridge closing it */
    if (slave < 0 || tcgetattr(slave, &raw)) return -1;
    cfmakeraw(&raw);
    if (tcsetattr(slave, TCSANOW, &raw)) return -1;
    snprintf(staged, sizeof staged, "%s.new", link_path);
    unlink(staged);
    if (symlink(ptsname(master_fd), staged) || rename(staged, link_path)) return -1;
    return 0;
}

static int run_mode(int argc, char **argv) {
    ml_link link;
    ml_hw hw;
    struct pollfd fds[2];
    char line[256];
    uint8_t buf[256];
    ssize_t got, i;
    unsigned code;
    int kind = kind_code(argv[2]), keys = argc > 5 ? atoi(argv[5]) : 8;
    if (!kind) {
        fprintf(stderr, "unknown unit kind %s\n", argv[2]);
        return 2;
    }
    if (open_line(argv[4])) {
        perror("opening the pseudo-terminal");
        return 2;
    }
    hw.write = hw_write;
    hw.show = hw_show;
    hw.feedback = hw_feedback;
    hw.ctx = 0;
    ml_link_init(&link, &hw, (uint8_t)kind, 1, 3, (uint8_t)keys, argv[3]);
    printf("ready %s\n", ptsname(master_fd));
    fflush(stdout);
    fds[0].fd = master_fd;
    fds[0].events = POLLIN;
    fds[1].fd = STDIN_FILENO;
    fds[1].events = POLLIN;
    for (;;) {
        if (poll(fds, 2, 5) < 0 && errno != EINTR) return 1;
        if (fds[0].revents & POLLIN) {
            got = read(master_fd, buf, sizeof buf);
            for (i = 0; i < got; i++) ml_link_rx(&link, buf[i], millis());
        }
        if (fds[1].revents & (POLLIN | POLLHUP)) {
            if (!fgets(line, sizeof line, stdin) || strncmp(line, "quit", 4) == 0) break;
            if (sscanf(line, "key %u", &code) == 1) ml_link_key(&link, (uint8_t)code);
            else if (strncmp(line, "fault ", 6) == 0) {
                line[strcspn(line, "\r\n")] = 0;
                ml_link_fault(&link, line + 6);
            } else if (strncmp(line, "stats", 5) == 0) {
                printf("stats sent=%u received=%u retransmits=%u duplicates=%u naks=%u bad=%u dropped=%u resets=%u "
                       "rto=%u\n", link.counters.sent, link.counters.received, link.counters.retransmits,
                       link.counters.duplicates, link.counters.naks, link.counters.bad_messages,
                       link.counters.dropped, link.counters.resets, (unsigned)link.rto);
                fflush(stdout);
            }
        }
        ml_link_poll(&link, millis());
    }
    unlink(argv[4]);
    return 0;
}

int main(int argc, char **argv) {
    if (argc >= 5 && strcmp(argv[1], "run") == 0) return run_mode(argc, argv);
    if (argc == 3 && strcmp(argv[1], "vectors") == 0) return vectors_mode(argv[2]);
    if (argc == 2 && strcmp(argv[1], "decode") == 0) return decode_mode();
    if (argc == 2 && strcmp(argv[1], "sizeof") == 0) {
        printf("ml_link %u ml_decoder %u\n", (unsigned)sizeof(ml_link), (unsigned)sizeof(ml_decoder));
        return 0;
    }
    fprintf(stderr, "usage: mlink-unit run KIND SERIAL LINK_PATH [KEYS] | vectors FILE | decode | sizeof\n");
    return 2;
}
