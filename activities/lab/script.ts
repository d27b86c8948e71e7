// What the lab does with a sqlcmd script: the project's parser splits it into batches (GO,
// :setvar, $(var), :r, :on error), then the lab acts on the replication procedures the batches
// call, as SQL Server would, with SQL Server's error numbers. Pure (no I/O).
//
// Recognised: USE; sp_replicationdboption 'merge publish'; sp_addmergepublication;
// sp_addmergearticle; sp_addmergesubscription (@sync_type automatic|none);
// sp_addmergepushsubscription_agent; sp_dropmergesubscription; sp_mergesubscription_cleanup;
// sp_dropmergepublication; sp_removedbreplication; `UPDATE <table> SET rowguid = …`
// (ConvertRowGuids). Everything else (snapshot agents, PRINT, SET options) runs without effect.
// The lab does not evaluate IF/ELSE: a guarded call is treated as called.
import type { Script, ScriptRun } from '../ports.js';
import { SqlError } from '../ports.js';
import { includesFrom, parseSqlcmd } from '../sqlcmd/index.js';
import {
  type LabDatabase,
  type LabState,
  ARCHIVE_TABLE,
  TABLE_FOR_KIND,
  convertRowGuids,
  counters,
  findPublication,
  forgetSubscriptionIndex,
  findServer,
  removeReplication,
  subscriptionKey,
  unknownServer,
} from './model.js';
import { cleanupSubscriberMetadata, leaveSubscriberMetadata } from './subscribers.js';

interface Call {
  procedure: string;
  named: Record<string, string>;
  positional: string[];
}

// Parameter order, for calls written without names.
const POSITIONS: Record<string, string[]> = {
  sp_replicationdboption: ['dbname', 'optname', 'value'],
  sp_addmergepublication: ['publication'],
  sp_addmergearticle: ['publication', 'article', 'source_object'],
  sp_addmergesubscription: [
    'publication',
    'subscriber',
    'subscriber_db',
    'subscription_type',
    'subscriber_type',
    'subscription_priority',
    'sync_type',
  ],
  sp_addmergepushsubscription_agent: ['publication', 'subscriber', 'subscriber_db'],
  sp_dropmergesubscription: ['publication', 'subscriber', 'subscriber_db'],
  sp_mergesubscription_cleanup: ['publisher', 'publisher_db', 'publication'],
  sp_dropmergepublication: ['publication'],
  sp_removedbreplication: ['dbname', 'type'],
};

export function runLabScript(state: LabState, start: LabDatabase, script: Script): ScriptRun {
  const parsed = parseSqlcmd(script.text, {
    vars: script.vars,
    file: script.name,
    ...(script.onError && { onError: script.onError }),
    ...(script.includes && { resolveInclude: includesFrom(script.includes) }),
  });
  const run = new ScriptContext(state, start);
  counters(state, start.key).scriptRuns += 1;
  let batches = 0;
  for (const batch of parsed.batches) {
    for (let i = 0; i < batch.repeat; i++) {
      batches += 1;
      try {
        run.batch(batch.sql);
      } catch (err) {
        if (!(err instanceof SqlError)) throw err;
        // sqlcmd prints the server's message with the batch's position; `:on error exit` stops there.
        const text =
          `Msg ${err.number}, Level 16, State 1, Server ${run.db.server}, ${batch.file} line ${batch.line}: ` +
          `${err.message}`;
        if (batch.onError === 'exit') throw new SqlError(err.number, `${script.name}: ${text}`);
        run.messages.push(text);
      }
    }
  }
  return { batches, messages: run.messages };
}

/** ALTER DATABASE [db] SET READ_COMMITTED_SNAPSHOT ON|OFF (the set-up's choice per database). */
const RCSI = /^\s*ALTER\s+DATABASE\s+(\[(?:[^\]]|\]\])+\]|[^\s;]+)\s+SET\s+READ_COMMITTED_SNAPSHOT\s+(ON|OFF)\b/i;

class ScriptContext {
  readonly messages: string[] = [];
  constructor(
    private readonly state: LabState,
    public db: LabDatabase,
  ) {}

