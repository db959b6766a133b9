# Allows `python -m provisioning ...`, used to start role processes with the running interpreter.
from provisioning.entry import main

main()
