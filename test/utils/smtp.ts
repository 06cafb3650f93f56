import type { AddressInfo } from 'node:net';
import { simpleParser, type ParsedMail } from 'mailparser';
import { SMTPServer } from 'smtp-server';

export interface TestSmtp {
  /** `smtp://127.0.0.1:<port>`, for MAIL_URL. */
  url: string;
  /** Every message accepted so far, parsed (text, html, subject, to, from), in the order received. */
  messages: ParsedMail[];
  /** From now on, answer every MAIL FROM with a temporary refusal (421): the server is "busy". */
  refuse(): void;
  /** Accept messages again. */
  accept(): void;
  /** Stop listening (connections are refused: the server is down), keeping the port for `start`. */
  stop(): Promise<void>;
  /** Listen again on the same port. */
  start(): Promise<void>;
  close(): Promise<void>;
}

/**
 * A real SMTP server in the test process (smtp-server), on a free port of 127.0.0.1: the app's
 * nodemailer talks SMTP to it, and each message it accepts is parsed (mailparser) before the
 * server answers 250, so once the app's send has resolved the message is in `messages`.
 */
export async function startSmtp(): Promise<TestSmtp> {
  const messages: ParsedMail[] = [];
  let refusing = false;
  let port = 0;
  let server: SMTPServer | null = null;

  const listen = async (): Promise<void> => {
    server = new SMTPServer({
      authOptional: true,
      // Plain SMTP on loopback: nodemailer upgrades to TLS only when STARTTLS is offered.
      disabledCommands: ['STARTTLS'],
      logger: false,
      onMailFrom(_address, _session, callback) {
        if (!refusing) return callback();
        const error = new Error('Service not available, try again later') as Error & { responseCode: number };
        error.responseCode = 421;
        callback(error);
      },
      onData(stream, _session, callback) {
        simpleParser(stream)
          .then((parsed) => {
            messages.push(parsed);
            callback();
          })
          .catch((error: Error) => callback(error));
      },
    });
    const current = server;
    await new Promise<void>((resolve, reject) => {
      current.once('error', reject);
      current.listen(port, '127.0.0.1', () => resolve());
    });
    port = (current.server.address() as AddressInfo).port;
  };
  const stop = async (): Promise<void> => {
    const current = server;
    server = null;
    if (current) await new Promise<void>((resolve) => current.close(() => resolve()));
  };

  await listen();
  return {
    url: `smtp://127.0.0.1:${port}`,
    messages,
    refuse: () => {
      refusing = true;
    },
    accept: () => {
      refusing = false;
    },
    stop,
    start: listen,
    close: stop,
  };
}
