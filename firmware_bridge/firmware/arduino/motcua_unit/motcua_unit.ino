// A motcua counter unit on an Arduino (Uno/Nano, RP2040 or ESP32 through their Arduino cores): keys, a 4-digit
// TM1637 display and two LEDs, speaking the bridge's serial link over USB with the firmware core (mlink.c).
//
// Before building, copy the core beside this file:  cp ../../mlink.c ../../mlink.h .
// Needs the "TM1637Display" library (Library Manager). Wiring: see docs/firmware-protocol.md, "Arduino unit".
// Which unit it is: set UNIT_KIND (ML_COUNTER_KEYPAD, ML_RATING_KEYPAD or ML_LED_DISPLAY) and a serial number
// of its own per board (motcua bridge probe shows it; ward IT writes it on the case).
#include <TM1637Display.h>

#include "mlink.h"

static const uint8_t UNIT_KIND = ML_COUNTER_KEYPAD;
static const char SERIAL_NO[] = "CK000001";
static const uint8_t FW_MAJOR = 1, FW_MINOR = 3;

static const uint8_t KEY_PINS[] = {2, 3, 4, 5, 6, 7, 8, 9};  // to ground; key codes 1..8 (docs: counter keys)
static const uint8_t KEYS = sizeof KEY_PINS;
static const uint8_t LED_OK = 10, LED_BAD = 11, TM_CLK = 12, TM_DIO = A0;
static const uint16_t DEBOUNCE_MS = 30;

static TM1637Display display(TM_CLK, TM_DIO);
static ml_link link;
static uint8_t stable[KEYS], last_read[KEYS];
static uint32_t changed_at[KEYS], led_until;

static void line_write(void *, const uint8_t *data, uint8_t len) { Serial.write(data, len); }

static uint8_t segments(char c) {
  static const uint8_t digits[] = {0x3F, 0x06, 0x5B, 0x4F, 0x66, 0x6D, 0x7D, 0x07, 0x7F, 0x6F};
  static const uint8_t letters[] = {0x77, 0x7C, 0x39, 0x5E, 0x79, 0x71, 0x3D, 0x76, 0x06, 0x1E, 0x75, 0x38, 0x15,
                                    0x54, 0x3F, 0x73, 0x67, 0x50, 0x6D, 0x78, 0x3E, 0x1C, 0x2A, 0x76, 0x6E, 0x5B};
  if (c >= '0' && c <= '9') return digits[c - '0'];
  if (c >= 'A' && c <= 'Z') return letters[c - 'A'];
  return c == '-' ? 0x40 : 0x00;
}

static void show(void *, const char *text, uint8_t len) {
  uint8_t segs[4] = {0, 0, 0, 0};
  uint8_t from = len > 4 ? len - 4 : 0;  // four digits: the end of a longer label ("A001" of "A001")
  for (uint8_t i = from; i < len; i++) segs[4 - (len - i)] = segments(text[i]);
  display.setSegments(segs, 4, 0);
}

static void feedback(void *, uint8_t code) {
  digitalWrite(LED_OK, code == ML_FB_OK);
  digitalWrite(LED_BAD, code == ML_FB_REFUSED || code == ML_FB_ERROR);
  led_until = millis() + 1500;
}

void setup() {
  Serial.begin(115200);
  for (uint8_t i = 0; i < KEYS; i++) {
    pinMode(KEY_PINS[i], INPUT_PULLUP);
    stable[i] = last_read[i] = HIGH;
  }
  pinMode(LED_OK, OUTPUT);
  pinMode(LED_BAD, OUTPUT);
  display.setBrightness(7);
  static const ml_hw hw = {line_write, show, feedback, 0};
  ml_link_init(&link, &hw, UNIT_KIND, FW_MAJOR, FW_MINOR, UNIT_KIND == ML_LED_DISPLAY ? 0 : KEYS, SERIAL_NO);
}

void loop() {
  uint32_t now = millis();
  while (Serial.available() > 0) ml_link_rx(&link, (uint8_t)Serial.read(), now);
  for (uint8_t i = 0; i < KEYS && UNIT_KIND != ML_LED_DISPLAY; i++) {
    uint8_t level = digitalRead(KEY_PINS[i]);
    if (level != last_read[i]) {
      last_read[i] = level;
      changed_at[i] = now;
    } else if (level != stable[i] && now - changed_at[i] >= DEBOUNCE_MS) {
      stable[i] = level;
      if (level == LOW) ml_link_key(&link, i + 1);  // one key message per press
    }
  }
  if (led_until && (int32_t)(now - led_until) >= 0) {
    digitalWrite(LED_OK, LOW);
    digitalWrite(LED_BAD, LOW);
    led_until = 0;
  }
  ml_link_poll(&link, now);
}
