/**
 * What a new user types first: `--version`, `--help` on every command (each shows at least one
 * example), and `completion`, whose script asks the CLI itself for the command names.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { runCli } from '../helpers/cli';

const version = (JSON.parse(fs.readFileSync(path.join(__dirname, '..', '..', 'package.json'), 'utf8')) as { version: string }).version;

/** The command names, as the completion script gets them from the CLI (so a new command is covered automatically). */
async function commandNames(): Promise<string[]> {
  const r = await runCli(['--get-yargs-completions', 'onnxtune', '']);
  expect(r.code).toBe(0);
  return r.stdout.split('\n').map((l) => l.split(':')[0].trim()).filter((w) => w && !w.startsWith('-'));
}

describe('onnxtune --version, --help and completion', () => {
  it('prints the package version', async () => {
    const r = await runCli(['--version']);
    expect(r.code).toBe(0);
    expect(r.stdout.trim()).toBe(version);
  });

  it('shows at least one example in every command\'s --help', async () => {
    const names = await commandNames();
    expect(names).toEqual(expect.arrayContaining(['run', 'demo', 'inspect', 'eval', 'denoise', 'convert', 'web', 'completion']));
    const missing: string[] = [];
    for (const name of names.filter((n) => n !== 'completion')) {
      const r = await runCli([name, '--help']);
      expect(r.code).toBe(0);
      if (!/\nExamples:\n\s+onnxtune /.test(r.stdout)) missing.push(name);
    }
    expect(missing).toEqual([]);
  });

  it('prints a bash/zsh completion script that asks onnxtune for completions', async () => {
    const r = await runCli(['completion']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/###-begin-onnxtune-completions-###/);
    expect(r.stdout).toMatch(/onnxtune --get-yargs-completions/);
    expect(r.stdout).toMatch(/complete .* onnxtune/);
  });
});
