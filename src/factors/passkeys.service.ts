import { createHmac } from 'node:crypto';
import { ConflictException, Inject, Injectable, NotFoundException, UnauthorizedException } from '@nestjs/common';
import {
  generateAuthenticationOptions,
  generateRegistrationOptions,
  verifyAuthenticationResponse,
  verifyRegistrationResponse,
  type AuthenticationResponseJSON,
  type AuthenticatorTransport,
  type PublicKeyCredentialCreationOptionsJSON,
  type PublicKeyCredentialRequestOptionsJSON,
  type RegistrationResponseJSON,
} from '@simplewebauthn/server';
import { Clock } from '../common/clock';
import { Transactions } from '../common/database/transactions';
import { appConfig, type AppConfig } from '../config/app.config';
import type { Session } from '../sessions/session.entity';
import { SessionsService } from '../sessions/sessions.service';
import type { User } from '../users/user.entity';
import type { AuthenticationResponseDto, RegistrationResponseDto } from './dto/webauthn-json.dto';
import type { Passkey } from './passkey.entity';
import { PasskeyEvents, type PasskeyRefusal } from './passkeys.events';
import { PasskeyNotices } from './passkeys.notices';
import { PasskeysRepository } from './passkeys.repository';
import { relyingPartyOf, type RelyingParty } from './passkeys.relying-party';
import type { ChallengePurpose } from './webauthn-challenge.entity';
import { CHALLENGE_LIFETIME_MS, WebauthnChallenges } from './webauthn-challenges.service';

/** More passkeys than anyone keeps; bounds what one account can store and what its options list. */
export const MAX_PASSKEYS = 20;

/** The one 401 of every refused passkey response: which check failed is for the log, not the client. */
export const PASSKEY_REFUSED = 'The passkey could not be verified; try again';

/** Who is calling, for the routes that need a signed-in caller. */
export interface Caller {
  user: User;
  session: Session;
}

/** A passkey response that verified: the passkey (as now stored) and whether it is synced. */
export interface VerifiedPasskey {
  passkey: Passkey;
  backedUp: boolean;
}

class Refused extends Error {
  constructor(readonly reason: PasskeyRefusal) {
    super(reason);
  }
}

/**
 * Passkeys (WebAuthn credentials, through @simplewebauthn/server): registering one on a signed-in
 * account, listing, renaming and removing them, and verifying the assertions that sign in and
 * re-authenticate with one (auth's routes then start the session or move auth_time). The rules:
 * - every ceremony's challenge is the server's, single use, 2 minutes (WebauthnChallenges), and
 *   tied to its purpose (and for registration and re-authentication to the account and session);
 * - origin and RP ID are PUBLIC_URL's (relyingPartyOf); user verification is required to sign in
 *   or re-authenticate (so a passkey alone is two factors: possession and PIN or biometrics) and
 *   preferred at registration;
 * - a signature counter that does not go up (when either value is non-zero) is refused and logged;
 * - a credential signs in only to the account it was registered on, and only while it exists.
 */
@Injectable()
export class PasskeysService {
  private readonly rp: RelyingParty;
  private readonly userHandleKey: Buffer;

  constructor(
    private readonly passkeys: PasskeysRepository,
    private readonly challenges: WebauthnChallenges,
    private readonly sessions: SessionsService,
    private readonly notices: PasskeyNotices,
    private readonly events: PasskeyEvents,
    private readonly transactions: Transactions,
    private readonly clock: Clock,
    @Inject(appConfig.KEY) config: AppConfig,
  ) {
    this.rp = relyingPartyOf(config);
    this.userHandleKey = createHmac('sha256', config.secretKey).update('webauthn-user-handle').digest();
  }

  /**
   * The account's WebAuthn user handle: 32 bytes derived from its id under a key of its own (so it
   * names no one, and is the same for each of the account's passkeys: an authenticator keeps one
   * credential per account). Each passkey row keeps the handle it was made with.
   */
  private userHandleOf(userId: number): Uint8Array<ArrayBuffer> {
    return new Uint8Array(createHmac('sha256', this.userHandleKey).update(String(userId)).digest());
  }

  async registrationOptions(caller: Caller): Promise<PublicKeyCredentialCreationOptionsJSON> {
    this.sessions.assertRecentAuth(caller.session);
    const existing = await this.passkeys.listOf(caller.user.id);
    if (existing.length >= MAX_PASSKEYS) throw tooMany();
    const challenge = await this.challenges.issue('registration', bindingOf(caller));
    return generateRegistrationOptions({
      rpName: this.rp.name,
      rpID: this.rp.id,
      userName: caller.user.email,
      userDisplayName: caller.user.name,
      userID: this.userHandleOf(caller.user.id),
      challenge: new Uint8Array(Buffer.from(challenge, 'base64url')),
      timeout: CHALLENGE_LIFETIME_MS,
      attestationType: 'none',
      excludeCredentials: existing.map((p) => ({ id: p.credentialId, transports: transportsOf(p) })),
      authenticatorSelection: { residentKey: 'required', requireResidentKey: true, userVerification: 'preferred' },
    });
  }

