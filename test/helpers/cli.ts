/** Runs the CLI in-process (`main(args)`) and captures stdout, stderr and the exit code. */
import { main } from '../../src/cli/main';

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

export async function runCli(args: string[]): Promise<CliResult> {
  let stderr = '';
  let stdout = '';
  const errSpy = jest.spyOn(process.stderr, 'write').mockImplementation((c: string | Uint8Array) => {
    stderr += String(c);
    return true;
  });
  const outSpy = jest.spyOn(process.stdout, 'write').mockImplementation((c: string | Uint8Array) => {
    stdout += String(c);
    return true;
  });
  // yargs prints --help through console.log.
  const logSpy = jest.spyOn(console, 'log').mockImplementation((...a: unknown[]) => {
    stdout += a.join(' ') + '\n';
  });
  try {
    return { code: await main(args), stdout, stderr };
  } finally {
    errSpy.mockRestore();
    outSpy.mockRestore();
    logSpy.mockRestore();
  }
}
