/** The CLI as a child-process entry for tests (run through test/helpers/ts-register.js, no build needed). */
import { main } from '../../src/cli/main';

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    process.stderr.write(`cli-entry: ${String(err)}\n`);
    process.exitCode = 1;
  },
);
