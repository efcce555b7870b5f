/** Model IO: round trips, corrupt/truncated input, atomic save, and safe external data. */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { createSession } from '../../src/backends/ort';
import { InputError } from '../../src/errors';
import { decodeModel, encodeModel, loadModel, saveModel } from '../../src/onnx/model-io';
import { onnx } from '../../src/onnx/proto';
import { notOnnxHint } from '../../src/onnx/not-onnx-hint';
import { readOnnxSummary } from '../../src/onnx/reader';
import { tensorToFloat32 } from '../../src/onnx/tensor';
import { tmpDir } from '../helpers/tmp';
import { convReluConvRelu, seeded } from './fixtures';

function externalize(model: onnx.ModelProto, name: string, location: string, offset = 0, length?: number): Uint8Array {
  const t = model.graph!.initializer!.find((i) => i.name === name)!;
  const raw = t.rawData as Uint8Array;
  t.rawData = new Uint8Array(0);
  t.dataLocation = onnx.TensorProto.DataLocation.EXTERNAL;
  t.externalData = [
    { key: 'location', value: location },
    { key: 'offset', value: String(offset) },
    { key: 'length', value: String(length ?? raw.length) },
  ];
  return raw;
}

describe('model IO', () => {
  test('encode → decode round trip keeps graph, opsets, metadata and tensor bytes', () => {
    const m = convReluConvRelu();
    const bytes = encodeModel(m);
    expect(bytes.byteOffset).toBe(0);
    const back = decodeModel(bytes, 'mem.onnx');
    expect(Buffer.from(encodeModel(back)).equals(Buffer.from(bytes))).toBe(true);
    expect(back.graph!.node!.map((n) => n.opType)).toEqual(['Conv', 'Relu', 'Conv', 'Relu']);
    expect(tensorToFloat32(back.graph!.initializer![0])).toEqual(seeded(72, 1));
    expect(back.metadataProps).toEqual([expect.objectContaining({ key: 'origin', value: 'fixture' })]);
  });

  test('truncated, empty and non-ONNX bytes are InputErrors naming the file', () => {
    const bytes = encodeModel(convReluConvRelu());
    for (const cut of [1, 10, Math.floor(bytes.length / 2), bytes.length - 1]) {
      expect(() => decodeModel(bytes.subarray(0, cut), 'cut.onnx')).toThrow(InputError);
      expect(() => decodeModel(bytes.subarray(0, cut), 'cut.onnx')).toThrow(/cut\.onnx/);
    }
    expect(() => decodeModel(new Uint8Array(0), 'empty.onnx')).toThrow(/empty/);
    expect(() => decodeModel(Buffer.from('hello, this is not a model'), 'text.onnx')).toThrow(InputError);
    // Valid protobuf, no graph.
    expect(() => decodeModel(onnx.ModelProto.encode({ irVersion: 8 }).finish(), 'nograph.onnx')).toThrow(/no graph/);
  });

  test('loadModel: missing file → InputError; saveModel is atomic and loadable', () => {
    const dir = tmpDir();
    expect(() => loadModel(path.join(dir, 'nope.onnx'))).toThrow(/file not found/);
    const file = path.join(dir, 'sub', 'm.onnx');
    saveModel(convReluConvRelu(), file);
    expect(fs.readdirSync(path.dirname(file))).toEqual(['m.onnx']);
    expect(loadModel(file).graph!.node).toHaveLength(4);
  });

  test('external data is inlined and the in-memory model runs in onnxruntime like the inline one', async () => {
    const dir = tmpDir();
    const inline = convReluConvRelu();
    const ext = convReluConvRelu();
    const w1 = externalize(ext, 'w1', 'weights.bin', 0);
    const w2 = externalize(ext, 'w2', 'weights.bin', 512);
    const bin = new Uint8Array(512 + w2.length);
    bin.set(w1, 0);
    bin.set(w2, 512);
    fs.writeFileSync(path.join(dir, 'weights.bin'), bin);
    saveModel(ext, path.join(dir, 'ext.onnx'));

    const loaded = loadModel(path.join(dir, 'ext.onnx'));
    const w = loaded.graph!.initializer!.find((t) => t.name === 'w2')!;
    expect(w.dataLocation).toBe(onnx.TensorProto.DataLocation.DEFAULT);
    expect(tensorToFloat32(w)).toEqual(seeded(108, 3));

    const x = { data: seeded(2 * 2 * 5 * 6, 9), dims: [2, 2, 5, 6] };
    const a = await createSession(encodeModel(inline), { device: 'cpu', threads: 1 });
    const b = await createSession(encodeModel(loaded), { device: 'cpu', threads: 1 });
    const ya = (await a.run({ x })).y;
    const yb = (await b.run({ x })).y;
    expect(yb.data).toBeCloseToArray(ya.data, { atol: 0 });
    await a.release();
    await b.release();
  });

  test.each([
    ['../x.bin', /outside the model's folder/],
    ['sub/../../x.bin', /outside the model's folder/],
    ['/etc/passwd', /absolute paths are not allowed/],
    ['C:\\weights.bin', /absolute paths are not allowed/],
    ['missing.bin', /not found/],
  ])('external data location %s is refused', (location, why) => {
    const root = tmpDir();
    const dir = path.join(root, 'model');
    fs.mkdirSync(dir);
    fs.writeFileSync(path.join(root, 'x.bin'), new Uint8Array(4096));
    const m = convReluConvRelu();
    externalize(m, 'w1', location);
    saveModel(m, path.join(dir, 'm.onnx'));
    let err: unknown;
    try {
      loadModel(path.join(dir, 'm.onnx'));
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(InputError);
    expect((err as Error).message).toMatch(why);
  });

  test('external data: a symlink out of the folder, a too-short file and a length that disagrees with the dims are refused', () => {
    const root = tmpDir();
    const dir = path.join(root, 'model');
    fs.mkdirSync(dir);
    fs.writeFileSync(path.join(root, 'outside.bin'), new Uint8Array(4096));
    fs.symlinkSync(path.join(root, 'outside.bin'), path.join(dir, 'link.bin'));
    fs.writeFileSync(path.join(dir, 'short.bin'), new Uint8Array(100));
    fs.writeFileSync(path.join(dir, 'big.bin'), new Uint8Array(4096));
    const cases: Array<[string, number, number | undefined, RegExp]> = [
      ['link.bin', 0, undefined, /outside the model's folder/],
      ['short.bin', 0, undefined, /has 100/],
      ['big.bin', 4000, undefined, /has 4096/],
      ['big.bin', 0, 100, /does not match its dims/],
    ];
    cases.forEach(([location, offset, length, why], i) => {
      const m = convReluConvRelu();
      externalize(m, 'w1', location, offset, length);
      const file = path.join(dir, `m${i}.onnx`);
      saveModel(m, file);
      expect(() => loadModel(file)).toThrow(why);
    });
  });
});

describe('a TF.js model.json given where ONNX is read', () => {
  const json = new TextEncoder().encode('\uFEFF  {"format": "layers-model", "modelTopology": {}}');
  it('is named as JSON, with the command that converts it (both readers)', () => {
    expect(() => decodeModel(json, 'model.json')).toThrow(/model\.json: .*; it is JSON — a TF\.js model\.json\? `onnxtune convert model\.json model\.onnx`/);
    expect(() => readOnnxSummary(json)).toThrow(/not an ONNX model .*; it is JSON — a TF\.js model\.json\?/);
  });
  it('other garbage gets no such hint', () => {
    expect(() => decodeModel(Uint8Array.of(0xff, 0xff, 0xff), 'x.onnx')).toThrow(/^(?!.*JSON).*x\.onnx/);
  });
});

describe('other files handed over as ONNX are named for what they are', () => {
  const text = (t: string) => new TextEncoder().encode(t);
  const bytes = (...b: number[]) => Uint8Array.from([...b, 1, 2, 3, 4, 5, 6, 7, 8]);
  const cases: Array<[string, Uint8Array, RegExp]> = [
    ['Git LFS pointer', text('version https://git-lfs.github.com/spec/v1\noid sha256:4d7a…\nsize 1092219\n'), /Git LFS pointer.*git lfs pull/],
    ['saved error page', text('<!DOCTYPE html><html><body>Sign in</body></html>'), /HTML\/XML page.*Download the \.onnx file itself/],
    ['job YAML', text('# my job\nname: x\ndata: { source: mnist }\n'), /YAML job file — `onnxtune run <job\.yaml>`/],
    ['other text', text('hello\n'), /a text file, not a model/],
    ['PNG', bytes(0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a), /a PNG image.*onnxtune denoise/],
    ['JPEG', bytes(0xff, 0xd8, 0xff, 0xe0, 0, 0x10), /a JPEG image/],
    ['WebP', Uint8Array.from([...text('RIFF'), 0, 0, 0, 0, ...text('WEBPVP8 ')]), /a WebP image/],
    ['PyTorch zip', bytes(0x50, 0x4b, 0x03, 0x04, 0x14, 0), /zip archive — a PyTorch checkpoint.*torch\.onnx\.export/],
    ['pickle', bytes(0x80, 0x02, 0x8a, 0x0a), /Python pickle.*torch\.onnx\.export/],
    ['Keras h5', bytes(0x89, 0x48, 0x44, 0x46, 0x0d, 0x0a, 0x1a, 0x0a, 0), /HDF5.*tf2onnx/],
    ['TFLite', Uint8Array.from([0x1c, 0, 0, 0, ...text('TFL3'), 0, 0, 0x12, 0]), /TensorFlow Lite.*--tflite/],
    ['gzip', bytes(0x1f, 0x8b, 0x08, 0), /gzip-compressed/],
    ['safetensors', Uint8Array.from([0x20, 0, 0, 0, 0, 0, 0, 0, ...text('{"w":{"dtype":"F32"}}')]), /safetensors/],
  ];
  for (const [name, data, hint] of cases) {
    it(`${name}: both readers say so`, () => {
      expect(() => decodeModel(data, 'model.onnx')).toThrow(hint);
      expect(() => readOnnxSummary(data)).toThrow(hint);
    });
  }
  it('random binary gets no hint', () => {
    expect(notOnnxHint(Uint8Array.of(0x12, 0x34, 0x00, 0x9a, 0xfe, 0x07))).toBe('');
  });
});
