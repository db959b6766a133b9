/* motcua counter units: the device side of the bridge's serial link, in portable C99 (docs/firmware-protocol.md).
 *
 * No dynamic memory, no stdio, no floating point: one ml_link (about 400 bytes, see the docs) holds all
 * state. The hardware is reached only through the ml_hw functions the firmware provides. The byte layout, the
 * timers and the message catalogue mirror firmware_bridge/protocol.py and session.py; the shared test vectors
 * (vectors.txt) and the tests in tests/test_firmware_c.py hold both sides to the same bytes. */
#ifndef MLINK_H
#define MLINK_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" { /* an Arduino sketch is C++ */
#endif

/* Block: len | kind<<4 | seq | payload (0..59 bytes) | crc16 big-endian | sync */
#define ML_SYNC 0x7E
#define ML_HEADER 2
#define ML_TRAILER 3
#define ML_MIN_BLOCK 5
#define ML_MAX_BLOCK 64
#define ML_MAX_PAYLOAD (ML_MAX_BLOCK - ML_MIN_BLOCK)
#define ML_SEQ_MOD 16

enum { ML_DATA = 1, ML_ACK = 2, ML_NAK = 3, ML_RESET = 4 };

/* Messages: id, length of the arguments, arguments. Host -> device below 0x80, device -> host above. */
enum {
    ML_IDENTIFY = 0x01, ML_PING = 0x02, ML_SHOW = 0x10, ML_FEEDBACK = 0x11,
    ML_IDENTITY = 0x81, ML_PONG = 0x82, ML_KEY = 0x90, ML_FAULT = 0x91
};
enum { ML_RATING_KEYPAD = 1, ML_COUNTER_KEYPAD = 2, ML_LED_DISPLAY = 3 };
enum { ML_FB_IDLE = 0, ML_FB_OK = 1, ML_FB_REFUSED = 2, ML_FB_ERROR = 3 };

#define ML_SHOW_MAX 8
#define ML_SERIAL_MAX 16
#define ML_ARGS_MAX 20    /* the longest arguments a device sends: an identity, 4 + ML_SERIAL_MAX */
#define ML_QUEUE 8        /* messages waiting to be sent; the oldest is dropped when full (counted) */
#define ML_RTO_MIN_MS 25u
#define ML_RTO_MAX_MS 5000u
#define ML_RTO_START_MS 250u

/* Decoder skip reasons, as firmware_bridge.protocol.Decoder counts them. */
enum { ML_ERR_LENGTH, ML_ERR_SYNC, ML_ERR_CRC, ML_ERR_KIND, ML_ERR_TORN, ML_ERRORS };

typedef struct {
    uint8_t kind, seq, len;
    uint8_t payload[ML_MAX_PAYLOAD];
} ml_block;

typedef struct {
    uint8_t buf[ML_MAX_BLOCK];
    uint8_t n;
    uint16_t errors[ML_ERRORS];
} ml_decoder;

typedef void (*ml_block_fn)(void *ctx, const ml_block *block);

uint16_t ml_crc16(const uint8_t *data, uint8_t len);
/* Writes one block into out (ML_MAX_BLOCK bytes); returns its size, or 0 for a kind, seq or length out of range. */
uint8_t ml_encode(uint8_t kind, uint8_t seq, const uint8_t *payload, uint8_t len, uint8_t *out);
void ml_decoder_init(ml_decoder *d);
/* Feeds one byte from the line; calls fn for each whole, good block it completes (noise skipped, counted). */
void ml_decoder_feed(ml_decoder *d, uint8_t byte, ml_block_fn fn, void *ctx);

/* What the firmware provides: the line, and what the unit shows. */
typedef struct {
    void (*write)(void *ctx, const uint8_t *data, uint8_t len);
    void (*show)(void *ctx, const char *text, uint8_t len);  /* up to ML_SHOW_MAX of 0-9 A-Z space - */
    void (*feedback)(void *ctx, uint8_t code);               /* ML_FB_*: a LED or a beep */
    void *ctx;
} ml_hw;

typedef struct {
    uint8_t id, len;
    uint8_t args[ML_ARGS_MAX];
} ml_msg;

typedef struct {
    uint16_t sent, received, retransmits, duplicates, naks, bad_messages, dropped, resets;
} ml_counters;

typedef struct {
    ml_hw hw;
    ml_decoder dec;
    ml_counters counters;
    uint8_t kind, fw_major, fw_minor, keys;
    char serial[ML_SERIAL_MAX];
    uint8_t tx_seq, rx_expected;
    uint8_t inflight, inflight_seq, inflight_len, tries, resend_now;
    uint8_t inflight_payload[ML_MAX_PAYLOAD];
    uint32_t sent_at, rto, srtt, rttvar; /* milliseconds; srtt 0: no sample yet */
    ml_msg queue[ML_QUEUE];
    uint8_t q_head, q_count;
} ml_link;

/* Starts the link at power-on: announces a RESET (token 0) so the host starts over. */
void ml_link_init(ml_link *link, const ml_hw *hw, uint8_t kind, uint8_t fw_major, uint8_t fw_minor, uint8_t keys,
                  const char *serial);
void ml_link_rx(ml_link *link, uint8_t byte, uint32_t now_ms);  /* every byte read from the line */
void ml_link_poll(ml_link *link, uint32_t now_ms);              /* often (every few ms): sends what is due */
void ml_link_key(ml_link *link, uint8_t code);                  /* a key pressed (debounced by the firmware) */
void ml_link_fault(ml_link *link, const char *text);            /* a fault to report (up to ML_ARGS_MAX chars) */

#ifdef __cplusplus
}
#endif

#endif