  /**
   * Verifies a new credential against the registration challenge this session asked for, stores it
   * with the notice mail in one transaction, and says how many other sessions the account has.
   */
  async register(
    caller: Caller,
    response: RegistrationResponseDto,
    name: string | undefined,
    ip: string | null,
  ): Promise<{ passkey: Passkey; otherSessions: number }> {
    this.sessions.assertRecentAuth(caller.session);
    const { user, session } = caller;
    const refuse = (reason: PasskeyRefusal): never => {
      this.events.refused('registration', reason, user.id, ip);
      throw new UnauthorizedException(PASSKEY_REFUSED);
    };
    const challenge = await this.challenges.consume(
      response.response.clientDataJSON,
      'registration',
      bindingOf(caller),
    );
    if (!challenge) return refuse('challenge');
    let info;
    try {
      const verified = await verifyRegistrationResponse({
        response: response as RegistrationResponseJSON,
        expectedChallenge: challenge,
        expectedOrigin: this.rp.origins,
        expectedRPID: this.rp.id,
        requireUserVerification: false,
      });
      info = verified.verified ? verified.registrationInfo : undefined;
    } catch {
      info = undefined;
    }
    if (!info) return refuse('verification');
    if ((await this.passkeys.countOf(user.id)) >= MAX_PASSKEYS) throw tooMany();
    if (await this.passkeys.findByCredentialId(info.credential.id))
      throw new ConflictException('This passkey is already registered');

    const now = this.clock.now();
    const passkey = await this.transactions.run(async (tx) => {
      const row = await this.passkeys.insert(
        {
          userId: user.id,
          credentialId: info.credential.id,
          publicKey: Buffer.from(info.credential.publicKey).toString('base64url'),
          counter: info.credential.counter,
          userHandle: Buffer.from(this.userHandleOf(user.id)).toString('base64url'),
          name: name ?? defaultName(session),
          transports: (response.response.transports ?? []).join(' ').slice(0, 200),
          backupEligible: info.credentialDeviceType === 'multiDevice',
          backedUp: info.credentialBackedUp,
          aaguid: info.aaguid,
          deviceBrowser: session.deviceBrowser,
          deviceOs: session.deviceOs,
          deviceType: session.deviceType,
          createdAt: now,
          lastUsedAt: null,
        },
        tx,
      );
      await this.notices.added(user, row, tx);
      return row;
    });
    this.events.added(user.id, passkey.id);
    return { passkey, otherSessions: await this.otherSessions(caller) };
  }

  list(userId: number): Promise<Passkey[]> {
    return this.passkeys.listOf(userId);
  }

  async rename(userId: number, id: number, name: string): Promise<Passkey> {
    if (!(await this.passkeys.rename(userId, id, name))) throw notFound();
    const passkey = await this.passkeys.findOwn(userId, id);
    if (!passkey) throw notFound();
    return passkey;
  }

  /**
   * Removes one of the caller's passkeys (with the notice mail, in one transaction); needs a recent
   * proof. Another account's passkey and an unknown id give the same 404, before the proof's age is
   * looked at. Always allowed: every account here keeps its password, so removing the last passkey
   * never removes the last way to sign in. Sessions made with it go on (the dashboard offers to
   * end the others).
   */
  async remove(caller: Caller, id: number): Promise<{ otherSessions: number }> {
    const { user } = caller;
    const passkey = await this.passkeys.findOwn(user.id, id);
    if (!passkey) throw notFound();
    this.sessions.assertRecentAuth(caller.session);
    const now = this.clock.now();
    const removed = await this.transactions.run(async (tx) => {
      if (!(await this.passkeys.remove(user.id, id, tx))) return false;
      await this.notices.removed(user, passkey, now, tx);
      return true;
    });
    if (!removed) throw notFound();
    this.events.removed(user.id, id);
    return { otherSessions: await this.otherSessions(caller) };
  }

  /** A sign-in's options: discoverable credentials (no allowCredentials), user verification required. */
  async signInOptions(): Promise<PublicKeyCredentialRequestOptionsJSON> {
    const challenge = await this.challenges.issue('authentication', null);
    return this.requestOptions(challenge, undefined);
  }

  /** A re-authentication's options: the caller's passkeys, for this session only. */
  async reauthenticationOptions(caller: Caller): Promise<PublicKeyCredentialRequestOptionsJSON> {
    const own = await this.passkeys.listOf(caller.user.id);
    const challenge = await this.challenges.issue('reauthentication', bindingOf(caller));
    return this.requestOptions(challenge, own);
  }

  /** Verifies a sign-in's assertion (any account's passkey); 401 when it does not verify. */
  verifySignIn(response: AuthenticationResponseDto, ip: string | null): Promise<VerifiedPasskey> {
    return this.verifyAssertion(response, 'authentication', null, ip);
  }

