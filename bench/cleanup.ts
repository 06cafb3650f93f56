/**
 * Everything the bench leaves behind (child processes, temporary folders, PostgreSQL databases) is
 * registered here as it is made, and undone in reverse order on every way out: normal end, a
 * thrown error, ctrl-C or SIGTERM.
 */
type Undo = { label: string; run: () => Promise<void> | void };

const stack: Undo[] = [];
let running: Promise<void> | undefined;
let signalled = false;

/** True once ctrl-C or SIGTERM arrived: what is still measuring then is not worth printing. */
export function stopping(): boolean {
  return signalled;
}

export function onCleanup(label: string, run: Undo['run']): void {
  stack.push({ label, run });
}

export function cleanup(): Promise<void> {
  running ??= (async () => {
    while (stack.length > 0) {
      const undo = stack.pop()!;
      try {
        await undo.run();
      } catch (error) {
        console.error(`cleanup: ${undo.label} failed: ${error instanceof Error ? error.message : String(error)}`);
      }
    }
  })();
  return running;
}

/** On ctrl-C or SIGTERM: undo everything, then exit with the conventional 128 + signal number. */
export function cleanupOnSignals(): void {
  for (const [signal, code] of [
    ['SIGINT', 130],
    ['SIGTERM', 143],
  ] as const) {
    process.once(signal, () => {
      signalled = true;
      console.error(`\n${signal}: stopping and cleaning up...`);
      void cleanup().finally(() => process.exit(code));
    });
  }
}