  batch(sql: string): void {
    const code = stripComments(sql);
    for (const statement of statements(code)) {
      const use = /^\s*USE\s+(\[(?:[^\]]|\]\])+\]|[^\s;]+)/i.exec(statement);
      if (use) {
        this.db = this.database(this.db.server, unbracket(use[1]!), 911);
        this.messages.push(`Changed database context to '${this.db.database}'.`);
        continue;
      }
      // The set-up's read committed snapshot choice (seed: ALTER DATABASE ... WITH ROLLBACK IMMEDIATE).
      const rcsi = RCSI.exec(statement);
      if (rcsi) {
        const db = this.database(this.db.server, unbracket(rcsi[1]!), 15010);
        db.readCommittedSnapshot = rcsi[2]!.toUpperCase() === 'ON';
        continue;
      }
      const update = /\bUPDATE\s+(?:\[?\w+\]?\.)?\[?(\w+)\]?\s+SET\s+(?:\[?\w+\]?\.)?\[?rowguid\]?\s*=/i.exec(
        statement,
      );
      if (update) {
        this.convertRowGuids(update[1]!);
        continue;
      }
      const call = parseCall(statement);
      if (call) this.call(call);
    }
  }

  private call(c: Call): void {
    const arg = (name: string) => c.named[name] ?? c.positional[(POSITIONS[c.procedure] ?? []).indexOf(name)];
    const state = this.state;
    switch (c.procedure) {
      case 'sp_replicationdboption': {
        const db = this.database(this.db.server, arg('dbname') ?? this.db.database, 15010);
        if ((arg('optname') ?? '').toLowerCase() !== 'merge publish') return;
        const on = /^(true|1)$/i.test(arg('value') ?? '');
        if (on) db.mergePublished = true;
        else removeReplication(state, db);
        return;
      }
      case 'sp_addmergepublication': {
        const name = required(c, 'publication', arg);
        if (!this.db.mergePublished) throw new SqlError(14013, 'This database is not enabled for publication.');
        if (findPublication(this.db, name))
          throw new SqlError(
            20025,
            `The publication name must be unique. The specified publication name '${name}' has already been used.`,
          );
        this.db.publications[name] = { name, articles: [] };
        this.messages.push(`lab: created merge publication ${name} on ${this.db.key}`);
        return;
      }
      case 'sp_addmergearticle': {
        const pub = this.publication(required(c, 'publication', arg));
        const table = unqualify(arg('source_object') ?? required(c, 'article', arg));
        if (!this.db.tables[table] || table === ARCHIVE_TABLE)
          throw new SqlError(14027, `dbo.${table} does not exist in the current database.`);
        if (!pub.articles.includes(table)) pub.articles.push(table);
        return;
      }
      case 'sp_addmergesubscription':
        return this.addSubscription(
          required(c, 'publication', arg),
          required(c, 'subscriber', arg),
          required(c, 'subscriber_db', arg),
          arg('sync_type'),
        );
      case 'sp_addmergepushsubscription_agent': {
        const sub = this.namedSubscription(c, arg);
        sub.agent = true;
        return;
      }
      case 'sp_dropmergesubscription': {
        const sub = this.namedSubscription(c, arg);
        leaveSubscriberMetadata(state, sub);
        delete state.subscriptions[sub.key];
        forgetSubscriptionIndex(state);
        return;
      }
      case 'sp_mergesubscription_cleanup': {
        const publication = arg('publication');
        cleanupSubscriberMetadata(this.db, publication);
        for (const s of Object.values(state.subscriptions)) {
          if (
            s.subscriberKey === this.db.key &&
            (!publication || s.publication.toLowerCase() === publication.toLowerCase())
          )
            delete state.subscriptions[s.key];
        }
        forgetSubscriptionIndex(state);
        return;
      }
      case 'sp_dropmergepublication': {
        const name = required(c, 'publication', arg);
        const doomed = name.toLowerCase() === 'all' ? Object.values(this.db.publications) : [this.publication(name)];
        for (const pub of doomed) {
          for (const s of Object.values(state.subscriptions)) {
            if (s.publisherKey === this.db.key && s.publication === pub.name) delete state.subscriptions[s.key];
          }
          forgetSubscriptionIndex(state);
          delete this.db.publications[pub.name];
        }
        return;
      }
      case 'sp_adddistributor':
        // The set-up's "set up the distributer" (a local distributor only: @distributor is this server).
        this.state.distributors = { ...this.state.distributors, [this.db.server]: this.db.server };
        this.messages.push(`lab: ${this.db.server} is its own distributor`);
        return;
      case 'sp_removedbreplication':
        removeReplication(state, this.database(this.db.server, arg('dbname') ?? this.db.database, 15010));
        return;
      default:
        return;
    }
  }

  /**
   * A push subscription created at the publisher. SQL Server refuses a second one (14058), so
   * running the script twice is an error, not a no-op: the activity observes first.
   */
  private addSubscription(
    publication: string,
    subscriber: string,
    subscriberDb: string,
    syncType: string | undefined,
  ): void {
    const pub = this.publication(publication);
    const server = findServer(this.state, subscriber);
    if (!server) throw unknownServer(subscriber);
    const target = this.database(server.name, subscriberDb, 14010);
    const kind = (syncType ?? 'automatic').toLowerCase();
    if (kind !== 'automatic' && kind !== 'none') {
      // Merge subscriptions take only these two (DOMAIN.md §1); the number is sp_addmergesubscription's
      // own check *(inferred from memory of the procedure's source, not checked on a live server)*.
      throw new SqlError(
        14052,
        `The @sync_type parameter value '${syncType}' is not valid for a merge subscription: it must be ` +
          `'automatic' or 'none'.`,
      );
    }
    if (this.subscription(pub.name, server.name, target.database)) {
      throw new SqlError(
        14058,
        'Cannot create the subscription because the subscription already exists in the subscription ' +
          'database. Only one subscription to the same publication is allowed in each subscription database. ' +
          'Drop the subscription and add it again if necessary.',
      );
    }
    const key = subscriptionKey(this.db.key, pub.name, target.key);
    const none = kind === 'none';
    this.state.subscriptions[key] = {
      key,
      publication: pub.name,
      publisherKey: this.db.key,
      subscriberKey: target.key,
      syncType: none ? 'none' : 'automatic',
      status: none ? 'active' : 'inactive',
      agent: false,
      baseline: none ? 'nosync' : 'snapshot',
      snapshotPending: !none,
      pending: { upload: {}, download: {} },
    };
    forgetSubscriptionIndex(this.state);
    counters(this.state, target.key).subscriptionCreations += 1;
    this.state.timeline.reenabledAt = this.state.clock;
    this.messages.push(
      `lab: created ${none ? 'no-sync' : 'automatic (snapshot)'} subscription ${pub.name} -> ${target.key}`,
    );
    this.backgroundRace(pub.articles, [this.db, target], pub.name);
  }

  /**
   * Pre-8.3 upgrades (DOMAIN.md §1 step 7): a background service still upgrading users while a
   * subscription is set up rewrites rows on both sides during the setup; the lab records those
   * rows as update conflicts. *(Inferred: the seed only says it "can cause issues".)*
   */
  private backgroundRace(articles: string[], dbs: LabDatabase[], publication: string): void {
    if (!articles.includes(TABLE_FOR_KIND.Data)) return;
    const [publisher, subscriber] = dbs as [LabDatabase, LabDatabase];
    for (const db of dbs) {
      const busy = Object.values(this.state.hosts).some((h) => h.site === db.key && h.backgroundService === 'running');
      if (!busy || db.backgroundQueue.length === 0) continue;
      for (const pk of db.backgroundQueue.slice(0, 3)) {
        this.state.conflicts.push({
          publication,
          publisherKey: publisher.key,
          rowKey: `${TABLE_FOR_KIND.Data}/${pk}`,
          table: TABLE_FOR_KIND.Data,
          conflictType: 1,
          reasonCode: 1,
          reasonText:
            `The same row was updated at both '${publisher.server}.${publisher.database}' and '` +
            `${subscriber.server}.${subscriber.database}' while the subscription was being set up (the ` +
            `personalization Background Service was upgrading users at ${db.key}).`,
          origin: `${db.server}.${db.database}`,
          rowguid: db.tables[TABLE_FOR_KIND.Data]?.[pk]?.rowguid,
        });
      }
    }
  }

  private convertRowGuids(table: string): void {
    if (!this.db.tables[table]) throw new SqlError(208, `Invalid object name 'dbo.${table}'.`);
    const n = convertRowGuids(this.state, this.db, table);
    this.messages.push(`(${n} rows affected)`);
  }

  private publication(name: string) {
    const pub = findPublication(this.db, name);
    if (!pub) throw new SqlError(20026, `The publication '${name}' does not exist.`);
    return pub;
  }

  private subscription(publication: string, subscriber: string, subscriberDb: string) {
    const server = findServer(this.state, subscriber);
    if (!server) return undefined;
    const target = Object.values(this.state.databases).find(
      (d) => d.server === server.name && d.database.toLowerCase() === subscriberDb.toLowerCase(),
    );
    if (!target) return undefined;
    return Object.values(this.state.subscriptions).find(
      (s) =>
        s.publisherKey === this.db.key &&
        s.subscriberKey === target.key &&
        s.publication.toLowerCase() === publication.toLowerCase(),
    );
  }

  /** The subscription a call names (@publication, @subscriber, @subscriber_db); error 20021 when there is none. */
  private namedSubscription(c: Call, arg: (name: string) => string | undefined) {
    const sub = this.subscription(
      required(c, 'publication', arg),
      required(c, 'subscriber', arg),
      required(c, 'subscriber_db', arg),
    );
    if (!sub) throw new SqlError(20021, 'The subscription could not be found.');
    return sub;
  }

  private database(server: string, name: string, errorNumber: 911 | 15010 | 14010): LabDatabase {
    const found = Object.values(this.state.databases).find(
      (d) => d.server.toLowerCase() === server.toLowerCase() && d.database.toLowerCase() === name.toLowerCase(),
    );
    if (found) return found;
    const text = {
      911: `Database '${name}' does not exist. Make sure that the name is entered correctly.`,
      15010:
        `The database '${name}' does not exist. Supply a valid database name. To see available databases, use ` +
        `sys.databases.`,
      14010:
        `The remote server '${server}' is not defined as a subscription server. Ensure you specify the server ` +
        `name rather than a network alias. (lab: no database ${name} there)`,
    }[errorNumber];
    throw new SqlError(errorNumber, text);
  }
}

