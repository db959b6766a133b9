/* motcua counter units: block codec, CRC-16, and the device end of the link (sequence, ACK/NAK, retransmit). */
#include "mlink.h"

#include <string.h>

uint16_t ml_crc16(const uint8_t *data, uint8_t len) {
    /* CRC-16/CCITT-FALSE: polynomial 0x1021, initial 0xFFFF, no reflection, no final xor */
    uint16_t crc = 0xFFFF;
    uint8_t i, bit;
    for (i = 0; i < len; i++) {
        crc ^= (uint16_t)(data[i] << 8);
        for (bit = 0; bit < 8; bit++) {
            crc = (crc & 0x8000) ? (uint16_t)((crc << 1) ^ 0x1021) : (uint16_t)(crc << 1);
        }
    }
    return crc;
}

uint8_t ml_encode(uint8_t kind, uint8_t seq, const uint8_t *payload, uint8_t len, uint8_t *out) {
    uint8_t size = (uint8_t)(len + ML_MIN_BLOCK);
    uint16_t crc;
    if (kind < ML_DATA || kind > ML_RESET || seq >= ML_SEQ_MOD || len > ML_MAX_PAYLOAD) {
        return 0;
    }
    out[0] = size;
    out[1] = (uint8_t)(kind << 4 | seq);
    if (len) {
        memcpy(out + ML_HEADER, payload, len);
    }
    crc = ml_crc16(out, (uint8_t)(ML_HEADER + len));
    out[ML_HEADER + len] = (uint8_t)(crc >> 8);
    out[ML_HEADER + len + 1] = (uint8_t)(crc & 0xFF);
    out[size - 1] = ML_SYNC;
    return size;
}

/* -- decoder: the same rules as protocol.Decoder fed one byte at a time ---------------------------------------- */
void ml_decoder_init(ml_decoder *d) {
    memset(d, 0, sizeof *d);
}

static int sizes_ok(uint8_t size) {
    return size >= ML_MIN_BLOCK && size <= ML_MAX_BLOCK;
}

/* 0 if the bytes at `at` are one whole good block, else why not: 1 length, 2 short, 3 sync, 4 crc */
static int check(const ml_decoder *d, uint8_t at) {
    uint8_t size = d->buf[at];
    uint16_t crc;
    if (!sizes_ok(size)) return 1;
    if (d->n - at < size) return 2;
    if (d->buf[at + size - 1] != ML_SYNC) return 3;
    crc = ml_crc16(d->buf + at, (uint8_t)(size - ML_TRAILER));
    if (crc != (uint16_t)(d->buf[at + size - 3] << 8 | d->buf[at + size - 2])) return 4;
    return 0;
}

static void drop(ml_decoder *d, uint8_t count) {
    memmove(d->buf, d->buf + count, (size_t)(d->n - count));
    d->n = (uint8_t)(d->n - count);
}

void ml_decoder_feed(ml_decoder *d, uint8_t byte, ml_block_fn fn, void *ctx) {
    static const uint8_t reason[] = {0, ML_ERR_LENGTH, ML_ERR_TORN, ML_ERR_SYNC, ML_ERR_CRC};
    ml_block block;
    uint8_t size, i, later;
    int problem;
    if (d->n == ML_MAX_BLOCK) { /* cannot happen (a head waits for at most ML_MAX_BLOCK bytes); kept bounded */
        d->errors[ML_ERR_TORN]++;
        drop(d, 1);
    }
    d->buf[d->n++] = byte;
    while (d->n) {
        size = d->buf[0];
        if (!sizes_ok(size)) {
            d->errors[ML_ERR_LENGTH]++;
            drop(d, 1);
            continue;
        }
        if (d->n < size) {
            later = 0;
            for (i = 1; i < d->n; i++) {
                if (check(d, i) == 0) { later = i; break; }
            }
            if (!later) return;
            d->errors[ML_ERR_TORN]++; /* a whole good block follows: this head will never complete */
            drop(d, later);
            continue;
        }
        problem = check(d, 0);
        if (problem) {
            d->errors[reason[problem]]++;
            drop(d, 1);
            continue;
        }
        block.kind = d->buf[1] >> 4;
        block.seq = d->buf[1] & 0x0F;
        block.len = (uint8_t)(size - ML_MIN_BLOCK);
        memcpy(block.payload, d->buf + ML_HEADER, block.len);
        drop(d, size);
        if (block.kind < ML_DATA || block.kind > ML_RESET) {
            d->errors[ML_ERR_KIND]++;
            continue;
        }
        fn(ctx, &block);
    }
}

/* -- the device end of the link --------------------------------------------------------------------------- */
static void send_block(ml_link *l, uint8_t kind, uint8_t seq, const uint8_t *payload, uint8_t len) {
    uint8_t out[ML_MAX_BLOCK];
    uint8_t size = ml_encode(kind, seq, payload, len, out);
    if (size) l->hw.write(l->hw.ctx, out, size);
}

