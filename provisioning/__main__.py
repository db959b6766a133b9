# Allows `python -m provisioning ...`, used to start role processes with the running interpreter.
from provisioning.cli import main

main()
