-- The webhook path no longer touches the database: a quick redelivery is dropped by JetStream's
-- duplicate window (the event id is derived from the delivery id), a late one by build-dispatch's
-- per-event idempotency (processed_events, builds.event_id). The table only grew.
DROP TABLE IF EXISTS webhook_deliveries;
