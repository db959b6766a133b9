# The kiosk's touch UI (pygame-ce): service tiles, priority path, confirmation, procedure listings with QR codes.
