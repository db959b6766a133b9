# The ward bus: MQTT contract, resilient client, durable outbox and device config shared by every role.