function required(c: Call, name: string, arg: (n: string) => string | undefined): string {
  const value = arg(name);
  if (value === undefined)
    throw new SqlError(
      201,
      `Procedure or function '${c.procedure}' expects parameter '@${name}', which was not supplied.`,
    );
  return value;
}

/** Removes `--` and (nested) block comments, leaving strings and brackets alone. */
export function stripComments(sql: string): string {
  let out = '';
  let i = 0;
  while (i < sql.length) {
    const ch = sql[i]!;
    if (ch === "'" || ch === '"' || ch === '[') {
      const close = ch === '[' ? ']' : ch;
      let j = i + 1;
      while (j < sql.length) {
        if (sql[j] === close) {
          if (sql[j + 1] === close) j += 2;
          else break;
        } else j += 1;
      }
      out += sql.slice(i, j + 1);
      i = j + 1;
    } else if (sql.startsWith('--', i)) {
      const nl = sql.indexOf('\n', i);
      i = nl < 0 ? sql.length : nl;
    } else if (sql.startsWith('/*', i)) {
      let depth = 1;
      let j = i + 2;
      while (j < sql.length && depth > 0) {
        if (sql.startsWith('/*', j)) {
          depth += 1;
          j += 2;
        } else if (sql.startsWith('*/', j)) {
          depth -= 1;
          j += 2;
        } else j += 1;
      }
      out += ' ';
      i = j;
    } else {
      out += ch;
      i += 1;
    }
  }
  return out;
}

