/** `npm run bench`: every benchmark in turn; each prints its table and writes bench/results/<name>.json. */
import { formatDemoBench, runDemoBench } from './demo-quality';
import { formatTfBenchTable, runTfBackendsBench } from './tf-backends';

async function main(): Promise<void> {
  process.stdout.write(formatTfBenchTable(runTfBackendsBench()) + '\n\n');
  process.stdout.write(formatDemoBench(await runDemoBench()) + '\n');
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
