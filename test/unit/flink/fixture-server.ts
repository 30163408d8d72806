/**
 * A real HTTP server on an ephemeral port that answers with recorded Flink responses, so the clients
 * are exercised through axios, sockets and all (not a mocked axios).
 */
import { readFileSync } from 'node:fs';
import { createServer, IncomingMessage, Server, ServerResponse } from 'node:http';
import { AddressInfo } from 'node:net';
import { join } from 'node:path';

const FIXTURES = join(__dirname, '..', '..', 'fixtures', 'flink');

export interface Fixture {
  status: number;
  body: unknown;
  /** The exact text Flink sent, when JSON.parse would have changed it (BIGINT values). */
  rawBody?: string;
  request: { method: string; path: string; body?: unknown };
}

export function fixture(name: string): Fixture {
  return JSON.parse(readFileSync(join(FIXTURES, `${name}.json`), 'utf8')) as Fixture;
}

export interface Reply {
  status: number;
  /** Serialized as JSON unless `text` is given. */
  body?: unknown;
  text?: string;
  /** Never answer (for timeout tests). */
  hang?: boolean;
}

export interface SeenRequest {
  method: string;
  path: string;
  body: unknown;
}

export type Handler = (req: SeenRequest) => Reply | Fixture | undefined;

export interface FixtureServer {
  baseUrl: string;
  requests: SeenRequest[];
  close(): Promise<void>;
}

/** Starts a server; `handler` returns a reply, or undefined for a loud 599 "no route". */
export async function serve(handler: Handler): Promise<FixtureServer> {
  const requests: SeenRequest[] = [];
  const hanging: ServerResponse[] = [];
  const server: Server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const text = Buffer.concat(chunks).toString('utf8');
      const seen: SeenRequest = { method: req.method ?? '', path: req.url ?? '', body: text === '' ? undefined : JSON.parse(text) };
      requests.push(seen);
      const reply = handler(seen);
      if (reply && 'hang' in reply && reply.hang) {
        hanging.push(res);
        return;
      }
      if (!reply) {
        res.writeHead(599, { 'Content-Type': 'application/json' });
        res.end(JSON.stringify({ errors: [`no fixture route for ${seen.method} ${seen.path}`] }));
        return;
      }
      const payload =
        'rawBody' in reply && typeof reply.rawBody === 'string'
          ? reply.rawBody
          : 'text' in reply && typeof reply.text === 'string'
            ? reply.text
            : JSON.stringify(reply.body);
      res.writeHead(reply.status, { 'Content-Type': 'application/json' });
      res.end(payload);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    baseUrl: `http://127.0.0.1:${port}`,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        for (const res of hanging) res.destroy();
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** A port on which nothing listens (bound, then released). */
export async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}
