import { createHash, generateKeyPairSync, randomBytes, sign, type KeyObject } from 'node:crypto';
import { encodeCBOR, type CBORType } from '@levischuck/tiny-cbor';

/**
 * A software WebAuthn authenticator and browser for tests: it answers the server's options the way
 * navigator.credentials.create() / get() and PublicKeyCredential.toJSON() would, with an ES256 key
 * pair from node:crypto, "none" attestation, and authenticator data built byte by byte (WebAuthn
 * §6.1: rpIdHash, flags, signature counter, attested credential data with a COSE key, CBOR by
 * @levischuck/tiny-cbor). Every knob a test needs to misbehave is an option: the origin, the RP ID,
 * the flags (no user verification), the counter, another challenge.
 */

/** Authenticator data flags (WebAuthn §6.1). */
export const FLAG = { UP: 0x01, UV: 0x04, BE: 0x08, BS: 0x10, AT: 0x40 } as const;

export interface SoftCredential {
  id: Buffer;
  privateKey: KeyObject;
  publicKeySpki: Buffer;
  rpId: string;
  userHandle: Buffer;
  counter: number;
  /** Backup eligible and backed up (a synced passkey): BE and BS set. */
  synced: boolean;
}

/** What a ceremony may be bent by (each defaults to what an honest browser does). */
export interface CeremonyOptions {
  origin?: string;
  rpId?: string;
  /** User verification performed (UV flag); default true. */
  userVerified?: boolean;
  /** Sign as this challenge instead of the options' one. */
  challenge?: string;
  /** clientDataJSON.type; default webauthn.create / webauthn.get. */
  type?: string;
}

export interface AssertionOptions extends CeremonyOptions {
  /** The credential to use; default the newest one made for the RP ID. */
  credential?: SoftCredential;
  /** Report this counter instead of the next one (which the credential then keeps). */
  counter?: number;
  /** Leave userHandle out, as a non-discoverable assertion may. */
  withoutUserHandle?: boolean;
}

type Json = Record<string, unknown>;

const b64url = (bytes: Uint8Array) => Buffer.from(bytes).toString('base64url');
const sha256 = (data: Uint8Array | string) => createHash('sha256').update(data).digest();

export class SoftAuthenticator {
  readonly credentials: SoftCredential[] = [];

  /** `origin` is the page the browser is on (PUBLIC_URL for an honest one). */
  constructor(
    private readonly origin: string,
    private readonly defaults: { synced?: boolean } = {},
  ) {}

  /** navigator.credentials.create(options) → PublicKeyCredential.toJSON(). */
  create(options: Json, bend: CeremonyOptions & { synced?: boolean } = {}): Json {
    const rp = options.rp as { id: string };
    const user = options.user as { id: string };
    const rpId = bend.rpId ?? rp.id;
    const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const credential: SoftCredential = {
      id: randomBytes(16),
      privateKey,
      publicKeySpki: publicKey.export({ type: 'spki', format: 'der' }),
      rpId,
      userHandle: Buffer.from(user.id, 'base64url'),
      counter: 0,
      synced: bend.synced ?? this.defaults.synced ?? true,
    };
    const jwk = publicKey.export({ format: 'jwk' });
    // COSE_Key (RFC 9053): kty EC2 (2), alg ES256 (-7), crv P-256 (1), x, y.
    const coseKey = new Map<number, CBORType>([
      [1, 2],
      [3, -7],
      [-1, 1],
      [-2, Buffer.from(jwk.x!, 'base64url')],
      [-3, Buffer.from(jwk.y!, 'base64url')],
    ]);
    const cose = encodeCBOR(coseKey);
    const idLength = Buffer.alloc(2);
    idLength.writeUInt16BE(credential.id.length);
    const attested = Buffer.concat([Buffer.alloc(16), idLength, credential.id, Buffer.from(cose)]);
    const authData = this.authenticatorData(credential, bend, FLAG.AT, attested);
    const clientDataJSON = this.clientData('webauthn.create', options, bend);
    const attestationObject = encodeCBOR(
      new Map<string, CBORType>([
        ['fmt', 'none'],
        ['attStmt', new Map<string, CBORType>()],
        ['authData', authData],
      ]),
    );
    this.credentials.push(credential);
    return {
      id: b64url(credential.id),
      rawId: b64url(credential.id),
      type: 'public-key',
      authenticatorAttachment: 'platform',
      clientExtensionResults: { credProps: { rk: true } },
      response: {
        clientDataJSON: b64url(clientDataJSON),
        attestationObject: b64url(attestationObject),
        authenticatorData: b64url(authData),
        transports: ['internal', 'hybrid'],
        publicKeyAlgorithm: -7,
        publicKey: b64url(credential.publicKeySpki),
      },
    };
  }

  /** navigator.credentials.get(options) → PublicKeyCredential.toJSON(). */
  get(options: Json, bend: AssertionOptions = {}): Json {
    const rpId = bend.rpId ?? (options.rpId as string);
    const credential = bend.credential ?? this.credentials.filter((c) => c.rpId === (options.rpId as string)).at(-1);
    if (!credential) throw new Error('the soft authenticator holds no credential for this RP ID');
    if (bend.counter === undefined) credential.counter++;
    const authData = this.authenticatorData(credential, { ...bend, rpId }, 0, undefined, bend.counter);
    const clientDataJSON = this.clientData('webauthn.get', options, bend);
    const signature = sign('sha256', Buffer.concat([authData, sha256(clientDataJSON)]), credential.privateKey);
    return {
      id: b64url(credential.id),
      rawId: b64url(credential.id),
      type: 'public-key',
      authenticatorAttachment: 'platform',
      clientExtensionResults: {},
      response: {
        clientDataJSON: b64url(clientDataJSON),
        authenticatorData: b64url(authData),
        signature: b64url(signature),
        ...(bend.withoutUserHandle ? {} : { userHandle: b64url(credential.userHandle) }),
      },
    };
  }

  private clientData(type: string, options: Json, bend: CeremonyOptions): Buffer {
    return Buffer.from(
      JSON.stringify({
        type: bend.type ?? type,
        challenge: bend.challenge ?? options.challenge,
        origin: bend.origin ?? this.origin,
        crossOrigin: false,
      }),
    );
  }

  private authenticatorData(
    credential: SoftCredential,
    bend: CeremonyOptions,
    extraFlags: number,
    attested?: Buffer,
    counter = credential.counter,
  ): Buffer {
    let flags = FLAG.UP | extraFlags;
    if (bend.userVerified ?? true) flags |= FLAG.UV;
    if (credential.synced) flags |= FLAG.BE | FLAG.BS;
    const count = Buffer.alloc(4);
    count.writeUInt32BE(counter);
    return Buffer.concat([
      sha256(bend.rpId ?? credential.rpId),
      Buffer.from([flags]),
      count,
      attested ?? Buffer.alloc(0),
    ]);
  }
}
