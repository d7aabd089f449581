/**
 * ec2/ecs serve HTTPS under security.hostname (issue 13.4): before anything mutates, the deploy checks
 * that the hostname is set and that the listener's ACM certificate names it, so the endpoint is not
 * deployed behind a name every TLS client refuses.
 */
import { parseArn } from '../core/arn';
import { DeployError, errorMessage } from '../core/errors';
import type { Reporter } from '../core/log';
import { certificateFor, securityIn } from '../config/region-truth';
import type { Deployment } from '../config/types';
import { ACMClient, DescribeCertificateCommand } from '@aws-sdk/client-acm';
import { awsClient } from '../core/aws';

/** What ACM DescribeCertificate says of the names a certificate covers. */
export interface CertificateNames {
  DomainName?: string;
  SubjectAlternativeNames?: string[];
}

/** Reads a certificate's names (ACM DescribeCertificate in the certificate's region). */
export type DescribeCertificate = (certificateArn: string, region: string) => Promise<CertificateNames>;

/** True when a certificate name covers the hostname; a wildcard covers exactly one leftmost label. */
export function nameCovers(name: string, hostname: string): boolean {
  const pattern = name.toLowerCase().replace(/\.$/, '');
  const host = hostname.toLowerCase().replace(/\.$/, '');
  if (!pattern.startsWith('*.')) return pattern === host;
  const dot = host.indexOf('.');
  return dot > 0 && host.slice(dot + 1) === pattern.slice(2);
}

export function certificateCovers(cert: CertificateNames, hostname: string): boolean {
  const names = [cert.DomainName, ...(cert.SubjectAlternativeNames ?? [])].filter((n): n is string => Boolean(n));
  return names.some((n) => nameCovers(n, hostname));
}

/** ACM's DescribeCertificate through the project's client factory (proxy-aware, retries). */
export const describeWithAcm: DescribeCertificate = async (certificateArn, region) => {
  const out = await awsClient(ACMClient, { region }).send(new DescribeCertificateCommand({ CertificateArn: certificateArn }));
  return { DomainName: out.Certificate?.DomainName, SubjectAlternativeNames: out.Certificate?.SubjectAlternativeNames };
};

/** Refuses an ec2/ecs deployment without a hostname, or whose certificate does not name it. */
export async function checkEndpointHost(d: Deployment, region: string, reporter: Reporter, describe?: DescribeCertificate, environmentName?: string): Promise<void> {
  if (d.target !== 'ec2' && d.target !== 'ecs') return;
  // The hostname this environment serves (security.environments.ENV.hostname, else security.hostname).
  const { hostname } = securityIn(d.security, environmentName, region);
  // The certificate the stack will get in this environment and region (render.ts chooses it alike).
  const certificateArn = certificateFor(d.security, environmentName, region).arn;
  if (!hostname) {
    throw new DeployError(`target ${d.target} serves HTTPS and needs security.hostname, the name its certificate covers`, {
      location: d.source,
      title: 'Missing hostname',
      hint: 'Nothing was changed. Add security.hostname (chat.example.com), and security.hostedZoneId to let the stack create its Route 53 alias record.',
    });
  }
  if (!certificateArn) return; // render refuses it with its own message
  const arnRegion = parseArn(certificateArn)?.region || region;
  let cert: CertificateNames;
  try {
    cert = await (describe ?? describeWithAcm)(certificateArn, arnRegion);
  } catch (err) {
    if (/AccessDenied|not authorized/i.test(`${(err as Error).name} ${errorMessage(err)}`)) {
      reporter.warning(`Could not read ${certificateArn} (acm:DescribeCertificate denied): not checked that it covers ${hostname}.`, d.source, 'Certificate not checked');
      return;
    }
    throw new DeployError(`Reading certificate ${certificateArn}: ${errorMessage(err)}`, { location: d.source, title: 'Certificate not readable' });
  }
  if (!certificateCovers(cert, hostname)) {
    const names = [cert.DomainName, ...(cert.SubjectAlternativeNames ?? [])].filter(Boolean);
    throw new DeployError(`certificate ${certificateArn} names ${[...new Set(names)].join(', ') || 'no domain'}, not security.hostname ${hostname}`, {
      location: d.source,
      title: 'Certificate does not cover the hostname',
      hint: 'Nothing was changed. Use a certificate issued for the hostname (or a *.parent wildcard), or set security.hostname to a name it covers.',
    });
  }
}
