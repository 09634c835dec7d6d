import { describe, expect, it } from 'vitest';
import { SgError } from '../../src/errors/index.js';
import { displayUrl, parseStoreUrl } from '../../src/monitoring/store/store-url.js';

function urlError(url: string): SgError {
  try {
    parseStoreUrl(url);
  } catch (err) {
    expect(err).toBeInstanceOf(SgError);
    expect((err as SgError).code).toBe('SG_ERR_MONITOR_STORE_URL');
    return err as SgError;
  }
  throw new Error(`parseStoreUrl(${url}) did not throw`);
}

describe('parseStoreUrl (monitoring.md section 7)', () => {
  it('reads SQLite files and the in-memory database', () => {
    expect(parseStoreUrl('sqlite:./servegraph.db')).toEqual({ kind: 'sqlite', path: './servegraph.db' });
    expect(parseStoreUrl('sqlite:data/m.db')).toEqual({ kind: 'sqlite', path: 'data/m.db' });
    expect(parseStoreUrl('sqlite:/var/lib/sg/m.db')).toEqual({ kind: 'sqlite', path: '/var/lib/sg/m.db' });
    expect(parseStoreUrl('sqlite::memory:')).toEqual({ kind: 'sqlite', path: ':memory:' });
  });

  it('keeps PostgreSQL URLs whole, both schemes', () => {
    const a = 'postgres://user:pass@host:5432/db';
    const b = 'postgresql://user@db.example:5433/monitoring?sslmode=require';
    expect(parseStoreUrl(a)).toEqual({ kind: 'postgres', url: a });
    expect(parseStoreUrl(b)).toEqual({ kind: 'postgres', url: b });
    expect(parseStoreUrl('postgres://localhost/db')).toEqual({ kind: 'postgres', url: 'postgres://localhost/db' });
  });

  it('rejects other URLs with SG_ERR_MONITOR_STORE_URL naming the URL, password masked', () => {
    for (const url of ['', 'mysql://u@h/db', 'servegraph.db', 'sqlite:', 'http://h/x', 'postgres:///db']) {
      const err = urlError(url);
      expect(err.message).toContain(`"${url}"`);
      expect(err.details).toEqual({ url });
    }
    const err = urlError('mysql://admin:s3cret@h:3306/db');
    expect(err.message).toContain('"mysql://admin:***@h:3306/db"');
    expect(err.message).not.toContain('s3cret');
    expect(err.details).toEqual({ url: 'mysql://admin:***@h:3306/db' });
    expect(err.message).toContain('sqlite:<path>');
  });
});

describe('displayUrl', () => {
  it('replaces a password with ***, leaving the rest as written', () => {
    expect(displayUrl('postgres://sg:s3cret@127.0.0.1:5432/servegraph')).toBe(
      'postgres://sg:***@127.0.0.1:5432/servegraph',
    );
    expect(displayUrl('postgresql://sg:p%40ss@h/db?sslmode=require')).toBe('postgresql://sg:***@h/db?sslmode=require');
  });

  it('masks up to the last @ of the authority, and a password query parameter', () => {
    expect(displayUrl('postgres://sg:p@ss@h/db')).toBe('postgres://sg:***@h/db');
    expect(displayUrl('postgres://sg@h/db?password=s3cret&sslmode=disable')).toBe(
      'postgres://sg@h/db?password=***&sslmode=disable',
    );
  });

  it('leaves URLs without a password unchanged', () => {
    for (const url of ['postgres://sg@h/db', 'postgres://h:5432/db', 'sqlite:./servegraph.db', 'sqlite::memory:']) {
      expect(displayUrl(url)).toBe(url);
    }
  });
});
