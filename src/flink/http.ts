/**
 * The shared HTTP layer of the Flink clients: one axios instance per base URL, every response checked
 * against a zod schema, every failure turned into a FlinkApiError that names `METHOD /path`.
 * Endpoints are described as data (method, path template, response schema) so that each client file
 * reads as a table of the API it speaks.
 */
import axios, { AxiosError, AxiosInstance } from 'axios';
import { z } from 'zod';

import { FlinkApiError, isTransientNetworkCode } from './errors';
import { parseJsonLossless } from './json';

type HttpMethod = 'GET' | 'POST' | 'PATCH' | 'DELETE';

/** A response schema: whatever came over the wire in, a typed value out. */
type ResponseSchema<T> = z.ZodType<T, z.ZodTypeDef, unknown>;

/** `'/jobs/:jobId/savepoints/:triggerId'` -> `'jobId' | 'triggerId'` */
type ParamNames<P extends string> = P extends `${string}:${infer Name}/${infer Rest}`
  ? Name | ParamNames<`/${Rest}`>
  : P extends `${string}:${infer Name}`
    ? Name
    : never;

type PathParams<P extends string> = { readonly [K in ParamNames<P>]: string };

interface Endpoint<P extends string, T> {
  readonly method: HttpMethod;
  /** Path template relative to the base URL, with `:name` placeholders. */
  readonly path: P;
  readonly response: ResponseSchema<T>;
  /** Keep numbers a double cannot hold exactly as strings (SQL result rows). */
  readonly losslessNumbers?: boolean;
}

/** The answer of an endpoint that answers `{}` (or nothing gridflow reads). */
export const emptyObjectSchema = z.object({});

export function endpoint<P extends string, T>(
  method: HttpMethod,
  path: P,
  response: ResponseSchema<T>,
  options: { losslessNumbers?: boolean } = {},
): Endpoint<P, T> {
  return { method, path, response, ...options };
}

interface CallInit {
  body?: unknown;
  query?: Readonly<Record<string, string>>;
}

export interface HttpClientOptions {
  /** Per-request timeout. Flink answers in milliseconds when healthy; 10 s means something is wrong. */
  timeoutMs?: number;
}

const DEFAULT_TIMEOUT_MS = 10_000;

export class FlinkHttp {
  private readonly axios: AxiosInstance;

  constructor(readonly baseUrl: string, options: HttpClientOptions = {}) {
    this.axios = axios.create({
      baseURL: baseUrl.replace(/\/+$/, ''),
      timeout: options.timeoutMs ?? DEFAULT_TIMEOUT_MS,
      headers: { Accept: 'application/json' },
      // We read the body as text and parse it ourselves: a non-JSON body becomes a clear parse error
      // instead of axios silently handing back a string, and result rows can be parsed losslessly.
      responseType: 'text',
      transformResponse: [(data: unknown) => data],
      // Non-2xx answers carry Flink's `errors`; we map them ourselves rather than via AxiosError.
      validateStatus: () => true,
      // The control plane talks to its clusters directly; a stray HTTP_PROXY in a worker's environment
      // must not reroute loopback traffic.
      proxy: false,
      // Timeouts as ETIMEDOUT rather than the ambiguous ECONNABORTED.
      transitional: { clarifyTimeoutError: true },
    });
  }

  /** Calls a described endpoint, filling `:params` (URI-encoded) into its path. */
  call<P extends string, T>(ep: Endpoint<P, T>, params: PathParams<P>, init: CallInit = {}): Promise<T> {
    const path = fillPath(ep.path, params) + queryString(init.query);
    return this.request(ep.method, path, init.body, ep.response, { losslessNumbers: ep.losslessNumbers });
  }

  /** Sends one request and validates the 2xx body with `schema`; anything else throws FlinkApiError. */
  async request<T>(
    method: HttpMethod,
    path: string,
    body: unknown,
    schema: ResponseSchema<T>,
    options: { losslessNumbers?: boolean } = {},
  ): Promise<T> {
    let status: number;
    let text: string;
    try {
      const res = await this.axios.request<string>({
        method,
        url: path,
        data: body === undefined ? undefined : JSON.stringify(body),
        headers: body === undefined ? {} : { 'Content-Type': 'application/json' },
      });
      status = res.status;
      text = typeof res.data === 'string' ? res.data : '';
    } catch (err) {
      throw networkError(method, path, err);
    }

    if (status < 200 || status >= 300) throw httpError(method, path, status, text);

    let json: unknown;
    try {
      json = text.trim() === '' ? undefined : options.losslessNumbers ? parseJsonLossless(text) : JSON.parse(text);
    } catch (err) {
      throw new FlinkApiError({
        method,
        path,
        kind: 'parse',
        status,
        issues: [`body is not JSON: ${JSON.stringify(text.slice(0, 120))}`],
        cause: err,
      });
    }

    const parsed = schema.safeParse(json);
    if (!parsed.success) {
      throw new FlinkApiError({ method, path, kind: 'parse', status, issues: formatIssues(parsed.error), cause: parsed.error });
    }
    return parsed.data;
  }
}

export function fillPath<P extends string>(template: P, params: PathParams<P>): string {
  const values = params as Readonly<Record<string, string>>;
  return template.replace(/:([A-Za-z]\w*)/g, (_, name: string) => {
    const value = values[name];
    if (value === undefined) throw new Error(`path parameter ${name} missing for ${template}`);
    return encodeURIComponent(value);
  });
}

function queryString(query: Readonly<Record<string, string>> | undefined): string {
  if (!query || Object.keys(query).length === 0) return '';
  return '?' + new URLSearchParams(query as Record<string, string>).toString();
}

/** `latest.completed.external_path: Expected string, received number` */
function formatIssues(error: z.ZodError): string[] {
  return error.issues.map((i) => `${i.path.length > 0 ? i.path.join('.') : '(root)'}: ${i.message}`);
}

function httpError(method: string, path: string, status: number, text: string): FlinkApiError {
  const flinkErrors = extractFlinkErrors(text);
  return new FlinkApiError({
    method,
    path,
    kind: 'http',
    status,
    flinkErrors,
    // Not Flink's envelope (a proxy page, an empty body): show the start of it.
    detail: flinkErrors.length === 0 && text.trim() !== '' ? `body: ${JSON.stringify(text.slice(0, 200))}` : undefined,
  });
}

/** Flink's error body is `{"errors": ["...", ...]}`; anything else yields []. */
function extractFlinkErrors(text: string): string[] {
  try {
    const parsed = flinkErrorBody.safeParse(JSON.parse(text));
    return parsed.success ? parsed.data.errors : [];
  } catch {
    return [];
  }
}

const flinkErrorBody = z.object({ errors: z.array(z.string()) });

function networkError(method: string, path: string, err: unknown): FlinkApiError {
  if (!(err instanceof AxiosError)) {
    return new FlinkApiError({ method, path, kind: 'connection', detail: String(err), cause: err, transient: false });
  }
  const code = err.code;
  const timedOut = code === 'ETIMEDOUT' || code === 'ECONNABORTED';
  return new FlinkApiError({
    method,
    path,
    kind: timedOut ? 'timeout' : 'connection',
    detail: code ? `${code} (${err.message})` : err.message,
    transient: timedOut || isTransientNetworkCode(code) || code === undefined,
    // Not the AxiosError itself: it carries the request config, whose body may hold SQL with
    // connector passwords. The underlying socket error is enough to debug a network failure.
    cause: err.cause instanceof Error ? err.cause : new Error(err.message),
  });
}
