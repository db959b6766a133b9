# The satisfaction devices at a counter: the GPIO rating keypad and the touch rating terminal.
