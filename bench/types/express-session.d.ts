// The part of express-session 1.19 the peer server uses (the project has no @types/express-session).
declare module 'express-session' {
  import type { EventEmitter } from 'node:events';
  import type { RequestHandler } from 'express';

  namespace session {
    interface SessionData {
      cookie: { expires?: string | Date | null; maxAge?: number | null; originalMaxAge?: number | null };
      [key: string]: unknown;
    }

    type Callback<T = void> = (error?: unknown, value?: T | null) => void;

    /** Stores subclass this; express-session calls get, set, destroy and (when present) touch. */
    class Store extends EventEmitter {
      constructor();
    }

    interface Options {
      secret: string | string[];
      store?: Store;
      name?: string;
      resave?: boolean;
      saveUninitialized?: boolean;
      rolling?: boolean;
      cookie?: {
        httpOnly?: boolean;
        sameSite?: boolean | 'lax' | 'strict' | 'none';
        secure?: boolean;
        maxAge?: number;
        path?: string;
      };
    }

    /** req.session */
    interface Session {
      save(callback: (error?: unknown) => void): void;
      [key: string]: unknown;
    }
  }

  function session(options: session.Options): RequestHandler;
  export = session;
}
