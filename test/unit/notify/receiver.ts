// A local HTTP receiver for notification tests: real HTTP, records every request's path, headers
// and JSON body; answers with the status the test sets. `down()` gives a port nothing listens on.
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface Received {
  path: string;
  headers: IncomingHttpHeaders;
  body: any;
  at: number;
}

export interface Receiver {
  url: string;
  received: Received[];
  /** The status code to answer with (default 200). */
  status: number;
  close(): Promise<void>;
}

export async function startReceiver(): Promise<Receiver> {
  const received: Received[] = [];
  const r = { received, status: 200 } as Receiver;
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const text = Buffer.concat(chunks).toString('utf8');
      let body: unknown = text;
      try {
        body = JSON.parse(text);
      } catch {
        // kept as text: the test sees what arrived
      }
      received.push({ path: req.url ?? '', headers: req.headers, body, at: Date.now() });
      res.writeHead(r.status, { 'content-type': 'text/plain' }).end(r.status < 300 ? 'ok' : 'no');
    });
  });
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  const { port } = server.address() as AddressInfo;
  r.url = `http://127.0.0.1:${port}/hooks/T000/SECRET-PATH`;
  r.close = () => new Promise((done) => server.close(() => done()));
  return r;
}

/** A URL on a port that was just free: a receiver that is down (connection refused). */
export async function downUrl(): Promise<string> {
  const server = createServer();
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((done) => server.close(() => done()));
  return `http://127.0.0.1:${port}/hooks/SECRET-PATH`;
}
