"""The BLE gateway: squad config, connection manager, durable spool, writer, telemetry, chaos and virtual runs."""
