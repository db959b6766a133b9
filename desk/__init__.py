# The officer's desk buttons: Next, Recall and Done wired straight to a Raspberry Pi, for counters without a keypad.
