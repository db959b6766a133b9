# Provisioning: the motcua CLI, enrolment and install, fleet status and resets, and the demo ward.
