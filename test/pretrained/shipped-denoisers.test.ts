/**
 * Regression guard for the denoisers shipped in pretrained/denoisers/: each file matches its card
 * (sha256, size ≤ 4 MiB, metadata), loads in onnxruntime-node, is made by a valid job in configs/,
 * and denoises its card's regression crops to within 0.05 dB of the card (needs ../shared/data;
 * skipped with a message without it). The README's cards block is generated from the cards.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parse as parseYaml } from 'yaml';
import { loadJobConfig } from '../../src/config/load';
import { openDenoiser } from '../../src/inference/onnx-denoiser';
import { writeImage } from '../../src/images/write';
import { sha256Bytes } from '../../src/sha256';
import { PROJECT_ROOT } from '../../src/version';
import { measureRegression } from '../../pretrained/shipped-check';
import { DENOISERS_DIR, listDenoiserCards, resolveModel } from '../../pretrained/shipped';
import { renderCardsTable } from '../../pretrained/shipped-readme';
import { runCli } from '../helpers/cli';
import { describeIfShared, sharedPath } from '../helpers/shared-data';
import { tmpDir } from '../helpers/tmp';

const cards = listDenoiserCards();
const MIB4 = 4 * 1024 * 1024;

describe('shipped denoisers', () => {
  it('are the four the README promises', () => {
    expect(cards.map((c) => c.name)).toEqual(['color-blind', 'gray-blind', 'gray-s25', 'real-camera']);
  });

  it.each(cards.map((c) => [c.name, c] as const))('%s: file = card (sha256, size), metadata, loads in onnxruntime-node, job valid', async (_n, card) => {
    const file = path.join(DENOISERS_DIR, card.file);
    const bytes = fs.readFileSync(file);
    expect(bytes.length).toBe(card.bytes);
    expect(bytes.length).toBeLessThanOrEqual(MIB4);
    expect(Buffer.from(sha256Bytes(new Uint8Array(bytes))).toString('hex')).toBe(card.sha256);
    expect(resolveModel(card.name)).toBe(file);
    const d = await openDenoiser(file, { threads: 1 });
    try {
      expect(d.channels).toBe(card.channels);
      expect(d.metadata['onnxtune.channels']).toBe(String(card.channels));
      expect(d.metadata['onnxtune.job']).toBe(`denoiser-${card.name}`);
      expect(d.metadata['onnxtune.encoder.source']).toContain('resnet20');
    } finally {
      await d.release();
    }
    // The job names this file (it reads ../shared, so it is validated in full below when that exists).
    const job = parseYaml(fs.readFileSync(path.join(PROJECT_ROOT, card.training.job), 'utf8')) as { name: string; export: { file: string } };
    expect([job.name, job.export.file]).toEqual([`denoiser-${card.name}`, card.file]);
    expect(card.weights === 'float32' || card.float16DeltaDb <= 0.01).toBe(true);
    expect(card.exportParity).toBeLessThanOrEqual(1e-4);
  });

  it("the README's model cards are generated from the cards", () => {
    const text = fs.readFileSync(path.join(DENOISERS_DIR, 'README.md'), 'utf8');
    const block = text.match(/<!-- cards:begin -->\n([\s\S]*?)<!-- cards:end -->/);
    expect(block?.[1]).toBe(renderCardsTable(cards));
  });

  it('onnxtune models lists them; denoise --model NAME runs one', async () => {
    const r = await runCli(['models', '--json']);
    expect(r.code).toBe(0);
    expect((JSON.parse(r.stdout) as Array<{ name: string }>).map((c) => c.name)).toEqual(cards.map((c) => c.name));
    const dir = tmpDir();
    const img = Float32Array.from({ length: 40 * 33 }, (_, i) => ((i * 37) % 100) / 99);
    await writeImage(path.join(dir, 'in.png'), img, 40, 33, 1);
    const out = path.join(dir, 'out');
    const d = await runCli(['denoise', '--model', 'gray-blind', path.join(dir, 'in.png'), '--out', out, '--no-page']);
    expect(d.code).toBe(0);
    expect(fs.existsSync(path.join(out, 'in.png'))).toBe(true);
  });
});

describeIfShared('shipped denoisers on their test sets', ['data/set12', 'data/kodak24', 'data/polyu_canon', 'data/train400', 'data/cbsd432', 'data/cbsd68', 'models/resnet20_cifar10.onnx'], () => {
  it.each(cards.map((c) => [c.name, c] as const))('%s: its job is valid with every path it reads', (_n, card) => {
    expect(loadJobConfig(path.join(PROJECT_ROOT, card.training.job)).export.file).toBe(card.file);
  });

  it.each(cards.map((c) => [c.name, c] as const))('%s: regression crops within 0.05 dB of the card', async (_n, card) => {
    const got = await measureRegression(path.join(DENOISERS_DIR, card.file), card.regression, sharedPath('data'), card.channels);
    expect(got).toHaveLength(card.regression.psnr.length);
    got.forEach((p, i) => expect(Math.abs(p - card.regression.psnr[i])).toBeLessThanOrEqual(0.05));
  });
});
