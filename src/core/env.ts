/** The GitHub runner's environment, read in one place. */
export class EnvInputs {
  constructor(private readonly env: NodeJS.ProcessEnv) {}

  get(name: string): string | undefined {
    const v = this.env[name];
    return v === undefined || v === '' ? undefined : v;
  }

  get repository(): string | undefined {
    return this.get('GITHUB_REPOSITORY');
  }
  get sha(): string | undefined {
    return this.get('GITHUB_SHA');
  }
  get runUrl(): string | undefined {
    const server = this.get('GITHUB_SERVER_URL') ?? 'https://github.com';
    const repo = this.repository;
    const run = this.get('GITHUB_RUN_ID');
    return repo && run ? `${server}/${repo}/actions/runs/${run}` : undefined;
  }
  get apiUrl(): string {
    return this.get('GITHUB_API_URL') ?? 'https://api.github.com';
  }
  get eventPath(): string | undefined {
    return this.get('GITHUB_EVENT_PATH');
  }
  get eventName(): string | undefined {
    return this.get('GITHUB_EVENT_NAME');
  }
  /** Parsed event payload, or {} outside GitHub. */
  event(): Record<string, unknown> {
    const p = this.eventPath;
    if (!p) return {};
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const fs = require('fs') as typeof import('fs');
    try {
      return JSON.parse(fs.readFileSync(p, 'utf8')) as Record<string, unknown>;
    } catch {
      return {};
    }
  }
}
