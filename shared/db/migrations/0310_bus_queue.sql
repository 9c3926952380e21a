-- The durable event bus of the local mode without NATS (shared/bus/postgres.ts): every published
-- CloudEvent (structured-mode JSON) is a row of bus_events, fanned out in the same transaction
-- to one bus_deliveries row per durable consumer of its type; a delivery row is deleted when its
-- handler succeeded, moved to bus_dead_letters after too many failures. A 202 given after the
-- publish committed therefore survives kill -9.
CREATE TABLE IF NOT EXISTS bus_events (
  seq BIGSERIAL PRIMARY KEY,
  event_id TEXT NOT NULL UNIQUE,
  type TEXT NOT NULL,
  body TEXT NOT NULL,
  published_at TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS bus_events_type_seq ON bus_events (type, seq);
CREATE TABLE IF NOT EXISTS bus_consumers (
  consumer TEXT NOT NULL,
  type TEXT NOT NULL,
  created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
  PRIMARY KEY (consumer, type)
);
CREATE TABLE IF NOT EXISTS bus_deliveries (
  consumer TEXT NOT NULL,
  type TEXT NOT NULL,
  seq INT8 NOT NULL,
  deliveries INT4 NOT NULL DEFAULT 0,
  not_before TIMESTAMPTZ NOT NULL DEFAULT now(),
  locked_until TIMESTAMPTZ,
  PRIMARY KEY (consumer, type, seq)
);
CREATE TABLE IF NOT EXISTS bus_dead_letters (
  consumer TEXT NOT NULL,
  seq INT8 NOT NULL,
  event_id TEXT NOT NULL,
  type TEXT NOT NULL,
  body TEXT NOT NULL,
  error TEXT NOT NULL,
  deliveries INT4 NOT NULL,
  dead_at TIMESTAMPTZ NOT NULL DEFAULT now(),
  PRIMARY KEY (consumer, seq)
);
