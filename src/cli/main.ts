/**
 * The `onnxtune` command line: a non-singleton yargs with an explicit command list. Errors are
 * printed as one line (stack with --verbose); exit codes: 0 ok, 1 failure while working,
 * 2 usage/config/input error.
 */
import yargs, { type Argv, type MiddlewareFunction } from 'yargs';
import { exitCodeOf, OnnxtuneError, UsageError } from '../errors';
import { LOG_LEVELS, setLogLevel, type LogLevel } from '../log';
import { ONNXTUNE_VERSION } from '../version';
import { convertCommand } from './commands/convert';
import { demoCommand } from './commands/demo';
import { denoiseCommand } from './commands/denoise';
import { exportWebCommand } from './commands/export-web';
import { finetuneCommand } from './commands/finetune';
import { evalCommand } from './commands/eval';
import { inspectCommand } from './commands/inspect';
import { modelsCommand } from './commands/models';
import { pretrainCommand } from './commands/pretrain';
import { quantizeCommand } from './commands/quantize';
import { runCommand } from './commands/run';
import { schemaCommand } from './commands/schema';
import { verifyModelsCommand } from './commands/verify-models';
import { webCommand } from './commands/web';
import { printError, setJsonOutput } from './output';

export interface GlobalArgs {
  'log-level'?: LogLevel;
  verbose?: boolean;
  json?: boolean;
}

/**
 * A single-value option given twice comes out of yargs as an array (`--data a --data b`), which the command would
 * then fail on with a type error far from the cause; this names the option instead. Array options are left alone.
 */
function rejectRepeatedOptions(args: Record<string, unknown>, y: { getOptions(): { array: string[] } }): void {
  // yargs also sets the camelCase key of a dashed option (`--input-shape` → inputShape), which is an array option too.
  const camel = (k: string) => k.replace(/-([a-z0-9])/g, (_, c: string) => c.toUpperCase());
  const arrays = new Set(y.getOptions().array.flatMap((k) => [k, camel(k)]));
  for (const [key, value] of Object.entries(args)) {
    if (key === '_' || key.length < 2 || !Array.isArray(value) || arrays.has(key)) continue;
    throw new UsageError(`--${key} takes one value, given ${value.length} (${value.join(', ')}); run the command once per value`);
  }
}

export function buildCli(argv: string[]): Argv<GlobalArgs> {
  return yargs(argv)
    .scriptName('onnxtune')
    .usage('$0 <command> [options]\n\nTrain a TensorFlow.js denoising decoder on a frozen ONNX encoder and export both as one ONNX model.')
    .option('log-level', { choices: LOG_LEVELS, describe: 'console log level (default info; env ONNXTUNE_LOG_LEVEL)' })
    .option('verbose', { type: 'boolean', describe: 'debug logging and stack traces on errors' })
    .option('json', { type: 'boolean', describe: 'print results as JSON on stdout (logs stay on stderr)' })
    .middleware(rejectRepeatedOptions as unknown as MiddlewareFunction<GlobalArgs>, true)
    .middleware((a) => {
      if (a.verbose) setLogLevel('debug');
      else if (a['log-level']) setLogLevel(a['log-level']);
      setJsonOutput(Boolean(a.json));
    })
    .command(runCommand)
    .command(demoCommand)
    .command(pretrainCommand)
    .command(inspectCommand)
    .command(evalCommand)
    .command(denoiseCommand)
    .command(modelsCommand)
    .command(finetuneCommand)
    .command(schemaCommand)
    .command(convertCommand)
    .command(quantizeCommand)
    .command(verifyModelsCommand)
    .command(webCommand)
    .command(exportWebCommand)
    // `onnxtune completion >> ~/.bashrc` (or ~/.zshrc); yargs answers the shell's completion queries itself.
    .completion('completion', 'print a bash/zsh completion script: onnxtune completion >> ~/.bashrc')
    .demandCommand(1, 'choose a command (see --help)')
    .recommendCommands()
    .strict()
    .version(ONNXTUNE_VERSION)
    .help()
    .alias('h', 'help')
    .wrap(Math.min(120, process.stdout.columns || 100))
    .epilogue('Job files: configs/README.md. Each run writes runs/<job>-<timestamp>/ with one folder per stage.')
    .exitProcess(false)
    .fail((msg, err) => {
      // yargs reports usage problems as a message; errors thrown by our handlers keep their own type and exit code.
      if (err instanceof OnnxtuneError || (err && !msg)) throw err;
      throw new UsageError(msg || (err as Error).message);
    }) as Argv<GlobalArgs>;
}

/** Runs the CLI; resolves to the process exit code. */
export async function main(argv: string[]): Promise<number> {
  const verbose = argv.includes('--verbose');
  try {
    await buildCli(argv).parseAsync();
    return 0;
  } catch (err) {
    printError(err, verbose);
    if (err instanceof UsageError) process.stderr.write('Run with --help for usage.\n');
    return exitCodeOf(err);
  }
}
