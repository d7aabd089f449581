/**
 * Credentials that outlive the wait (#23.4), through the deploy's door on the fault world: under GitHub OIDC
 * each renewal asks GitHub for a new token and STS for a new session before the one in hand expires.
 */
import { FAULTS } from './cases';
import { runFault } from './world';

const renewed = FAULTS.find((f) => f.oidc && !f.oidc.renewalFailsFrom)!;
const refused = FAULTS.find((f) => f.oidc?.renewalFailsFrom)!;

test('a 50-minute wait on 20-minute sessions takes a new token and a new session before each expires', async () => {
  const out = await runFault(renewed);
  expect(out.ok).toBe(true);
  // The first session at the start, then one five minutes before each expiry: never a request with an expired one.
  expect(out.sessions).toBe(4);
  expect(out.oidcTokens).toBe(out.sessions);
  expect(out.text).toMatch(/model-deploy-dev with this job's OIDC token, renewed before they expire/);
  // The keys and tokens never reach the output.
  for (const secret of ['secret-1', 'session-2', 'oidc-token-1']) expect(out.reporter.captured.secrets).toContain(secret);
  expect(out.text).not.toMatch(/secret-\d|session-\d|oidc-token-\d/);
});

test('a refused renewal ends the deploy red before its session expires, saying the update goes on unwatched', async () => {
  const out = await runFault(refused);
  expect(out.ok).toBe(false);
  expect(out.sessions).toBe(2);
  // Renewed five minutes before the session ends: the failure comes then, not at the deploy's deadline.
  expect(out.elapsedMs).toBeLessThan(20 * 60000);
  expect(out.summary).toMatch(/AWS credentials not renewed/);
  expect(out.summary).toMatch(/goes on in AWS unwatched and could not be cancelled/);
  // The deploy role is not the promotion source: no PromotionEnvironments advice.
  expect(out.summary).not.toMatch(/PromotionEnvironments/);
});
