# Serial link to microcontroller keypads, LED number displays and rating keypads.
