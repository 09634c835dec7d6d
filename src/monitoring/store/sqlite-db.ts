import { existsSync, mkdirSync, statSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import { SgError } from '../../errors/index.js';
import { migrate, newerSchema, schemaVersion } from './sqlite-migrate.js';
import type { SqlitePragmas } from './sqlite-protocol.js';
import { SQL, type SqlName } from './sqlite-queries.js';
import { SQLITE_SCHEMA_VERSION } from './sqlite-schema.js';

const unavailable = (message: string, details: Record<string, unknown>, cause?: unknown) =>
  new SgError('SG_ERR_MONITOR_STORE_UNAVAILABLE', message, { details, cause });

/**
 * One open SQLite database of the store, in the worker thread: pragmas and migrations at open (monitoring.md
 * section 7), prepared statements cached by name, write transactions, and the file-identity check of section 5
 * ("A SQLite file that disappears").
 */
export class SqliteConnection {
  private readonly stmts = new Map<SqlName, Database.Statement>();
  /** (dev, ino) of the file when it was opened; undefined in memory */
  private readonly identity: { dev: bigint; ino: bigint } | undefined;

  private constructor(
    readonly db: Database.Database,
    /** absolute file path; null for `sqlite::memory:` */
    readonly path: string | null,
    readonly readOnly: boolean,
  ) {
    this.identity = path === null ? undefined : fileIdentity(path);
  }

  /**
   * Open `path` (null: in memory). Read-write: create the folder and file, set the pragmas, migrate. Read-only:
   * the file must exist and have a schema version this release knows; never migrates. An in-memory database is
   * always new, so it is migrated either way.
   */
  static open(path: string | null, readOnly: boolean): SqliteConnection {
    let db: Database.Database;
    const ro = readOnly && path !== null;
    try {
      if (path === null) db = new Database(':memory:');
      else if (ro) {
        if (!existsSync(path)) throw unavailable(`no store file at ${path}`, { reason: 'file_missing', path });
        db = new Database(path, { readonly: true, fileMustExist: true });
      } else {
        mkdirSync(dirname(path), { recursive: true });
        db = new Database(path);
      }
    } catch (err) {
      if (err instanceof SgError) throw err;
      throw unavailable(`cannot open the SQLite store ${path ?? ':memory:'}: ${(err as Error).message}`, { path }, err);
    }
    try {
      db.pragma('busy_timeout = 5000');
      if (path !== null && !ro) db.pragma('journal_mode = WAL');
      db.pragma('synchronous = NORMAL');
      db.pragma('foreign_keys = ON');
      if (ro) {
        const v = schemaVersion(db);
        if (v > SQLITE_SCHEMA_VERSION) throw newerSchema(v, SQLITE_SCHEMA_VERSION);
        if (v === 0) {
          throw new SgError('SG_ERR_MONITOR_SCHEMA', `${path} has no servegraph schema (version 0)`, {
            details: { version: 0, known: SQLITE_SCHEMA_VERSION },
          });
        }
      } else migrate(db);
      return new SqliteConnection(db, path, ro);
    } catch (err) {
      db.close();
      if (err instanceof SgError) throw err;
      throw unavailable(`cannot open the SQLite store ${path ?? ':memory:'}: ${(err as Error).message}`, { path }, err);
    }
  }

  /** The prepared statement `name` of `SQL`, prepared on first use. */
  stmt(name: SqlName): Database.Statement {
    let s = this.stmts.get(name);
    if (s === undefined) {
      s = this.db.prepare(SQL[name]);
      this.stmts.set(name, s);
    }
    return s;
  }

  /** Run `fn` in a `BEGIN IMMEDIATE` transaction (the write lock taken up front: no upgrade deadlock in WAL). */
  write<T>(fn: () => T): T {
    this.checkWritable();
    return this.db.transaction(fn).immediate();
  }

  /**
   * Before a write: the connection is read-write, and its path still names the file it has open (same device
   * and inode). A missing or replaced file is SG_ERR_MONITOR_STORE_UNAVAILABLE (`details.reason` `file_missing`
   * or `file_replaced`); nothing is written, the Monitor reopens the store (section 5).
   */
  checkWritable(): void {
    if (this.readOnly) throw unavailable('the store was opened read-only', { reason: 'read_only', path: this.path });
    if (this.path === null || this.identity === undefined) return;
    let now: { dev: bigint; ino: bigint };
    try {
      now = fileIdentity(this.path);
    } catch {
      throw unavailable(`the store file ${this.path} is gone`, { reason: 'file_missing', path: this.path });
    }
    if (now.dev !== this.identity.dev || now.ino !== this.identity.ino) {
      throw unavailable(`the store file ${this.path} was replaced by another file`, {
        reason: 'file_replaced',
        path: this.path,
      });
    }
  }

  pragmas(): SqlitePragmas {
    return {
      journalMode: String(this.db.pragma('journal_mode', { simple: true })),
      synchronous: Number(this.db.pragma('synchronous', { simple: true })),
      busyTimeout: Number(this.db.pragma('busy_timeout', { simple: true })),
      foreignKeys: Number(this.db.pragma('foreign_keys', { simple: true })),
    };
  }

  close(): void {
    this.stmts.clear();
    if (this.db.open) this.db.close();
  }
}

function fileIdentity(path: string): { dev: bigint; ino: bigint } {
  const s = statSync(path, { bigint: true });
  return { dev: s.dev, ino: s.ino };
}
