/**
 * What must never reach a client, in one place. `LEAKS` holds for every response, successes
 * included (which may echo what a user wrote, such as SQL text in a chat message); `ERROR_LEAKS`
 * adds what an error's own text must not name: file names, libraries, error classes, SQL.
 */
export const LEAKS: readonly RegExp[] = [
  /\bat [^\s()]+ \([^)]*:\d+:\d+\)/,
  /\bat [^\s()]*\/[^\s()]+:\d+:\d+/,
  /node_modules/,
  /\/work\//,
  /QueryFailedError|EntityNotFoundError|SQLITE_[A-Z]/,
];

export const ERROR_LEAKS: readonly RegExp[] = [
  ...LEAKS,
  /\bat \S+ \(/,
  /\bstack\b/i,
  /\/work\b/,
  /\.ts\b/,
  /\.js\b/,
  /typeorm/i,
  /sqlite/i,
  /\bexpress\b/i,
  /\bfastify\b|FST_ERR/i,
  /\bnest(js)?\b/i,
  /class-validator/i,
  /class-transformer/i,
  /body-parser|raw-body/i,
  /QueryFailedError|EntityNotFound|RangeError|TypeError|SyntaxError/,
  /\bSELECT\b|\bINSERT INTO\b|\bUPDATE\b.*\bSET\b|\bWHERE\b/,
];
