// The connection layer: the only code that touches `mssql`. The adapter talks to this small
// interface, so its control flow is tested against a fake (test/unit/sqlserver/adapter.test.ts).
import mssql from 'mssql';
import type { DbRef } from '../../plan/personalization-upgrade/types.js';
import { parseServerName } from './server-name.js';
import type { SqlParam, Statement } from './statements.js';

export type Row = Record<string, unknown>;

export interface SqlResult {
  recordsets: Row[][];
  /** PRINT output and informational messages, in order. */
  messages: string[];
  /** An informational message raised with state 127 (RAISERROR(…, 10, 127)): sqlcmd quits the script there. */
  quit?: { number: number; message: string };
}

/** One dedicated connection, for a script whose batches must share session state. */
export interface SqlSession {
  batch(sql: string): Promise<SqlResult>;
  close(): Promise<void>;
}

export interface SqlConnections {
  /** Runs one parameterized statement on the server's pool (database `master`). */
  execute(server: string, statement: Statement): Promise<SqlResult>;
  /** Opens one connection to a database; the caller closes it. */
  openSession(db: DbRef): Promise<SqlSession>;
  close(): Promise<void>;
}

export type SqlLogin =
  { kind: 'sql'; user: string; password: string } | { kind: 'windows'; domain: string; user: string; password: string };

export interface MssqlOptions {
  /** Called when a pool is created: credentials are resolved on the worker, at connect time. */
  login: () => SqlLogin;
  /** TLS: on by default; trust a self-signed server certificate only when asked. */
  encrypt?: boolean;
  trustServerCertificate?: boolean;
  /** 0 = none: BACKUP and merge runs can take hours; activity heartbeats bound them instead. */
  requestTimeoutMs?: number;
  connectionTimeoutMs?: number;
}

export function createMssqlConnections(options: MssqlOptions): SqlConnections {
  const pools = new Map<string, Promise<mssql.ConnectionPool>>();

  const config = (server: string, database: string, max: number): mssql.config => {
    const address = parseServerName(server);
    const login = options.login();
    return {
      server: address.host,
      ...(address.port !== undefined && { port: address.port }),
      database,
      ...(login.kind === 'sql'
        ? { user: login.user, password: login.password }
        : {
            authentication: {
              type: 'ntlm',
              options: { domain: login.domain, userName: login.user, password: login.password },
            },
          }),
      requestTimeout: options.requestTimeoutMs ?? 0,
      connectionTimeout: options.connectionTimeoutMs ?? 30_000,
      pool: { max, min: 0 },
      options: {
        appName: 'replup',
        encrypt: options.encrypt ?? true,
        trustServerCertificate: options.trustServerCertificate ?? false,
        ...(address.instanceName !== undefined && { instanceName: address.instanceName }),
      },
    };
  };

  const poolFor = (server: string): Promise<mssql.ConnectionPool> => {
    let pool = pools.get(server);
    if (!pool) {
      pool = new mssql.ConnectionPool(config(server, 'master', 10)).connect();
      // A failed connect must not stay cached: the next activity attempt connects afresh.
      pool.catch(() => pools.delete(server));
      pools.set(server, pool);
    }
    return pool;
  };

  return {
    async execute(server, statement) {
      const request = (await poolFor(server)).request();
      for (const [name, value] of Object.entries(statement.params)) request.input(name, paramType(value), value);
      return run(request, (r) => r.query<Row>(statement.sql));
    },
    async openSession(db) {
      // A pool of one connection: every batch of the script runs on the same session.
      const pool = await new mssql.ConnectionPool(config(db.server, db.database, 1)).connect();
      return {
        batch: (sql) => run(pool.request(), (r) => r.batch<Row>(sql)),
        close: () => pool.close(),
      };
    },
    async close() {
      const all = [...pools.values()];
      pools.clear();
      await Promise.allSettled(all.map(async (p) => (await p).close()));
    },
  };
}

function paramType(value: SqlParam): mssql.ISqlType | (() => mssql.ISqlType) {
  if (typeof value === 'boolean') return mssql.Bit;
  if (typeof value === 'number') return Number.isInteger(value) ? mssql.Int : mssql.Float;
  return mssql.NVarChar(mssql.MAX);
}

async function run(
  request: mssql.Request,
  send: (r: mssql.Request) => Promise<mssql.IResult<Row>>,
): Promise<SqlResult> {
  const messages: string[] = [];
  let quit: SqlResult['quit'];
  request.on('info', (info: { message: string; number?: number; state?: number }) => {
    messages.push(info.message);
    if (info.state === 127 && quit === undefined) quit = { number: info.number ?? 50000, message: info.message };
  });
  const result = await send(request);
  const recordsets = Array.isArray(result.recordsets)
    ? (result.recordsets as Row[][])
    : Object.values<Row[]>(result.recordsets);
  return { recordsets, messages, ...(quit && { quit }) };
}
