/** `onnxtune schema`: print (or write) the JSON Schema of job files. */
import type { Argv, CommandModule } from 'yargs';
import { jobFieldTable, jobJsonSchema } from '../../config/json-schema';
import * as fs from 'node:fs';
import { InputError } from '../../errors';
import { writeFileAtomic, writeJsonAtomic } from '../../io/atomic';
import { printResult } from '../output';
import type { GlobalArgs } from '../main';

interface SchemaArgs extends GlobalArgs {
  out?: string;
  markdown?: boolean;
  'update-readme'?: string;
}

export const schemaCommand: CommandModule<GlobalArgs, SchemaArgs> = {
  command: 'schema',
  describe: 'Print the JSON Schema of job files (every field with its type, default and description)',
  builder: (y) =>
    y
      .option('out', { type: 'string', describe: 'write it to this file instead (configs/schema.json is generated this way)' })
      .option('markdown', { type: 'boolean', describe: 'print a markdown table of every field instead (as in configs/README.md)' })
      .option('update-readme', {
        type: 'string',
        describe: 'replace the field table between <!-- fields:begin --> and <!-- fields:end --> in this markdown file',
      })
      .example('$0 schema --out configs/schema.json', 'regenerate the schema used by editors') as Argv<SchemaArgs>,
  handler: (args) => {
    if (args['update-readme']) {
      const file = args['update-readme'];
      const text = fs.readFileSync(file, 'utf8');
      const re = /(<!-- fields:begin -->\n)[\s\S]*?(\n<!-- fields:end -->)/;
      if (!re.test(text)) throw new InputError(file, 'no <!-- fields:begin --> … <!-- fields:end --> markers');
      writeFileAtomic(file, text.replace(re, (_m, a: string, b: string) => a + jobFieldTable() + b));
      printResult(`Updated ${file}`, { file });
      return;
    }
    if (args.markdown) {
      process.stdout.write(jobFieldTable() + '\n');
      return;
    }
    const schema = jobJsonSchema();
    if (args.out) {
      writeJsonAtomic(args.out, schema);
      printResult(`Wrote ${args.out}`, { file: args.out });
    } else {
      process.stdout.write(JSON.stringify(schema, null, 2) + '\n');
    }
  },
};
