import type { AppConfig } from '../config/app.config';

/** The relying party's name that authenticators show beside a passkey. */
export const RP_NAME = 'Session server';

/** Who the passkeys of this server belong to, and the pages allowed to use them. */
export interface RelyingParty {
  /** The RP ID: PUBLIC_URL's host name. A passkey made for it works on it and its subdomains. */
  id: string;
  name: string;
  /**
   * The origins a ceremony may come from (clientDataJSON.origin): PUBLIC_URL, and each of
   * ALLOWED_ORIGINS on the RP ID or a subdomain of it (a browser refuses an RP ID that is not a
   * suffix of the page's host anyway, so no other origin could send a valid response).
   */
  origins: string[];
}

export function relyingPartyOf(config: Pick<AppConfig, 'publicUrl' | 'allowedOrigins'>): RelyingParty {
  const id = new URL(config.publicUrl).hostname;
  const under = (origin: string) => {
    const host = new URL(origin).hostname;
    return host === id || host.endsWith(`.${id}`);
  };
  const origins = [config.publicUrl, ...config.allowedOrigins.filter(under)];
  return { id, name: RP_NAME, origins: [...new Set(origins)] };
}
