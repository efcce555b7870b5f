/** `npm run bench`: every benchmark in turn; each prints its table and writes bench/results/<name>.json. */
import { formatDemoBench, runDemoBench } from './demo-quality';
import { formatDenoiseLarge, runDenoiseLargeBench } from './denoise-large';
import { formatFeaturizeBench, runFeaturizeBench } from './featurize';
import { dncnnReference, findExportedModels, formatInference, runInferenceBench } from './inference';
import { formatTfBenchTable, runTfBackendsBench } from './tf-backends';
import { defaultIdxFile, formatTutorialBench, runTutorialBench } from './tutorial-autoencoders';
import * as fs from 'node:fs';

async function main(): Promise<void> {
  process.stdout.write(formatTfBenchTable(runTfBackendsBench()) + '\n\n');
  process.stdout.write(formatFeaturizeBench(await runFeaturizeBench()) + '\n\n');
  process.stdout.write(formatDemoBench(await runDemoBench()) + '\n\n');
  const idxFile = defaultIdxFile();
  if (fs.existsSync(idxFile)) {
    process.stdout.write(formatTutorialBench(await runTutorialBench({ models: ['dense', 'conv-bce'], seeds: 1, epochs: 20, idxFile })) + '\n\n');
  } else {
    process.stdout.write(`tutorial-autoencoders skipped: ${idxFile} not found\n\n`);
  }
  // The inference bench needs exported models (runs/<job>/export/*.onnx) and compares them with DnCNN.
  const exported = findExportedModels();
  const dncnn = dncnnReference();
  if (exported.length) {
    const reference = fs.existsSync(dncnn) ? dncnn : undefined;
    process.stdout.write(formatInference(runInferenceBench(exported, reference)) + '\n');
  } else {
    process.stdout.write('inference skipped: no exported model under runs/*/export/ (run a job first)\n');
  }
  // denoise-large: the newest runs/<run>/export/*.onnx, else a quick demo export made for it.
  process.stdout.write('\n' + formatDenoiseLarge(await runDenoiseLargeBench()) + '\n');
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
