/** The five functions of the system (one folder each under functions/). */
export const FUNCTION_NAMES = ['webhook-ingest', 'build-dispatch', 'log-ingest', 'cron-relay', 'query-api'] as const;
export type FunctionName = (typeof FUNCTION_NAMES)[number];
export const isFunctionName = (v: unknown): v is FunctionName => FUNCTION_NAMES.includes(v as FunctionName);
