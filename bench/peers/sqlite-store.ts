import Database from 'better-sqlite3';
import session from 'express-session';

/**
 * A minimal express-session store on better-sqlite3, written here because the published
 * better-sqlite3-session-store is GPL-3.0. It does what that store does per request, with the
 * statements prepared once: get = one SELECT by primary key; set = INSERT OR REPLACE; touch (which
 * express-session calls on every request that did not change the session, because rolling and
 * resave are off) = one UPDATE of the expiry. Times are epoch milliseconds.
 */
export class SqliteStore extends session.Store {
  private readonly db: Database.Connection;
  private readonly getStmt: Database.Statement;
  private readonly setStmt: Database.Statement;
  private readonly touchStmt: Database.Statement;
  private readonly destroyStmt: Database.Statement;

  constructor(
    file: string,
    private readonly defaultTtlMs = 86_400_000,
  ) {
    super();
    this.db = new Database(file);
    // WAL, like the server's own SQLite setup (TypeORM's enableWAL), with the default synchronous mode.
    this.db.pragma('journal_mode = WAL');
    this.db.exec(
      'CREATE TABLE IF NOT EXISTS sessions (sid TEXT PRIMARY KEY NOT NULL, sess TEXT NOT NULL, expire INTEGER NOT NULL)',
    );
    this.getStmt = this.db.prepare('SELECT sess FROM sessions WHERE sid = ? AND expire > ?');
    this.setStmt = this.db.prepare('INSERT OR REPLACE INTO sessions (sid, sess, expire) VALUES (?, ?, ?)');
    this.touchStmt = this.db.prepare('UPDATE sessions SET expire = ? WHERE sid = ? AND expire > ?');
    this.destroyStmt = this.db.prepare('DELETE FROM sessions WHERE sid = ?');
  }

  private expiry(sess: session.SessionData): number {
    const expires = sess.cookie?.expires;
    return expires ? new Date(expires).getTime() : Date.now() + this.defaultTtlMs;
  }

  get(sid: string, callback: session.Callback<session.SessionData>): void {
    try {
      const row = this.getStmt.get(sid, Date.now()) as { sess: string } | undefined;
      callback(null, row ? (JSON.parse(row.sess) as session.SessionData) : null);
    } catch (error) {
      callback(error);
    }
  }

  set(sid: string, sess: session.SessionData, callback: session.Callback = () => undefined): void {
    try {
      this.setStmt.run(sid, JSON.stringify(sess), this.expiry(sess));
      callback(null);
    } catch (error) {
      callback(error);
    }
  }

  touch(sid: string, sess: session.SessionData, callback: session.Callback = () => undefined): void {
    try {
      this.touchStmt.run(this.expiry(sess), sid, Date.now());
      callback(null);
    } catch (error) {
      callback(error);
    }
  }

  destroy(sid: string, callback: session.Callback = () => undefined): void {
    try {
      this.destroyStmt.run(sid);
      callback(null);
    } catch (error) {
      callback(error);
    }
  }
}
