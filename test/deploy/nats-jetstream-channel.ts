/**
 * A hand-written check of a NatsJetStreamChannel (messaging.knative.dev/v1alpha1, eventing-natss)
 * against its fields — no schema package exists for it. Field names, types and enum values follow
 * eventing-natss' pkg/apis/messaging/v1alpha1/nats_jetstream_types.go and its CRD
 * (config/jetstream/302-jsm-channel.yaml). Unknown fields are errors: the API server would prune
 * them silently, so a typo would otherwise go unnoticed.
 */

type FieldType = 'string' | 'integer' | 'boolean' | 'duration' | 'object' | 'array' | { enum: readonly string[] };

/** Go `time.ParseDuration` syntax, as metav1.Duration accepts: `168h`, `2m30s`, `150ms`. */
const GO_DURATION = /^(\d+(\.\d+)?(ns|us|µs|ms|s|m|h))+$/;

const STREAM_CONFIG: Record<string, FieldType> = {
  additionalSubjects: 'array',
  retention: { enum: ['Limits', 'Interest', 'Work'] },
  maxConsumers: 'integer',
  maxMsgs: 'integer',
  maxBytes: 'integer',
  discard: { enum: ['Old', 'New'] },
  maxAge: 'duration',
  maxMsgSize: 'integer',
  storage: { enum: ['File', 'Memory'] },
  replicas: 'integer',
  noAck: 'boolean',
  duplicateWindow: 'duration',
  placement: 'object',
  mirror: 'object',
  sources: 'array',
};

const CONSUMER_CONFIG: Record<string, FieldType> = {
  deliverPolicy: { enum: ['All', 'Last', 'New', 'ByStartSequence', 'ByStartTime'] },
  optStartSeq: 'integer',
  optStartTime: 'string',
  ackWait: 'duration',
  maxDeliver: 'integer',
  filterSubject: 'string',
  replayPolicy: { enum: ['Instant', 'Original'] },
  rateLimitBPS: 'integer',
  sampleFrequency: 'string',
  maxAckPending: 'integer',
  consumerType: { enum: ['Push', 'Pull'] },
  fetchMaxWait: 'integer',
  fetchBatchSize: 'integer',
};

const SPEC_FIELDS = ['stream', 'consumerConfigTemplate', 'delivery', 'subscribers', 'deploymentSpecTemplate'];
const STREAM_FIELDS = ['config', 'overrideName'];

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

function checkFields(value: unknown, fields: Record<string, FieldType>, path: string, errors: string[]): void {
  if (!isObject(value)) {
    errors.push(`${path} must be an object`);
    return;
  }
  for (const [key, v] of Object.entries(value)) {
    const type = fields[key];
    const at = `${path}.${key}`;
    if (!type) errors.push(`${at} is not a field of NatsJetStreamChannel`);
    else if (typeof type === 'object') {
      if (typeof v !== 'string' || !type.enum.includes(v)) errors.push(`${at} must be one of ${type.enum.join(', ')}, got ${JSON.stringify(v)}`);
    } else if (type === 'integer') {
      if (!Number.isInteger(v) || (v as number) < 0) errors.push(`${at} must be a non-negative integer`);
    } else if (type === 'duration') {
      if (typeof v !== 'string' || !GO_DURATION.test(v)) errors.push(`${at} must be a Go duration such as 168h or 2m, got ${JSON.stringify(v)}`);
    } else if (type === 'array') {
      if (!Array.isArray(v)) errors.push(`${at} must be an array`);
    } else if (type === 'object') {
      if (!isObject(v)) errors.push(`${at} must be an object`);
    } else if (typeof v !== type) errors.push(`${at} must be a ${type}`);
  }
}

/** Every problem of a NatsJetStreamChannel object (empty when it is valid). */
export function checkNatsJetStreamChannel(obj: unknown): string[] {
  const errors: string[] = [];
  if (!isObject(obj)) return ['a NatsJetStreamChannel must be an object'];
  if (obj.apiVersion !== 'messaging.knative.dev/v1alpha1') errors.push(`apiVersion must be messaging.knative.dev/v1alpha1, got ${JSON.stringify(obj.apiVersion)}`);
  if (obj.kind !== 'NatsJetStreamChannel') errors.push(`kind must be NatsJetStreamChannel, got ${JSON.stringify(obj.kind)}`);
  for (const key of Object.keys(obj)) {
    if (!['apiVersion', 'kind', 'metadata', 'spec'].includes(key)) errors.push(`${key} is not a field of NatsJetStreamChannel`);
  }
  const spec = obj.spec;
  if (spec === undefined) return errors;
  if (!isObject(spec)) return [...errors, 'spec must be an object'];
  for (const key of Object.keys(spec)) if (!SPEC_FIELDS.includes(key)) errors.push(`spec.${key} is not a field of NatsJetStreamChannel`);
  if (spec.stream !== undefined) {
    if (!isObject(spec.stream)) errors.push('spec.stream must be an object');
    else {
      for (const key of Object.keys(spec.stream)) if (!STREAM_FIELDS.includes(key)) errors.push(`spec.stream.${key} is not a field of NatsJetStreamChannel`);
      if (spec.stream.overrideName !== undefined && typeof spec.stream.overrideName !== 'string') errors.push('spec.stream.overrideName must be a string');
      if (spec.stream.config !== undefined) checkFields(spec.stream.config, STREAM_CONFIG, 'spec.stream.config', errors);
      const replicas = (spec.stream.config as Record<string, unknown> | undefined)?.replicas;
      // JetStream allows 1 to 5 replicas of a stream.
      if (Number.isInteger(replicas) && ((replicas as number) < 1 || (replicas as number) > 5)) errors.push('spec.stream.config.replicas must be from 1 to 5');
    }
  }
  if (spec.consumerConfigTemplate !== undefined) checkFields(spec.consumerConfigTemplate, CONSUMER_CONFIG, 'spec.consumerConfigTemplate', errors);
  return errors;
}