/** Splits a batch at EXEC / USE / UPDATE keywords outside strings: one recognised call each. */
function statements(code: string): string[] {
  const starts: number[] = [];
  const re = /'(?:[^']|'')*'|\[(?:[^\]]|\]\])*\]|\b(EXEC(?:UTE)?|USE|UPDATE|ALTER\s+DATABASE)\b/gi;
  for (let m = re.exec(code); m; m = re.exec(code)) if (m[1]) starts.push(m.index);
  return starts.map((s, i) => code.slice(s, starts[i + 1] ?? code.length));
}

function parseCall(statement: string): Call | undefined {
  const head = /^\s*EXEC(?:UTE)?\s+(?:(?:\[?\w+\]?)?\.)?(?:\[?\w+\]?\.)?\[?(sp_\w+)\]?/i.exec(statement);
  if (!head) return undefined;
  const call: Call = { procedure: head[1]!.toLowerCase(), named: {}, positional: [] };
  // The arguments end where the next statement starts (PRINT, SELECT, IF …) or at a semicolon.
  const rest = statement.slice(head[0].length);
  const end =
    /;|\n\s*(PRINT|SELECT|IF|ELSE|SET|DECLARE|WAITFOR|RAISERROR|BEGIN|END|WHILE|INSERT|DELETE|RETURN)\b/i.exec(
      stripStrings(rest),
    );
  const args = end ? rest.slice(0, end.index) : rest;
  const re = /(?:@(\w+)\s*=\s*)?(N?'((?:[^']|'')*)'|[^\s,;'()]+)/gi;
  for (let m = re.exec(args); m; m = re.exec(args)) {
    const raw = m[2]!;
    const value = m[3] !== undefined ? m[3].replace(/''/g, "'") : raw;
    if (m[1]) call.named[m[1].toLowerCase()] = value;
    else if (/^(GO|OUTPUT)$/i.test(raw)) continue;
    else call.positional.push(value);
  }
  return call;
}

/** Same length, string contents blanked: positions found in it are positions in the original. */
function stripStrings(sql: string): string {
  return sql.replace(/'(?:[^']|'')*'/g, (m) => ' '.repeat(m.length));
}

/** A [bracketed] name as SQL Server reads it: `]]` inside is one `]`. */
function unbracket(name: string): string {
  return /^\[.*\]$/s.test(name) ? name.slice(1, -1).replace(/\]\]/g, ']') : name;
}

function unqualify(name: string): string {
  return unbracket(name.split('.').pop() ?? name);
}
