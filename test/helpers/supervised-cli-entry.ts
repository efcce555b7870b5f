/**
 * The CLI as bin/onnxtune.js starts it (supervisor included), from the TypeScript sources:
 *   node -r ./test/helpers/ts-register.js test/helpers/supervised-cli-entry.ts convert …
 */
import { launch } from '../../src/cli/supervisor';

launch(process.argv.slice(2), __filename, () => require('../../src/cli/main').main as (a: string[]) => Promise<number>).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    process.stderr.write(`supervised-cli-entry: ${String(err)}\n`);
    process.exitCode = 1;
  },
);
