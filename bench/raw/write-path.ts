// The raw write path, without Herald around it: how fast each schema variant stores Altinn-shaped events,
// durably, in batches, into a log that already holds many. See bench/raw/README.md.
//
//   node --import tsx bench/raw/write-path.ts --engine sqlite --variant today,id-source --log 200000 --batch 100
import { mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { runPostgres } from './postgres-writer.js';
import type { RunOptions, RunResult } from './run-options.js';
import { runSqlite } from './sqlite-writer.js';
import { variants } from './variants.js';

const { values } = parseArgs({
  options: {
    engine: { type: 'string', default: 'sqlite,postgres' },
    variant: { type: 'string', default: 'today' },
    log: { type: 'string', default: '200000' },
    events: { type: 'string', default: '50000' },
    batch: { type: 'string', default: '100' },
    checkpoint: { type: 'string', default: 'auto' },
    autocheckpoint: { type: 'string', default: '1000' },
    'cache-kib': { type: 'string' },
    'page-size': { type: 'string', default: '4096' },
    concurrency: { type: 'string', default: '1' },
    via: { type: 'string', default: 'append' },
    repeat: { type: 'string', default: '1' },
    'pg-options': { type: 'string', default: '' },
    dir: { type: 'string', default: process.env.HERALD_RAW_BENCH_DIR ?? join(tmpdir(), 'herald-raw-bench') },
    postgres: { type: 'string', default: process.env.HERALD_TEST_POSTGRES_URL || 'postgres://postgres@127.0.0.1:5432/test' },
  },
});

const list = (value: string) => value.split(',').filter((v) => v !== '');
const wanted = list(values.variant).map((name) => {
  const variant = variants.find((v) => v.name === name);
  if (!variant) throw new Error(`No variant ${name}: ${variants.map((v) => v.name).join(', ')}`);
  return variant;
});
mkdirSync(values.dir, { recursive: true });

function line(engine: string, variant: string, options: RunOptions, result: RunResult): string {
  const rate = Math.round(result.stored / (result.insertMs / 1000));
  const withCheckpoint = Math.round(result.stored / ((result.insertMs + result.checkpointMs) / 1000));
  const perEvent = (bytes: number) => `${(bytes / result.stored / 1024).toFixed(1)} KiB/event`;
  const facts = [
    `${engine} ${variant}`,
    `log ${options.logSize}`,
    `batch ${options.batch}${engine === 'postgres' ? ` x${options.concurrency} ${options.via} ${options.sessionOptions}` : ` ckpt ${options.checkpoint}${options.pageSize === 4096 ? '' : ` page ${options.pageSize}`}`}`,
    `${rate} events/s`,
    options.checkpoint === 'deferred' && engine === 'sqlite' ? `${withCheckpoint} with checkpoint (${Math.round(result.checkpointMs)} ms)` : '',
    `cpu ${((result.cpuMs / result.stored) * 1000).toFixed(0)} us/event`,
    `written ${perEvent(result.bytesWritten)}`,
    result.fullPageImages === undefined ? '' : `fpi ${(result.fullPageImages / result.stored).toFixed(2)}/event, misses ${((result.blocksRead ?? 0) / result.stored).toFixed(2)}/event, ${result.checkpoints} checkpoints`,
    `setup ${Math.round(result.setupMs)} ms`,
  ];
  return facts.filter((f) => f !== '').join(' | ');
}

for (const logSize of list(values.log).map(Number)) {
  for (const batch of list(values.batch).map(Number)) {
    const options: RunOptions = {
      logSize,
      batch,
      events: Number(values.events),
      checkpoint: values.checkpoint === 'deferred' ? 'deferred' : 'auto',
      autocheckpointPages: Number(values.autocheckpoint),
      pageSize: Number(values['page-size']),
      cacheKib: values['cache-kib'] === undefined ? undefined : Number(values['cache-kib']),
      concurrency: Number(values.concurrency),
      via: values.via === 'insert' ? 'insert' : 'append',
      sessionOptions: values['pg-options'],
    };
    for (let round = 0; round < Number(values.repeat); round++) {
      for (const variant of wanted) {
        for (const engine of list(values.engine)) {
          if (engine === 'sqlite' && variant.sqlite) {
            console.warn(line(engine, variant.name, options, await runSqlite(values.dir, variant.name, variant.sqlite, options)));
          }
          if (engine === 'postgres' && variant.postgres) {
            console.warn(line(engine, variant.name, options, await runPostgres(values.postgres, variant.name, variant.postgres, options)));
          }
        }
      }
    }
  }
}
