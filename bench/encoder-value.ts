/**
 * What the pretrained encoder buys (issue 13): the same head, data, seed and step budget with
 * (a) the pretrained ResNet-20 frozen, (b) every encoder weight zeroed (the taps are constant, so
 * the head works alone), (c) a He-normal random encoder of the same graph, (d) the pretrained
 * encoder with its last stage(s) fine-tuned (encoder.trainable). Each arm runs the set12 job
 * (configs/set12-resnet20-s25.yaml; `--quick`: a fraction of its data) to export, then scores
 * the exported model on Set12 and BSD68 at σ = 25 (whole images, the eval protocol).
 *
 *   node -r ./test/helpers/ts-register.js bench/encoder-value.ts [--quick] [--budget EPOCHS] [--arms a,b,c,d]
 *        [--finetune last:1] [--set key=value ...] [--out bench/results/encoder-value.json]
 *
 * The budget is the number of epochs (the same steps for every arm); each arm's training seconds
 * are reported, since a fine-tuned step costs more than a frozen one.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { evaluateMethod, loadTestImages } from '../src/eval/evaluate';
import { openDenoiser } from '../src/inference/onnx-denoiser';
import { loadModel, saveModel } from '../src/onnx/model-io';
import type { ModelProto } from '../src/onnx/proto';
import { floatTensor, tensorDims } from '../src/onnx/tensor';
import { PROJECT_ROOT } from '../src/version';
import { runJob } from '../pipeline/runner';
import { ArgCursor, sharedDir } from './cli';
import { randomizeConvs } from './random-encoder';

const ARMS = Object.freeze({
  a: 'pretrained encoder, frozen',
  b: 'encoder weights zeroed (head alone)',
  c: 'random He-init encoder, frozen',
  d: 'pretrained encoder, last stage(s) fine-tuned',
});
type Arm = keyof typeof ARMS;

/** Sets every Conv weight and bias initializer to zero, in place; returns how many Convs. */
export function zeroConvs(model: ModelProto): number {
  const g = model.graph!;
  const at = new Map((g.initializer ?? []).map((t, i) => [t.name as string, i]));
  let n = 0;
  for (const node of g.node ?? []) {
    if (node.opType !== 'Conv') continue;
    for (const name of (node.input ?? []).slice(1)) {
      const i = name ? at.get(name) : undefined;
      if (i === undefined) continue;
      const dims = tensorDims(g.initializer![i]);
      g.initializer![i] = floatTensor(name, dims, new Float32Array(dims.reduce((a, b) => a * b, 1)));
    }
    n += 1;
  }
  return n;
}

interface ArmResult {
  arm: Arm;
  what: string;
  trainSeconds: number;
  steps: number;
  samplesPerSecond: number | null;
  finalValPsnr: number | null;
  set12: { psnr: number; ssim: number; noisyPsnr: number };
  bsd68: { psnr: number; ssim: number; noisyPsnr: number };
  run: string;
}

