/**
 * zod schemas for the Flink SQL Gateway REST API, version /v2 (Flink 1.20), checked against responses
 * recorded from a real 1.20.3 gateway (test/fixtures/flink/gateway-*.json).
 */
import { z } from 'zod';

export const sessionHandleSchema = z.object({ sessionHandle: z.string().uuid() }).transform((r) => r.sessionHandle);
export const sessionConfigSchema = z.object({ properties: z.record(z.string(), z.string()) }).transform((r) => r.properties);
export const operationHandleSchema = z.object({ operationHandle: z.string().uuid() }).transform((r) => r.operationHandle);

const OPERATION_STATUSES = [
  'INITIALIZED',
  'PENDING',
  'RUNNING',
  'FINISHED',
  'CANCELED',
  'CLOSED',
  'ERROR',
  'TIMEOUT',
] as const;
/** Note: for DML and streaming SELECT, FINISHED means "job submitted", not "job done". */
export type OperationStatus = (typeof OPERATION_STATUSES)[number];
export const operationStatusSchema = z.object({ status: z.enum(OPERATION_STATUSES) }).transform((r) => r.status);

/** Flink's RowKind in JSON row format: +I, -U, +U, -D. */
const ROW_KINDS = ['INSERT', 'UPDATE_BEFORE', 'UPDATE_AFTER', 'DELETE'] as const;
type RowKind = (typeof ROW_KINDS)[number];

const columnSchema = z
  .object({
    name: z.string(),
    logicalType: z.object({ type: z.string(), nullable: z.boolean() }).passthrough(),
    comment: z.string().nullable(),
  })
  .transform((c) => ({
    name: c.name,
    /** Flink's logical type root, e.g. "BIGINT", "VARCHAR", "TIMESTAMP_WITHOUT_TIME_ZONE". */
    type: c.logicalType.type,
    nullable: c.logicalType.nullable,
    /** The whole type description (length, precision, scale, ...). */
    logicalType: c.logicalType as Readonly<Record<string, unknown>>,
  }));
export type ResultColumn = z.output<typeof columnSchema>;

export interface ResultRow {
  readonly kind: RowKind;
  /**
   * Column values in JSON form: numbers, strings (timestamps are ISO-like strings, e.g.
   * "2024-01-02T03:04:05.123"), booleans, null, arrays/objects for composite types. BIGINT/DECIMAL
   * values a double cannot hold exactly arrive as their decimal text (a string).
   */
  readonly fields: readonly unknown[];
}
const rowSchema = z.object({ kind: z.enum(ROW_KINDS), fields: z.array(z.unknown()) });

const notReadyPage = z.object({ resultType: z.literal('NOT_READY'), nextResultUri: z.string() });
const dataPage = z.object({
  resultType: z.enum(['PAYLOAD', 'EOS']),
  isQueryResult: z.boolean(),
  jobID: z.string().optional(),
  resultKind: z.enum(['SUCCESS', 'SUCCESS_WITH_CONTENT']),
  results: z.object({
    columns: z.array(columnSchema),
    rowFormat: z.literal('JSON'),
    data: z.array(rowSchema),
  }),
  nextResultUri: z.string().optional(),
});

export interface ResultPage {
  /** NOT_READY: ask the same token again later. PAYLOAD: rows (possibly none yet). EOS: no more pages. */
  readonly resultType: 'NOT_READY' | 'PAYLOAD' | 'EOS';
  /** True for SELECT-like statements, false for DDL/DML/SET. */
  readonly isQueryResult: boolean;
  /** Set when the statement submitted a Flink job (INSERT, STATEMENT SET, SELECT). */
  readonly jobId: string | null;
  readonly columns: readonly ResultColumn[];
  readonly rows: readonly ResultRow[];
  /** The next page to fetch; absent on EOS. */
  readonly nextResultUri: string | null;
}

export const resultPageSchema = z
  .discriminatedUnion('resultType', [notReadyPage, dataPage.extend({ resultType: z.literal('PAYLOAD') }), dataPage.extend({ resultType: z.literal('EOS') })])
  .transform((p): ResultPage => {
    if (p.resultType === 'NOT_READY') {
      return { resultType: 'NOT_READY', isQueryResult: false, jobId: null, columns: [], rows: [], nextResultUri: p.nextResultUri };
    }
    return {
      resultType: p.resultType,
      isQueryResult: p.isQueryResult,
      jobId: p.jobID ?? null,
      columns: p.results.columns,
      rows: p.results.data,
      nextResultUri: p.nextResultUri ?? null,
    };
  });

export const infoSchema = z.object({ productName: z.string(), version: z.string() });
export type GatewayInfo = z.output<typeof infoSchema>;