static void send_reset(ml_link *l, uint16_t token) {
    uint8_t t[2];
    t[0] = (uint8_t)(token >> 8);
    t[1] = (uint8_t)(token & 0xFF);
    send_block(l, ML_RESET, 0, t, 2);
}

static void enqueue(ml_link *l, uint8_t id, const uint8_t *args, uint8_t len) {
    ml_msg *m;
    if (len > ML_ARGS_MAX) len = ML_ARGS_MAX;
    if (l->q_count == ML_QUEUE) { /* full: the oldest goes, as on the host */
        l->q_head = (uint8_t)((l->q_head + 1) % ML_QUEUE);
        l->q_count--;
        l->counters.dropped++;
    }
    m = &l->queue[(l->q_head + l->q_count) % ML_QUEUE];
    m->id = id;
    m->len = len;
    if (len) memcpy(m->args, args, len);
    l->q_count++;
}

static void push_front(ml_link *l, const uint8_t *payload, uint8_t len) {
    /* an unacknowledged block's messages go back to the head of the queue, in their order */
    uint8_t at[ML_MAX_PAYLOAD / 2], n = 0, pos = 0, k;
    ml_msg *m;
    while (pos + 2 <= len && pos + 2 + payload[pos + 1] <= len && n < sizeof at) {
        at[n++] = pos;
        pos = (uint8_t)(pos + 2 + payload[pos + 1]);
    }
    for (k = n; k > 0; k--) {
        pos = at[k - 1];
        if (l->q_count == ML_QUEUE) { /* full: the newest waits no longer */
            l->q_count--;
            l->counters.dropped++;
        }
        l->q_head = (uint8_t)((l->q_head + ML_QUEUE - 1) % ML_QUEUE);
        m = &l->queue[l->q_head];
        m->id = payload[pos];
        m->len = payload[pos + 1] > ML_ARGS_MAX ? ML_ARGS_MAX : payload[pos + 1];
        memcpy(m->args, payload + pos + 2, m->len);
        l->q_count++;
    }
}

static void restart(ml_link *l) {
    if (l->inflight) push_front(l, l->inflight_payload, l->inflight_len);
    l->inflight = 0;
    l->tx_seq = l->rx_expected = 0;
}

void ml_link_init(ml_link *l, const ml_hw *hw, uint8_t kind, uint8_t fw_major, uint8_t fw_minor, uint8_t keys,
                  const char *serial) {
    uint8_t n;
    memset(l, 0, sizeof *l);
    l->hw = *hw;
    l->kind = kind;
    l->fw_major = fw_major;
    l->fw_minor = fw_minor;
    l->keys = keys;
    for (n = 0; n < ML_SERIAL_MAX && serial[n]; n++) l->serial[n] = serial[n]; /* not NUL-ended at 16 */
    l->rto = ML_RTO_START_MS;
    ml_decoder_init(&l->dec);
    send_reset(l, 0); /* power-on: the host starts the link over */
}

static uint32_t clamp_rto(uint32_t ms) {
    return ms < ML_RTO_MIN_MS ? ML_RTO_MIN_MS : ms > ML_RTO_MAX_MS ? ML_RTO_MAX_MS : ms;
}

static void sample(ml_link *l, uint32_t rtt) {
    uint32_t diff;
    if (rtt == 0) rtt = 1;
    if (l->srtt == 0) {
        l->srtt = rtt;
        l->rttvar = rtt / 2;
    } else {
        diff = l->srtt > rtt ? l->srtt - rtt : rtt - l->srtt;
        l->rttvar = (3 * l->rttvar + diff) / 4;
        l->srtt = (7 * l->srtt + rtt) / 8;
    }
    l->rto = clamp_rto(l->srtt + 4 * l->rttvar);
}

static void acked(ml_link *l, uint8_t next_seq, uint32_t now) {
    if (!l->inflight || next_seq != (l->inflight_seq + 1) % ML_SEQ_MOD) return;
    if (l->tries == 1) {
        sample(l, now - l->sent_at);
    } else { /* Karn: a retransmitted block gives no clean sample */
        l->rto = clamp_rto(2 * (l->srtt ? l->srtt : ML_RTO_START_MS));
    }
    l->inflight = 0;
    l->tx_seq = next_seq;
}

