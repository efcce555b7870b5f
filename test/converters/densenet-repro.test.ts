/**
 * ../shared/repros/densenet121-to-7x7.onnx (Caffe2-style DenseNet-121, opset 9) converts on native
 * TF.js and on wasm, each in its own child process without the supervisor, so a crash fails this
 * test instead of killing jest or being hidden by the retry: clean exit, parity ≤ 1e-4 vs onnxruntime.
 * It killed native TF with SIGFPE on a VM whose CPUID hides its cache sizes (src/backends/onednn-guard.ts).
 */
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';
import { describeIfShared, sharedPath } from '../helpers/shared-data';
import { nativeTfInstalled } from '../helpers/native-tf';
import { tmpDir } from '../helpers/tmp';

const ROOT = path.resolve(__dirname, '..', '..');
const REPRO = 'repros/densenet121-to-7x7.onnx';

interface Report {
  check: { outputs: Array<{ name: string; dims: number[]; maxAbs: number }> };
}

describeIfShared('DenseNet-121 repro converts on every backend', [REPRO], () => {
  const backends = nativeTfInstalled('densenet-repro') ? ['tensorflow', 'wasm'] : ['wasm'];
  test.each(backends)('%s: clean exit, output [1, 32, 7, 7] within 1e-4 of onnxruntime', (backend) => {
    const out = path.join(tmpDir(), 'model.json');
    const r = spawnSync(
      process.execPath,
      ['-r', path.join(ROOT, 'test/helpers/ts-register.js'), path.join(ROOT, 'test/helpers/cli-entry.ts'), '--json', 'convert', sharedPath(REPRO), out],
      { cwd: ROOT, env: { ...process.env, ONNXTUNE_TF_BACKEND: backend, ONNXTUNE_LOG_LEVEL: 'info' }, encoding: 'utf8', timeout: 300000 },
    );
    expect({ signal: r.signal, code: r.status }).toEqual({ signal: null, code: 0 });
    expect(r.stderr).toContain(`TensorFlow.js backend: ${backend}`);
    const report = JSON.parse(r.stdout) as Report;
    expect(report.check.outputs).toHaveLength(1);
    expect(report.check.outputs[0].dims).toEqual([1, 32, 7, 7]);
    expect(report.check.outputs[0].maxAbs).toBeLessThanOrEqual(1e-4);
    process.stdout.write(`densenet repro on ${backend}: max abs ${report.check.outputs[0].maxAbs.toExponential(2)}\n`);
  });
});
