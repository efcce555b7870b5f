/**
 * Every job in configs/ validates against the schema. Jobs that read ../shared are checked only
 * where it exists (their paths must resolve), and say so otherwise.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { loadJobConfig } from '../../../src/config/load';
import { ROOT } from '../../helpers/jobs';
import { SHARED_DIR } from '../../helpers/shared-data';

const CONFIGS = fs.readdirSync(path.join(ROOT, 'configs')).filter((f) => f.endsWith('.yaml')).sort();

describe('configs/*.yaml', () => {
  it.each(CONFIGS)('%s is a valid job', (name) => {
    const file = path.join(ROOT, 'configs', name);
    const usesShared = fs.readFileSync(file, 'utf8').includes('shared/');
    if (usesShared && !fs.existsSync(SHARED_DIR)) {
      console.warn(`skipped ${name}: it reads ${SHARED_DIR}, which is absent`);
      return;
    }
    const job = loadJobConfig(file);
    expect(job.name).toBe(path.basename(name, '.yaml'));
  });
});
