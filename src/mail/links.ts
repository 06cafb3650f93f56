import { Inject, Injectable } from '@nestjs/common';
import { appConfig, type AppConfig } from '../config/app.config';

/**
 * Links that leave the server in mail. They are built from PUBLIC_URL alone, never from the
 * request being answered: a forged Host or X-Forwarded-Host on "forgot password" would otherwise
 * send the victim a reset link to the attacker's server, with the token in it.
 */
@Injectable()
export class Links {
  private readonly origin: string;

  constructor(@Inject(appConfig.KEY) config: AppConfig) {
    this.origin = config.publicUrl;
  }

  /** `links.to('/reset_password_page', { token })` → `https://public.example/reset_password_page?token=…`. */
  to(path: string, query: Record<string, string> = {}): string {
    // A path of this server: "//evil.example" or "https://…" would replace the origin.
    if (!/^\/(?![/\\])/.test(path)) throw new Error(`Links.to takes a path starting with one "/" (got "${path}")`);
    const url = new URL(path, this.origin);
    for (const [name, value] of Object.entries(query)) url.searchParams.set(name, value);
    return url.href;
  }
}
