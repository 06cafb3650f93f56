import { Inject, Injectable } from '@nestjs/common';
import { readFileSync } from 'node:fs';
import { BlockList, isIP } from 'node:net';
import { Reader, type CountryResponse } from 'maxmind';
import { appConfig, type AppConfig } from '../config/app.config';

/** The IPv4+IPv6 country database of @ip-location-db/geo-whois-asn-country-mmdb (CC0 package, data CC BY 4.0 NRO). */
export const GEOIP_DATABASE = '@ip-location-db/geo-whois-asn-country-mmdb/geo-whois-asn-country.mmdb';

/**
 * Addresses that name no place: private, loopback, link-local, unique-local, shared (CGNAT) and
 * unspecified. Answered null without a lookup, so a login from the office LAN or through a local
 * proxy never gets a country by accident.
 */
const NOT_PUBLIC = new BlockList();
for (const [net, prefix] of [
  ['0.0.0.0', 8],
  ['10.0.0.0', 8],
  ['100.64.0.0', 10],
  ['127.0.0.0', 8],
  ['169.254.0.0', 16],
  ['172.16.0.0', 12],
  ['192.168.0.0', 16],
] as const)
  NOT_PUBLIC.addSubnet(net, prefix, 'ipv4');
for (const [net, prefix] of [
  ['::', 128],
  ['::1', 128],
  ['fe80::', 10],
  ['fc00::', 7],
] as const)
  NOT_PUBLIC.addSubnet(net, prefix, 'ipv6');

/** "::ffff:203.0.113.9" (an IPv4 client on a dual-stack socket) → "203.0.113.9"; the database keys IPv4 apart. */
function unmapIpv4(ip: string): string {
  const mapped = /^::ffff:(\d{1,3}(?:\.\d{1,3}){3})$/i.exec(ip);
  return mapped ? mapped[1] : ip;
}

function openDatabase(): Reader<CountryResponse> {
  let file: string;
  try {
    file = require.resolve(GEOIP_DATABASE);
  } catch {
    throw new Error(
      `GEOIP=true but the country database ${GEOIP_DATABASE} is missing: install the @ip-location-db/geo-whois-asn-country-mmdb package, or set GEOIP=false`,
    );
  }
  // Read synchronously from the local file, once, at start: the server never fetches it.
  return new Reader<CountryResponse>(readFileSync(file));
}

/**
 * The country of a client address (GEOIP=true), from the offline database opened at start; null
 * with GEOIP off, for addresses that are not public, and for ones the database does not know.
 */
@Injectable()
export class GeoIp {
  private readonly reader: Reader<CountryResponse> | null;

  constructor(@Inject(appConfig.KEY) config: AppConfig) {
    this.reader = config.geoip ? openDatabase() : null;
  }

  countryOf(ip: string | null): string | null {
    if (!this.reader || !ip) return null;
    const address = unmapIpv4(ip);
    const family = isIP(address);
    if (family === 0 || NOT_PUBLIC.check(address, family === 4 ? 'ipv4' : 'ipv6')) return null;
    // This database's records are { country_code: 'US' }, not MaxMind's GeoIP2 shape.
    const record = this.reader.get(address) as { country_code?: unknown } | null;
    const code = typeof record?.country_code === 'string' ? record.country_code.toUpperCase() : '';
    return /^[A-Z]{2}$/.test(code) ? code : null;
  }
}