async function main(): Promise<void> {
  const args = new ArgCursor(process.argv.slice(2));
  let quick = false;
  let budget: number | undefined;
  let arms: Arm[] = ['a', 'b', 'c', 'd'];
  let finetune = 'last:1';
  const extra: string[] = [];
  let out = path.join(PROJECT_ROOT, 'bench', 'results', 'encoder-value.json');
  for (let flag = args.next(); flag !== undefined; flag = args.next()) {
    if (flag === '--quick') quick = true;
    else if (flag === '--budget') budget = args.number(flag);
    else if (flag === '--arms') arms = args.value(flag).split(',').map((s) => s.trim()) as Arm[];
    else if (flag === '--finetune') finetune = args.value(flag);
    else if (flag === '--set') extra.push(args.value(flag));
    else if (flag === '--out') out = path.resolve(args.value(flag));
    else throw new Error(`unknown flag ${flag}; expected --quick, --budget, --arms, --finetune, --set, --out`);
  }
  for (const a of arms) if (!(a in ARMS)) throw new Error(`unknown arm '${a}'; arms: ${Object.keys(ARMS).join(', ')}`);
  const shared = sharedDir();
  const encoderFile = path.join(shared, 'models', 'resnet20_cifar10.onnx');
  if (!fs.existsSync(encoderFile)) throw new Error(`${encoderFile} is missing: this bench needs the shared data (ONNXTUNE_SHARED_DIR)`);
  // Runs and encoder copies sit beside the JSON, in a folder named after it (two budgets keep both).
  const work = out.replace(/\.json$/, '');
  fs.mkdirSync(work, { recursive: true });

  const zeroed = path.join(work, 'resnet20_zeroed.onnx');
  const zm = loadModel(encoderFile);
  zeroConvs(zm);
  saveModel(zm, zeroed);
  const random = path.join(work, 'resnet20_random_he.onnx');
  const rm = loadModel(encoderFile);
  randomizeConvs(rm, 0);
  saveModel(rm, random);

  const [kind, value] = finetune.split(':');
  const trainable = kind === 'last' ? `{ last: ${Number(value)}, at_epoch: 0, lr_multiplier: 0.1 }` : `{ stages: [${value}], at_epoch: 0, lr_multiplier: 0.1 }`;
  const common = [
    ...(quick ? ['data.limit=120', 'data.patches_per_image=16', 'train.epochs=3'] : []),
    ...(budget !== undefined ? [`train.epochs=${budget}`] : []),
    'train.tensorboard=false', 'train.grid_samples=0',
    ...extra,
  ];
  const armOverrides: Record<Arm, string[]> = {
    a: [],
    b: [`encoder.onnx=${zeroed}`],
    c: [`encoder.onnx=${random}`],
    d: [`encoder.trainable=${trainable}`],
  };
  const set12 = await loadTestImages({ data: path.join(shared, 'data', 'set12'), sigmas: [25], channels: 1 });
  const bsd68 = await loadTestImages({ data: path.join(shared, 'data', 'bsd68'), sigmas: [25], channels: 1 });
  const results: ArmResult[] = [];
  const t0 = Date.now();
  for (const arm of arms) {
    const runDir = path.join(work, `run-${arm}`);
    fs.rmSync(runDir, { recursive: true, force: true });
    const overrides = [...common, ...armOverrides[arm]];
    console.log(`arm (${arm}) ${ARMS[arm]}: --set ${overrides.join(' --set ')}`);
    await runJob({ jobFile: path.join(PROJECT_ROOT, 'configs', 'set12-resnet20-s25.yaml'), overrides, outDir: runDir, until: 'export' });
    const train = JSON.parse(fs.readFileSync(path.join(runDir, 'train', 'run.json'), 'utf8'));
    const exportDir = path.join(runDir, 'export');
    const file = path.join(exportDir, fs.readdirSync(exportDir).find((f) => f.endsWith('.onnx')) as string);
    const denoiser = await openDenoiser(file, { device: 'cpu' });
    const score = async (images: typeof set12) => {
      const r = await evaluateMethod(arm, (x, w, h) => denoiser.run(x, w, h, { tile: Math.max(w, h) }), images, [25], 0);
      const s = r.summaries[0];
      return { psnr: s.psnr, ssim: s.ssim, noisyPsnr: s.noisyPsnr };
    };
    const row: ArmResult = {
      arm, what: ARMS[arm], trainSeconds: train.wallSeconds, steps: train.summary.steps, samplesPerSecond: train.summary.samplesPerSecond,
      finalValPsnr: train.summary.finalValPsnr, set12: await score(set12), bsd68: await score(bsd68), run: path.relative(PROJECT_ROOT, runDir),
    };
    await denoiser.release();
    results.push(row);
    console.log(`  Set12 ${row.set12.psnr.toFixed(2)} dB / ${row.set12.ssim.toFixed(3)}, BSD68 ${row.bsd68.psnr.toFixed(2)} / ${row.bsd68.ssim.toFixed(3)}, train ${row.trainSeconds.toFixed(0)} s`);
  }
  const report = {
    bench: 'encoder-value', date: new Date().toISOString(), machine: { cpus: os.cpus().length, model: os.cpus()[0]?.model, loadavg: os.loadavg() },
    job: 'configs/set12-resnet20-s25.yaml', quick, overrides: common, finetune: trainable, totalSeconds: (Date.now() - t0) / 1000, results,
  };
  fs.mkdirSync(path.dirname(out), { recursive: true });
  fs.writeFileSync(out, JSON.stringify(report, null, 2) + '\n');
  console.log('\n| arm | encoder | Set12 PSNR / SSIM | BSD68 PSNR / SSIM | train s | steps |\n|---|---|---|---|---|---|');
  for (const r of results) {
    console.log(`| ${r.arm} | ${r.what} | ${r.set12.psnr.toFixed(2)} / ${r.set12.ssim.toFixed(3)} | ${r.bsd68.psnr.toFixed(2)} / ${r.bsd68.ssim.toFixed(3)} | ${r.trainSeconds.toFixed(0)} | ${r.steps} |`);
  }
  console.log(`wrote ${out}`);
}

if (process.argv[1] && /encoder-value\.(js|ts)$/.test(process.argv[1])) {
  main().catch((err) => {
    console.error(err instanceof Error ? err.message : err);
    process.exit(1);
  });
}
