/**
 * The bootstrap of the journey's accounts, as docs/getting-started.md has the administrator run it: the built
 * CLI (`model-deploy bootstrap ... --yes`, as tests/process/cli-bootstrap.test.ts runs it) with each account's
 * credentials, against the fake AWS world, with the default subject form (immutable ids: RepositoryOwnerId and
 * RepositoryId of the repository the world's GitHub issues tokens for). The roles the jobs assume are then the
 * stacks' own, and STS in the world decides with their trust policies.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { runCli } from '../support/cli';
import { REPOSITORY } from '../support/fake-aws/github-oidc';
import type { World } from '../support/fake-aws/world';

export const ACCOUNTS = { dev: '111111111111', staging: '222222222222', prod: '333333333333' } as const;

/** The parameters docs/getting-started.md gives each environment of the bundled example. */
export const EXAMPLE_BOOTSTRAP: Record<keyof typeof ACCOUNTS, string[]> = {
  // The source: the read-only role staging and prod promote jobs read with, and (ProtectedRefs' default
  // refs/heads/main) the provenance recorder.
  dev: ['PromotionEnvironments=staging,prod', 'CreateArtifactBucket=true'],
  staging: ['CreatePromotionRole=true', 'CreateArtifactBucket=true'],
  prod: ['CreatePromotionRole=true', 'CreateArtifactBucket=true'],
};

/** Bootstraps `environments` (default: all three of the example) of project acme-llm in us-east-1; throws with the CLI's output on a failure. */
export async function bootstrap(world: World, environments: (keyof typeof ACCOUNTS)[] = ['dev', 'staging', 'prod']): Promise<void> {
  // An empty folder: no spec, no git remote, so every value comes from the flags.
  const cwd = fs.mkdtempSync(path.join(os.tmpdir(), 'md-journey-bootstrap-'));
  try {
    for (const environment of environments) {
      const parameters = [`RepositoryOwnerId=${REPOSITORY.ownerId}`, `RepositoryId=${REPOSITORY.id}`, ...EXAMPLE_BOOTSTRAP[environment]];
      const r = await runCli(
        ['bootstrap', '--environment', environment, '--repository', REPOSITORY.name, '--project', 'acme-llm', '--region', 'us-east-1', ...parameters.flatMap((p) => ['--parameter', p]), '--yes'],
        { ...world.credentialsFor(ACCOUNTS[environment]), AWS_ENDPOINT_URL: world.server.url, AWS_REGION: 'us-east-1' },
        cwd,
      );
      if (r.code !== 0) throw new Error(`bootstrap of ${environment} failed (${r.code}):\n${r.out}`);
    }
  } finally {
    fs.rmSync(cwd, { recursive: true, force: true });
  }
}