static void handle(ml_link *l, uint8_t id, const uint8_t *args, uint8_t len) {
    uint8_t ident[4 + ML_SERIAL_MAX], n;
    switch (id) {
    case ML_IDENTIFY:
        ident[0] = l->kind;
        ident[1] = l->fw_major;
        ident[2] = l->fw_minor;
        ident[3] = l->keys;
        for (n = 0; n < ML_SERIAL_MAX && l->serial[n]; n++) ident[4 + n] = (uint8_t)l->serial[n];
        enqueue(l, ML_IDENTITY, ident, (uint8_t)(4 + n));
        break;
    case ML_PING:
        enqueue(l, ML_PONG, 0, 0);
        break;
    case ML_SHOW:
        l->hw.show(l->hw.ctx, (const char *)args, len > ML_SHOW_MAX ? ML_SHOW_MAX : len);
        break;
    case ML_FEEDBACK:
        if (len >= 1) l->hw.feedback(l->hw.ctx, args[0]);
        break;
    default: /* a message this firmware does not know: ignored, so a newer host stays compatible */
        break;
    }
}

static void data_block(ml_link *l, const ml_block *b) {
    uint8_t pos = 0;
    if (b->seq != l->rx_expected) {
        if (b->seq == (l->rx_expected + ML_SEQ_MOD - 1) % ML_SEQ_MOD) {
            l->counters.duplicates++; /* ours already: acknowledged again, not applied again */
            send_block(l, ML_ACK, l->rx_expected, 0, 0);
        } else {
            send_block(l, ML_NAK, l->rx_expected, 0, 0);
        }
        return;
    }
    l->rx_expected = (uint8_t)((l->rx_expected + 1) % ML_SEQ_MOD);
    send_block(l, ML_ACK, l->rx_expected, 0, 0);
    l->counters.received++;
    /* check every message fits before applying any: a bad block is dropped whole, as on the host */
    while (pos < b->len) {
        if (pos + 2 > b->len || pos + 2 + b->payload[pos + 1] > b->len) {
            l->counters.bad_messages++;
            return;
        }
        pos = (uint8_t)(pos + 2 + b->payload[pos + 1]);
    }
    for (pos = 0; pos < b->len; pos = (uint8_t)(pos + 2 + b->payload[pos + 1])) {
        handle(l, b->payload[pos], b->payload + pos + 2, b->payload[pos + 1]);
    }
}

typedef struct {
    ml_link *link;
    uint32_t now;
} rx_ctx;

static void on_block(void *ctx, const ml_block *b) {
    rx_ctx *c = (rx_ctx *)ctx;
    ml_link *l = c->link;
    switch (b->kind) {
    case ML_RESET: /* the host (re)starts the link: start over and answer with its token */
        l->counters.resets++;
        restart(l);
        send_reset(l, b->len >= 2 ? (uint16_t)(b->payload[0] << 8 | b->payload[1]) : 0);
        break;
    case ML_ACK:
        acked(l, b->seq, c->now);
        break;
    case ML_NAK:
        l->counters.naks++;
        if (l->inflight && l->inflight_seq == b->seq) l->resend_now = 1;
        break;
    default:
        data_block(l, b);
        break;
    }
}

void ml_link_rx(ml_link *l, uint8_t byte, uint32_t now_ms) {
    rx_ctx c;
    c.link = l;
    c.now = now_ms;
    ml_decoder_feed(&l->dec, byte, on_block, &c);
}

void ml_link_poll(ml_link *l, uint32_t now) {
    uint8_t size;
    ml_msg *m;
    if (l->inflight) {
        if (l->resend_now || (uint32_t)(now - l->sent_at) >= l->rto) {
            l->tries++;
            l->sent_at = now;
            l->resend_now = 0;
            l->counters.retransmits++;
            l->rto = clamp_rto(2 * l->rto);
            send_block(l, ML_DATA, l->inflight_seq, l->inflight_payload, l->inflight_len);
        }
        return;
    }
    if (!l->q_count) return;
    size = 0;
    while (l->q_count) {
        m = &l->queue[l->q_head];
        if (size + 2 + m->len > ML_MAX_PAYLOAD) break;
        l->inflight_payload[size] = m->id;
        l->inflight_payload[size + 1] = m->len;
        memcpy(l->inflight_payload + size + 2, m->args, m->len);
        size = (uint8_t)(size + 2 + m->len);
        l->q_head = (uint8_t)((l->q_head + 1) % ML_QUEUE);
        l->q_count--;
    }
    l->inflight = 1;
    l->inflight_seq = l->tx_seq;
    l->inflight_len = size;
    l->tries = 1;
    l->resend_now = 0;
    l->sent_at = now;
    l->counters.sent++;
    send_block(l, ML_DATA, l->tx_seq, l->inflight_payload, size);
}

void ml_link_key(ml_link *l, uint8_t code) {
    enqueue(l, ML_KEY, &code, 1);
}

void ml_link_fault(ml_link *l, const char *text) {
    uint8_t n = 0;
    while (n < ML_ARGS_MAX && text[n]) n++;
    enqueue(l, ML_FAULT, (const uint8_t *)text, n);
}
