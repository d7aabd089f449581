/** What a CLI command reads and writes: its output stream, the terminal (when there is one), the environment. */
import type { Reporter } from '../core/log';

export interface CliIo {
  out: NodeJS.WritableStream;
  reporter: Reporter;
  /** Asks one question on a terminal; undefined when stdin is not a terminal (CI, a pipe): commands then need flags. */
  ask?: (question: string) => Promise<string>;
  /** Aborted on Ctrl-C. */
  signal?: AbortSignal;
}

/** Each command's module: its help text and its run. Loaded only when that command runs (a lean start). */
export interface CliCommand {
  usage: string;
  run(args: string[], io: CliIo): Promise<number>;
}

/** One line read from the terminal (readline loaded only when a question is asked). */
export function terminalAsk(input: NodeJS.ReadStream & { isTTY?: boolean }, output: NodeJS.WritableStream): CliIo['ask'] {
  if (!input.isTTY) return undefined;
  return async (question: string) => {
    const readline = await import('readline');
    const rl = readline.createInterface({ input, output });
    try {
      return await new Promise<string>((resolve) => rl.question(question, resolve));
    } finally {
      rl.close();
    }
  };
}

/** Yes/no on a terminal; false on anything but y/yes. */
export async function confirm(ask: NonNullable<CliIo['ask']>, question: string): Promise<boolean> {
  return /^y(es)?$/i.test((await ask(`${question} [y/N] `)).trim());
}