  /** Verifies a re-authentication's assertion: only the caller's own passkeys, only this session's challenge. */
  verifyReauthentication(
    caller: Caller,
    response: AuthenticationResponseDto,
    ip: string | null,
  ): Promise<VerifiedPasskey> {
    return this.verifyAssertion(response, 'reauthentication', caller, ip);
  }

  private requestOptions(
    challenge: string,
    allow: Passkey[] | undefined,
  ): Promise<PublicKeyCredentialRequestOptionsJSON> {
    return generateAuthenticationOptions({
      rpID: this.rp.id,
      challenge: new Uint8Array(Buffer.from(challenge, 'base64url')),
      timeout: CHALLENGE_LIFETIME_MS,
      userVerification: 'required',
      ...(allow ? { allowCredentials: allow.map((p) => ({ id: p.credentialId, transports: transportsOf(p) })) } : {}),
    });
  }

  /**
   * The assertion checks, in order: the challenge is spent (whatever follows), the credential is
   * known (and the caller's, for a re-authentication) and its user handle the one it was made for,
   * the library verifies type, challenge, origin, RP ID, user presence and verification and the
   * signature, then the counter must go up (when either value is non-zero), and the new counter is
   * stored only over the one checked (a compare-and-set).
   */
  private async verifyAssertion(
    response: AuthenticationResponseDto,
    purpose: Exclude<ChallengePurpose, 'registration'>,
    caller: Caller | null,
    ip: string | null,
  ): Promise<VerifiedPasskey> {
    let ownerId: number | null = caller?.user.id ?? null;
    try {
      const challenge = await this.challenges.consume(
        response.response.clientDataJSON,
        purpose,
        caller && bindingOf(caller),
      );
      if (!challenge) throw new Refused('challenge');
      const passkey = await this.passkeys.findByCredentialId(response.id);
      if (!passkey || (caller && passkey.userId !== caller.user.id)) throw new Refused('unknown_credential');
      ownerId = passkey.userId;
      const { userHandle, ...rest } = response.response;
      if (userHandle && userHandle !== passkey.userHandle) throw new Refused('unknown_credential');

      let info;
      try {
        const verified = await verifyAuthenticationResponse({
          response: { ...response, response: rest } as AuthenticationResponseJSON,
          expectedChallenge: challenge,
          expectedOrigin: this.rp.origins,
          expectedRPID: this.rp.id,
          // The library's own counter check is not used: a regression is told apart below, after
          // the signature is known to be good, so a forged response cannot fill the log with it.
          credential: {
            id: passkey.credentialId,
            publicKey: new Uint8Array(Buffer.from(passkey.publicKey, 'base64url')),
            counter: 0,
            transports: transportsOf(passkey),
          },
          requireUserVerification: true,
        });
        info = verified.verified ? verified.authenticationInfo : undefined;
      } catch {
        info = undefined;
      }
      if (!info) throw new Refused('verification');
      const received = info.newCounter;
      if ((received > 0 || passkey.counter > 0) && received <= passkey.counter) {
        this.events.counterRegression(passkey.userId, passkey.id, passkey.counter, received, ip);
        throw new UnauthorizedException(PASSKEY_REFUSED);
      }
      const now = this.clock.now();
      const use = { counter: received, backedUp: info.credentialBackedUp, at: now };
      if (!(await this.passkeys.recordUse(passkey.id, passkey.counter, use))) throw new Refused('raced');
      return {
        passkey: { ...passkey, counter: received, backedUp: use.backedUp, lastUsedAt: now },
        backedUp: use.backedUp,
      };
    } catch (error) {
      if (!(error instanceof Refused)) throw error;
      this.events.refused(purpose, error.reason, ownerId, ip);
      throw new UnauthorizedException(PASSKEY_REFUSED);
    }
  }

  private async otherSessions(caller: Caller): Promise<number> {
    const usable = await this.sessions.listUsable({
      id: caller.user.id,
      credentialVersion: caller.session.credentialVersion,
    });
    return usable.filter((s) => s.id !== caller.session.id).length;
  }
}

function bindingOf(caller: Caller): { userId: number; sessionId: number } {
  return { userId: caller.user.id, sessionId: caller.session.id };
}

function transportsOf(passkey: Passkey): AuthenticatorTransport[] {
  return passkey.transports ? (passkey.transports.split(' ') as AuthenticatorTransport[]) : [];
}

/** "Chrome on macOS", from the session that adds it; "Passkey" when its device is unknown. */
function defaultName(session: Pick<Session, 'deviceBrowser' | 'deviceOs'>): string {
  const { deviceBrowser: browser, deviceOs: os } = session;
  if (!browser && !os) return 'Passkey';
  return `${browser ?? 'A browser'} on ${os ?? 'an unknown system'}`.slice(0, 100);
}

function notFound(): NotFoundException {
  return new NotFoundException('Passkey not found');
}

function tooMany(): ConflictException {
  return new ConflictException(`An account can have at most ${MAX_PASSKEYS} passkeys; remove one first`);
}
