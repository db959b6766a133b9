# The dev kit: simulated devices, throwaway servers and sample messages for the demo, the tests and the benches.
