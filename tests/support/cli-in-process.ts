/** The model-deploy CLI in-process, in a folder: its exit code and everything it printed. */
import { PassThrough } from 'stream';
import { main } from '../../src/cli/main';

export async function runCli(dir: string, args: string[]): Promise<{ code: number; out: string }> {
  const stream = new PassThrough();
  let out = '';
  stream.on('data', (c: Buffer) => (out += c.toString()));
  const cwd = process.cwd();
  process.chdir(dir);
  try {
    return { code: await main(args, stream), out };
  } finally {
    process.chdir(cwd);
  }
}
