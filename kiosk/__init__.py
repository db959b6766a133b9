# Ticket kiosk: touch UI, big buttons, ticket printing, procedure listings (see issue 3).
