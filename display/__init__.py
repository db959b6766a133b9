# Waiting-room board and Vietnamese voice announcer (see issue 4).
