/**
 * Whether native TF.js (tfjs-node, built by `npm run setup:native`) is installed, judged from its
 * files so the binding is not loaded here: src/backends/tf.ts must set oneDNN's environment first.
 * In CI a missing binding is an error, not a skip: the native parity tests must run there.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';

export function nativeTfInstalled(who: string): boolean {
  let found = false;
  try {
    const lib = path.join(path.dirname(require.resolve('@tensorflow/tfjs-node/package.json')), 'lib');
    found = fs.readdirSync(lib).some((d) => fs.existsSync(path.join(lib, d, 'tfjs_binding.node')));
  } catch {
    found = false;
  }
  if (!found) {
    if (process.env.CI) throw new Error(`${who}: @tensorflow/tfjs-node is not built (CI runs \`npm run setup:native\` first)`);
    process.stdout.write(`${who}: @tensorflow/tfjs-node is not built (\`npm run setup:native\`); native tests skipped.\n`);
  }
  return found;
}
