/**
 * Where the actions and the CLI report to. Domain modules take a Reporter, never @actions/core
 * directly, so the same flow prints GitHub workflow commands in an action, readable text in the
 * CLI, and is captured whole in tests (which grep it for secrets).
 */
import type * as Core from '@actions/core';
import type { SourceLocation } from './errors';

export interface Reporter {
  info(message: string): void;
  debug(message: string): void;
  warning(message: string, location?: SourceLocation, title?: string): void;
  error(message: string, location?: SourceLocation, title?: string): void;
  notice(message: string, title?: string): void;
  /** Runs fn inside a collapsible log group. */
  group<T>(name: string, fn: () => Promise<T>): Promise<T>;
  /** Registers a value to be masked in every later log line. Call before anything could print it. */
  setSecret(value: string): void;
  setOutput(name: string, value: string): void;
  /** Appends markdown to the job summary. */
  summary(markdown: string): Promise<void>;
}

function annotationProps(location?: SourceLocation, title?: string): Core.AnnotationProperties {
  return {
    title,
    file: location?.file,
    startLine: location?.line,
    startColumn: location?.column,
  };
}

/**
 * The GitHub runner: workflow commands, GITHUB_OUTPUT, GITHUB_STEP_SUMMARY, through @actions/core's
 * public API. Its index also loads @actions/http-client and undici (about 40 ms of a bundle's start), so
 * it is required here, when an action asks for this reporter, not by every module that imports log.ts
 * (the CLI and the tests use the other reporters and never load it).
 */
export function githubReporter(): Reporter {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const core = require('@actions/core') as typeof Core;
  return {
    info: (m) => core.info(m),
    debug: (m) => core.debug(m),
    warning: (m, loc, title) => core.warning(m, annotationProps(loc, title)),
    error: (m, loc, title) => core.error(m, annotationProps(loc, title)),
    notice: (m, title) => core.notice(m, { title }),
    group: async (name, fn) => {
      core.startGroup(name);
      try {
        return await fn();
      } finally {
        core.endGroup();
      }
    },
    setSecret: (v) => {
      if (v) core.setSecret(v);
    },
    setOutput: (n, v) => core.setOutput(n, v),
    summary: async (md) => {
      if (!process.env.GITHUB_STEP_SUMMARY) return;
      await core.summary.addRaw(md, true).write();
    },
  };
}

/** A terminal: plain lines, secrets replaced by *** like the runner does. */
export function consoleReporter(options: { verbose?: boolean; stream?: NodeJS.WritableStream } = {}): Reporter {
  const secrets: string[] = [];
  const out = options.stream ?? process.stdout;
  const write = (line: string) => {
    let text = line;
    for (const s of secrets) text = text.split(s).join('***');
    out.write(`${text}\n`);
  };
  const where = (loc?: SourceLocation) =>
    loc ? `${loc.file}${loc.line !== undefined ? `:${loc.line}` : ''}${loc.column !== undefined ? `:${loc.column}` : ''}: ` : '';
  return {
    info: write,
    debug: (m) => {
      if (options.verbose) write(`debug: ${m}`);
    },
    warning: (m, loc) => write(`warning: ${where(loc)}${m}`),
    error: (m, loc) => write(`error: ${where(loc)}${m}`),
    notice: (m) => write(`notice: ${m}`),
    group: async (name, fn) => {
      write(`▸ ${name}`);
      return fn();
    },
    setSecret: (v) => {
      if (v) secrets.push(v);
    },
    setOutput: (n, v) => write(`output ${n}=${v}`),
    summary: async () => {
      /* the CLI writes its reports as files instead */
    },
  };
}

export interface CapturedReport {
  lines: string[];
  outputs: Record<string, string>;
  summaries: string[];
  secrets: string[];
  annotations: { level: 'warning' | 'error' | 'notice'; message: string; location?: SourceLocation; title?: string }[];
}

/** For tests: records everything, masks nothing (so a test can prove nothing secret was written). */
export function memoryReporter(): Reporter & { captured: CapturedReport; allText(): string } {
  const captured: CapturedReport = { lines: [], outputs: {}, summaries: [], secrets: [], annotations: [] };
  return {
    captured,
    allText() {
      return [
        ...captured.lines,
        ...Object.entries(captured.outputs).map(([k, v]) => `${k}=${v}`),
        ...captured.summaries,
        ...captured.annotations.map((a) => `${a.title ?? ''} ${a.message}`),
      ].join('\n');
    },
    info: (m) => captured.lines.push(m),
    debug: (m) => captured.lines.push(`debug: ${m}`),
    warning: (m, location, title) => captured.annotations.push({ level: 'warning', message: m, location, title }),
    error: (m, location, title) => captured.annotations.push({ level: 'error', message: m, location, title }),
    notice: (m, title) => captured.annotations.push({ level: 'notice', message: m, title }),
    group: async (name, fn) => {
      captured.lines.push(`::group::${name}`);
      try {
        return await fn();
      } finally {
        captured.lines.push('::endgroup::');
      }
    },
    setSecret: (v) => {
      if (v) captured.secrets.push(v);
    },
    setOutput: (n, v) => {
      captured.outputs[n] = v;
    },
    summary: async (md) => {
      captured.summaries.push(md);
    },
  };
}
