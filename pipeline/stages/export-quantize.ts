/**
 * The export stage's int8 option (`export.quantize: int8`): static QDQ quantization of the
 * combined model, calibrated on noisy images of the training split (the inputs the model was
 * trained on), written next to the float model as `<file>.int8.onnx`.
 */
import * as fs from 'node:fs';
import type { FloatTensor } from '../../src/backends/ort';
import type { JobConfig } from '../../src/config/schema';
import { readNpy } from '../../src/io/npy';
import { log } from '../../src/log';
import { saveModel } from '../../src/onnx/model-io';
import type { ModelProto } from '../../src/onnx/proto';
import { nhwcToNchw } from '../../src/tensor/layout';
import { quantizeStatic } from '../../converters/quantize-static';
import { dataFiles, exportedModelFile, type DatasetManifest } from '../artifacts';

/** `denoiser.onnx` → `denoiser.int8.onnx`. */
export const int8FileName = (file: string) => file.replace(/\.onnx$/, '.int8.onnx');

/** Up to `samples` noisy training images (first realization of each), as [1, C, H, W] feeds of `input`. */
export function calibrationFeeds(dataDir: string, manifest: DatasetManifest, input: string, samples: number): Record<string, FloatTensor>[] {
  const feeds: Record<string, FloatTensor>[] = [];
  const C = manifest.channels;
  for (const g of manifest.splits.train) {
    const noisy = readNpy(dataFiles(dataDir, 'train', g.id).noisy).data as Float32Array;
    const per = g.height * g.width * C;
    for (let i = 0; i < g.count && feeds.length < samples; i++) {
      const hwc = noisy.subarray(i * per, (i + 1) * per);
      feeds.push({ [input]: { data: nhwcToNchw(hwc, 1, g.height, g.width, C), dims: [1, C, g.height, g.width] } });
    }
    if (feeds.length >= samples) break;
  }
  return feeds;
}

/** Writes the int8 model of `model` into `outDir`; returns what the stage records. */
export async function exportInt8(model: ModelProto, job: JobConfig, dataDir: string, manifest: DatasetManifest, input: string, outDir: string) {
  const samples = job.export.calibration?.samples ?? 32;
  const method = job.export.calibration?.method ?? 'percentile';
  const feeds = calibrationFeeds(dataDir, manifest, input, samples);
  const { model: q, report } = await quantizeStatic(model, feeds, {
    method,
    calibration: { source: `${job.name} train split`, samples: feeds.length, noise: manifest.noise },
  });
  const name = int8FileName(job.export.file);
  const file = exportedModelFile(outDir, name);
  saveModel(q, file);
  const bytes = fs.statSync(file).size;
  log.info(`Exported ${name}: ${report.quantized.length} int8 convs, ${report.keptFloat.length} float, ${(bytes / 1024).toFixed(0)} KiB (${method}, ${feeds.length} samples)`);
  return { file: name, bytes, method, samples: feeds.length, int8Convs: report.quantized.length, floatConvs: report.keptFloat.length };
}
