/**
 * security.allowedCidrs (and each environment's): IPv4 CIDR blocks a load balancer security group admits.
 * The schema's pattern only says "four numbers and a prefix"; EC2 refuses an octet over 255 or a prefix
 * over 32 ("CIDR block ... is malformed") at deploy time, and silently masks host bits (10.0.0.5/24 admits
 * 10.0.0.0/24), so a block with host bits admits a range its reader does not see. Both are refused here.
 */
import type { PathPart } from './yaml-positions';

export interface CidrProblem {
  field: PathPart[];
  message: string;
  hint: string;
}

/** What is wrong with one IPv4 CIDR block, and the block AWS would admit instead when it widens it; undefined when EC2 takes it as written. */
function checkCidr(cidr: string): { problem: string; admits?: string } | undefined {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\/(\d{1,2})$/.exec(cidr);
  if (!m) return { problem: 'is not an IPv4 CIDR block (a.b.c.d/n)' };
  const octets = m.slice(1, 5).map(Number);
  const prefix = Number(m[5]);
  const bad = octets.find((o) => o > 255);
  if (bad !== undefined) return { problem: `has an octet over 255 (${bad})` };
  if (prefix > 32) return { problem: `has a prefix over 32 (/${prefix})` };
  // >>> 0 keeps the 32-bit value unsigned; a /0 mask is 0 (a shift by 32 is a shift by 0 in JavaScript).
  const address = octets.reduce((a, o) => a * 256 + o, 0);
  const mask = prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0;
  const network = (address & mask) >>> 0;
  if (network === address) return undefined;
  const admits = `${[24, 16, 8, 0].map((s) => (network >>> s) & 255).join('.')}/${prefix}`;
  return { problem: `has host bits set: AWS would admit ${admits}`, admits };
}

/** The problem with one IPv4 CIDR block, or undefined when EC2 takes it as written. */
export function cidrProblem(cidr: string): string | undefined {
  return checkCidr(cidr)?.problem;
}

/** Every block of security.allowedCidrs and security.environments.ENV.allowedCidrs that EC2 would refuse or widen. */
export function allowedCidrProblems(security: { allowedCidrs?: string[]; environments?: Record<string, { allowedCidrs?: string[] } | undefined> }): CidrProblem[] {
  const lists: { field: PathPart[]; cidrs: string[] }[] = [{ field: ['security', 'allowedCidrs'], cidrs: security.allowedCidrs ?? [] }];
  for (const [name, own] of Object.entries(security.environments ?? {})) {
    if (own?.allowedCidrs) lists.push({ field: ['security', 'environments', name, 'allowedCidrs'], cidrs: own.allowedCidrs });
  }
  return lists.flatMap(({ field, cidrs }) =>
    cidrs.flatMap((cidr, i) => {
      const found = checkCidr(cidr);
      if (!found) return [];
      const hint = found.admits ? `Write ${found.admits} (the range AWS admits), or the address alone as a.b.c.d/32.` : 'Write an IPv4 CIDR block such as 203.0.113.0/24, or 0.0.0.0/0 for anyone.';
      return [{ field: [...field, i], message: `${field.join('.')}[${i}] "${cidr}" ${found.problem}`, hint }];
    }),
  );
}
