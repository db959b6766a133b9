# The ward's web console: the officer's counter screen, ward admin, statistics and the fleet, in a browser.
