/**
 * Passkeys through the browser's own WebAuthn JSON methods: the server's options (JSON, base64url)
 * become the browser's with PublicKeyCredential.parse…OptionsFromJSON, and the credential goes back
 * with toJSON(). No library. Passkey controls are shown only where these exist.
 */
const PKC = globalThis.PublicKeyCredential;

export const passkeysSupported =
  typeof PKC === 'function' &&
  typeof PKC.parseCreationOptionsFromJSON === 'function' &&
  typeof PKC.parseRequestOptionsFromJSON === 'function' &&
  typeof navigator.credentials?.get === 'function';

/** True where the browser can offer passkeys in the e-mail field's autofill (conditional mediation). */
export async function autofillSupported() {
  if (!passkeysSupported || typeof PKC.isConditionalMediationAvailable !== 'function') return false;
  try {
    return await PKC.isConditionalMediationAvailable();
  } catch {
    return false;
  }
}

/** A new passkey for the server's creation options; resolves to the RegistrationResponseJSON. */
export async function createPasskey(options) {
  const publicKey = PKC.parseCreationOptionsFromJSON(options);
  const credential = await navigator.credentials.create({ publicKey });
  return credential.toJSON();
}

/**
 * A passkey's signature over the server's request options; resolves to the AuthenticationResponseJSON.
 * `mediation: 'conditional'` waits for the person to pick a passkey in the e-mail field's autofill.
 */
export async function usePasskey(options, { mediation, signal } = {}) {
  const publicKey = PKC.parseRequestOptionsFromJSON(options);
  const credential = await navigator.credentials.get({ publicKey, mediation, signal });
  return credential.toJSON();
}

/** True when the person (or the page, by aborting) cancelled: nothing to say then. */
export function cancelled(error) {
  return error?.name === 'AbortError' || error?.name === 'NotAllowedError';
}

/** What went wrong with the browser's part, in words. */
export function passkeyErrorText(error) {
  if (error?.name === 'InvalidStateError') return 'This device already holds a passkey for your account.';
  if (cancelled(error)) return 'No passkey was used: the request was cancelled or timed out.';
  if (error?.name === 'SecurityError') return 'This page cannot use passkeys at this address.';
  return 'The passkey could not be used. Try again, or use your password.';
}
