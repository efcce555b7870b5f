/** configs/schema.json and the field table in configs/README.md match the zod schema. */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { jobFieldTable, jobJsonSchema } from '../../../src/config/json-schema';
import { ROOT } from '../../helpers/jobs';

describe('generated config docs', () => {
  it('configs/schema.json is up to date (regenerate: onnxtune schema --out configs/schema.json)', () => {
    const stored = JSON.parse(fs.readFileSync(path.join(ROOT, 'configs', 'schema.json'), 'utf8'));
    expect(stored).toEqual(JSON.parse(JSON.stringify(jobJsonSchema())));
  });

  it('configs/README.md lists every field (regenerate: onnxtune schema --markdown)', () => {
    const readme = fs.readFileSync(path.join(ROOT, 'configs', 'README.md'), 'utf8');
    const table = /<!-- fields:begin -->\n([\s\S]*?)\n<!-- fields:end -->/.exec(readme)?.[1];
    expect(table).toBe(jobFieldTable());
  });
});
