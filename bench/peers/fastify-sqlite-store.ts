import Database from 'better-sqlite3';
import type { SessionStore } from '@fastify/session';
import type { Session } from 'fastify';

/**
 * A @fastify/session store on better-sqlite3, as small as the express-session one beside it
 * (sqlite-store.ts; no published better-sqlite3 store for @fastify/session is both maintained and
 * MIT). Statements prepared once, WAL like the server's SQLite: get = one SELECT by primary key that
 * skips expired rows; set = INSERT OR REPLACE of the JSON session and its expiry (epoch ms), which
 * @fastify/session calls on every answer under its default `rolling: true`; destroy = DELETE.
 */
export class FastifySqliteStore implements SessionStore {
  private readonly getStmt: Database.Statement;
  private readonly setStmt: Database.Statement;
  private readonly destroyStmt: Database.Statement;

  constructor(
    file: string,
    private readonly defaultTtlMs: number,
  ) {
    const db = new Database(file);
    db.pragma('journal_mode = WAL');
    db.exec(
      'CREATE TABLE IF NOT EXISTS sessions (sid TEXT PRIMARY KEY NOT NULL, sess TEXT NOT NULL, expire INTEGER NOT NULL)',
    );
    this.getStmt = db.prepare('SELECT sess FROM sessions WHERE sid = ? AND expire > ?');
    this.setStmt = db.prepare('INSERT OR REPLACE INTO sessions (sid, sess, expire) VALUES (?, ?, ?)');
    this.destroyStmt = db.prepare('DELETE FROM sessions WHERE sid = ?');
  }

  get(sessionId: string, callback: (err: unknown, result?: Session | null) => void): void {
    try {
      const row = this.getStmt.get(sessionId, Date.now()) as { sess: string } | undefined;
      callback(null, row ? (JSON.parse(row.sess) as Session) : null);
    } catch (error) {
      callback(error);
    }
  }

  set(sessionId: string, session: Session, callback: (err?: unknown) => void): void {
    try {
      const expires = session.cookie?.expires;
      const expire = expires ? new Date(expires).getTime() : Date.now() + this.defaultTtlMs;
      this.setStmt.run(sessionId, JSON.stringify(session), expire);
      callback();
    } catch (error) {
      callback(error);
    }
  }

  destroy(sessionId: string, callback: (err?: unknown) => void): void {
    try {
      this.destroyStmt.run(sessionId);
      callback();
    } catch (error) {
      callback(error);
    }
  }
}
